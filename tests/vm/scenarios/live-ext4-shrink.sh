# vm: mode=busybox disks=5 size=128M scratch=512M timeout=900 needs=reshaped
# live-ext4-start for a shrink: raid5 (1.2 metadata, 5 x 127 MiB) cut with
# `mdadm --grow --array-size` to what 3 data disks hold (as an admin does
# after shrinking the filesystem), ext4 made on that and mounted, vm-fswriter
# running through `reshaped start --raid-devices 4`. The shrink runs
# backwards; its last units (the lowest member offsets, where ext4 keeps
# its superblock, group descriptors and journal) only the backup protects
# while the filesystem writes. No writer stall over $live_stall_ms, no
# risk in those units (vm_probe_risk), e2fsck clean, every fsynced file as
# the manifest says.
. "$VM_LIB"
set -u

seed=7107
export RESHAPED_STATE_DIR=$VM_SCRATCH/state
VM_LIVE_ARRAY_KIB=$((3 * 127 * 1024))
vm_live_reshape ext4 5 "--level=5 --metadata=1.2 --size=$((127 * 1024))" "$seed" \
        "--raid-devices 4" "raid_disks=4" "reshaped start shrink 5 -> 4 disks"
