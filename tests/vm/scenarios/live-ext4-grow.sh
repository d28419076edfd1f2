# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# live-ext4-start for a grow: ext4 mounted on raid5 (1.2 metadata, 3 x 127
# MiB and a spare) under vm-fswriter through `reshaped start --raid-devices
# 4`, whose first units only the backup protects while the filesystem
# writes. No writer stall over $live_stall_ms, no risk in the first units
# (vm_probe_risk), e2fsck clean, every
# fsynced file as the manifest says.
. "$VM_LIB"
set -u

seed=7103
export RESHAPED_STATE_DIR=$VM_SCRATCH/state
VM_LIVE_SPARES=1
vm_live_reshape ext4 3 "--level=5 --metadata=1.2 --size=$((127 * 1024))" "$seed" \
        "--raid-devices 4" "raid_disks=4" "reshaped start grow 3 -> 4 disks"
