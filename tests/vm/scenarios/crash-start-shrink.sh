# vm: mode=busybox disks=5 size=128M scratch=512M timeout=900 needs=reshaped
# A power cut during a shrink that reshaped supervises: raid5 (0.90
# metadata, 5 x 127 MiB) reduced to what 3 data disks hold, then shrunk to
# 4 members with `reshaped start --raid-devices 4`. The shrink runs
# backwards; raid5 protects its bulk by itself and only its last units
# (the lowest member offsets) need the backup. The first cut at 50%,
# where the backup holds no section; the second inside the last units,
# as soon as the supervisor lets the kernel into them (raise:95: the last
# window is backed up to the end and released with sync_max=max; md held
# to 1 KiB/s while it is parked before that window, and the cut 1.5 s
# after the release, a few stripes in, each checkpointed). Where that
# checkpoint splits an old stripe md would hold restore's write-back, so
# restore writes it onto the members in the old layout. After each cut `reshaped restore`
# must bring the array back and finish it: 4 members, the reduced size,
# every byte matches the pattern, nothing left. (vm_crash_start.)
. "$VM_LIB"
set -u

export RESHAPED_STATE_DIR=$VM_SCRATCH/state
VM_CRASH_ARRAY_DISKS=3
VM_CRASH_CHANGE="--raid-devices 4"
VM_CRASH_EXPECT="raid_disks=4"
VM_CRASH_FINAL_MAX=1
LW_CREEP_KIB=1
VM_CUT_RAISE_DELAY=1.5
vm_crash_start 5 "--level=5 --metadata=0.90 --size=$((127 * 1024))" 6107 "50 raise:95"
