# vm: mode=busybox disks=5 size=128M scratch=512M timeout=900 needs=reshaped
# Crash matrix: a degraded raid6 (0.90, 5 x 127 MiB, one member failed,
# removed and wiped after the fill) chunk change 64K -> 128K. `reshaped
# start` refuses a degraded array, mdadm does not: `mdadm --grow
# --chunk=128 --backup-file` starts it and reshaped takes it over at once
# (what mdadm's hand-off unit runs with the drop-in). Power cuts at 30%
# and 70%, each restored from the four members left; every byte verified.
. "$VM_LIB"
set -u
export RESHAPED_STATE_DIR=$VM_SCRATCH/state
VM_CRASH_DEGRADED=1
VM_CRASH_GROW="--chunk=128"
VM_MATRIX="raid6 on 5 (degraded), mdadm --grow --chunk=128 taken over|0.90|qemu killed|30%, 70%|reshaped|reshaped restore"
vm_crash_start 5 "--level=6 --metadata=0.90 --size=$((127 * 1024))" 6110 "30 70"
