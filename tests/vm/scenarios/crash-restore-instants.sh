# vm: mode=busybox disks=4 size=128M scratch=512M timeout=1200 needs=reshaped
# Power cuts at the instants of a recovery, each followed by another
# `reshaped restore`: raid5 (1.2, 4 x 95 MiB), chunk 64K -> 128K under
# `reshaped start`, cut right after a sync_max raise past 45% (the kernel
# inside the new window, beyond its checkpoint: the write-back has torn
# data to repair); then during restore's write-back; 0.3 s after the next
# restore resumed the kernel; at 90%. The fifth boot's restore finishes:
# exit 0, chunk 128K, every byte verified.
# (vm_crash_start, vm_restore_cut in lib.sh.)
. "$VM_LIB"
set -u

export RESHAPED_STATE_DIR=$VM_SCRATCH/state
vm_crash_start 4 "--level=5 --metadata=1.2 --size=$((95 * 1024))" 7301 "raise:45 writeback resumed 90"
