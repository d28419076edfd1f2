# vm: mode=systemd disks=5 size=256M scratch=1G timeout=900 needs=reshaped
# mdadm's systemd hand-off of a level change: raid5 (0.90 metadata, 4 x
# 255 MiB, chunk 64K) plus a spare, `mdadm --grow --level=6
# --raid-devices=5 --backup-file`. mdadm first takes the array over to a
# raid6 whose Q is all on the new disk (left-symmetric-6), then starts the
# reshape to a normal raid6 layout with the same 3 data disks, and hands
# it to mdadm-grow-continue@md0, which the drop-in routes to `reshaped
# supervise` (vm_handoff checks the service and the journal). Passes when
# the array is raid6 on 5 disks of the same size, every byte matches the
# pattern, and from the take-over on the kernel never ran beyond the
# backup (vm_probe_risk).
. "$VM_LIB"
set -u

seed=5383
backup=$VM_SCRATCH/md0.backup

vm_wait_booted
vm_array_filled 5 4 64 "$seed"
vm_run mdadm /dev/md0 --add "$(vm_disk 4)"

vm_handoff fast md0 "$backup" --level=6 --raid-devices=5

[ "$(md_attr md0 level)" = raid6 ] || vm_fail "level is $(md_attr md0 level), not raid6"
[ "$(md_attr md0 raid_disks)" = 5 ] || vm_fail "raid_disks is $(md_attr md0 raid_disks), not 5"
[ "$(vm_size_bytes /dev/md0)" = "$size" ] || vm_fail "the array size changed: $size -> $(vm_size_bytes /dev/md0)"
vm_takeover_verify "hand-off raid5 -> raid6" "$seed" 0
