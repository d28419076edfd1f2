# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# Crash matrix: raid5 (1.2, 4 x 127 MiB) chunk change under reshaped start,
# power cuts at 0% (the first window) and 98% (the last ones), each restored.
. "$VM_LIB"
set -u
export RESHAPED_STATE_DIR=$VM_SCRATCH/state
vm_crash_start 4 "--level=5 --metadata=1.2 --size=$((127 * 1024))" 6109 "0 98"
