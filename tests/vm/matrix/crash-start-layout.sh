# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# Crash matrix: raid5 (1.2, 4 x 127 MiB) left-symmetric -> right-asymmetric
# under reshaped start, power cuts at 40% and, past 70%, with a
# read-ahead in flight, each restored.
. "$VM_LIB"
set -u
export RESHAPED_STATE_DIR=$VM_SCRATCH/state
VM_CRASH_CHANGE="--layout right-asymmetric"
VM_CRASH_EXPECT="layout=1"
vm_crash_start 4 "--level=5 --layout=left-symmetric --metadata=1.2 --size=$((127 * 1024))" 6108 "40 readahead:70"
