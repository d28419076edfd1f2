# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# Crash matrix, a known gap: a power cut inside a grow's critical units
# (raid5 1.2, 3 -> 4 disks under reshaped start, the kernel slowed to 256
# KiB/s, cut as soon as it shows a front). The backup holds the units, but
# md refuses to start a grow whose reshape_position lies in them ("too
# early for auto-recovery"), and reshaped restore cannot yet move the
# position the superblocks record; it says so and points at mdadm
# --assemble --backup-file. Fails until it can.
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
