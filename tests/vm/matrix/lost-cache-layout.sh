# vm: mode=busybox disks=15 size=256M timeout=900 needs=reshaped
# Crash matrix, lost caches: raid5 (1.2, 4 x 39 MiB) left-symmetric ->
# right-asymmetric under `reshaped start`; past 40%, while the next window
# is being backed up, the backup disk loses power, the members later
# (vm_crash_lost_cache).
. "$VM_LIB"
set -u

VM_CRASH_CHANGE="--layout right-asymmetric"
VM_CRASH_EXPECT="layout=1"
vm_crash_lost_cache 4 "--level=5 --layout=left-symmetric --metadata=1.2 --size=$((39 * 1024))" 7204 "window 40"
