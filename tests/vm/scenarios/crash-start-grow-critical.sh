# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# A power cut inside a grow's critical units (raid5 1.2, 3 -> 4 disks under
# reshaped start, the kernel slowed to 256 KiB/s, cut as soon as it shows
# a front). md will not take such a checkpoint over ("reshape_position too
# early for auto-recovery", or a write-back that hangs on the old stripe
# the checkpoint splits): reshaped restore saves what only the old layout
# holds into the backup, writes the units up to a position md restarts
# from in the new layout, and records it in every superblock, as mdadm's
# Grow_restart does. Every byte verified.
. "$VM_LIB"
set -u

export RESHAPED_STATE_DIR=$VM_SCRATCH/state
VM_CRASH_SPARES=1
VM_CRASH_GROWS=1
VM_CRASH_CHANGE="--raid-devices 4"
VM_CRASH_EXPECT="raid_disks=4"
# 1 MiB/s near each cut: the critical units are 384 KiB per member.
VM_CUT_SPEED_KIB=256
vm_crash_start 3 "--level=5 --metadata=1.2 --size=$((127 * 1024))" 6106 "0"
