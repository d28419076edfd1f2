# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# crash-start-grow-critical on 0.90 metadata: a power cut as soon as the
# grow shows a front (raid5, 3 -> 4 disks under reshaped start, the kernel
# slowed to 256 KiB/s). Where md will not take the checkpoint over,
# reshaped restore finishes the first units in the new layout and records
# the new position in the 0.90 superblocks (host-endian, their own
# checksum); where it will, it restores as usual. Every byte verified.
. "$VM_LIB"
set -u

export RESHAPED_STATE_DIR=$VM_SCRATCH/state
VM_CRASH_SPARES=1
VM_CRASH_GROWS=1
VM_CRASH_CHANGE="--raid-devices 4"
VM_CRASH_EXPECT="raid_disks=4"
VM_CUT_SPEED_KIB=256
vm_crash_start 3 "--level=5 --metadata=0.90 --size=$((127 * 1024))" 6107 "0"
