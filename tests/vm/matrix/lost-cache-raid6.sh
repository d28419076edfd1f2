# vm: mode=busybox disks=18 size=256M timeout=900 needs=reshaped
# Crash matrix, lost caches: raid6 on 5 (0.90, 5 x 39 MiB), chunk 64K ->
# 128K under `reshaped start`; past 60%, while the next window is being
# backed up, the backup disk loses power, the members later
# (vm_crash_lost_cache).
. "$VM_LIB"
set -u

vm_crash_lost_cache 5 "--level=6 --metadata=0.90 --size=$((39 * 1024))" 7206 "window 60"
