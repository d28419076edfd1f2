# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# Power cuts during a grow that reshaped supervises: raid5 (1.2 metadata,
# 3 x 127 MiB) grown onto a fourth disk with `reshaped start
# --raid-devices 4`. The first cut at 2%, the kernel slowed, just past the
# critical units only the backup protects (a cut inside them is
# tests/vm/matrix/crash-start-grow-critical.sh: md refuses to start the
# array there, see the man page); the second at 50%, long after reshaped
# released the kernel (raid5 checkpoints before it overwrites anything
# there). At both the backup holds no section at the position. After each cut `reshaped restore` must bring the array back;
# the boot after the last lets it finish: 4 members, the array grown, and
# every byte of the original size matches the pattern. (vm_crash_start.)
. "$VM_LIB"
set -u

export RESHAPED_STATE_DIR=$VM_SCRATCH/state
VM_CRASH_SPARES=1
VM_CRASH_GROWS=1
VM_CRASH_CHANGE="--raid-devices 4"
VM_CRASH_EXPECT="raid_disks=4"
# 1 MiB/s near each cut: the critical units are 384 KiB per member.
VM_CUT_SPEED_KIB=1024
vm_crash_start 3 "--level=5 --metadata=1.2 --size=$((127 * 1024))" 6106 "2 50"
