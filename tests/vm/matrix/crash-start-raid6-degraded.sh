# vm: mode=busybox disks=5 size=128M scratch=512M timeout=900 needs=reshaped
# Crash matrix: a degraded raid6 (0.90, 5 x 127 MiB, one member missing)
# chunk change under reshaped start, power cuts at 30% and 70%, each
# restored with the four members left.
. "$VM_LIB"
set -u
export RESHAPED_STATE_DIR=$VM_SCRATCH/state
VM_CRASH_DEGRADED=1
vm_crash_start 5 "--level=6 --metadata=0.90 --size=$((127 * 1024))" 6110 "30 70"
