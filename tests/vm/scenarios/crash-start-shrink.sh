# vm: mode=busybox disks=5 size=128M scratch=512M timeout=900 needs=reshaped
# A power cut during a shrink that reshaped supervises: raid5 (0.90
# metadata, 5 x 127 MiB) reduced to what 3 data disks hold, then shrunk to
# 4 members with `reshaped start --raid-devices 4`. The shrink runs
# backwards; raid5 protects its bulk by itself and only its last units
# (the lowest member offsets) need the backup. The cut at 50%, where the
# backup holds no section. (A cut inside the last units needs the kernel
# slower than a poll there; not yet reliable.) After the cut
# `reshaped restore` must bring the array back and finish it: 4 members, the reduced size, every byte matches the
# pattern. (vm_crash_start.)
. "$VM_LIB"
set -u

export RESHAPED_STATE_DIR=$VM_SCRATCH/state
VM_CRASH_ARRAY_DISKS=3
VM_CRASH_CHANGE="--raid-devices 4"
VM_CRASH_EXPECT="raid_disks=4"
vm_crash_start 5 "--level=5 --metadata=0.90 --size=$((127 * 1024))" 6107 "50"
