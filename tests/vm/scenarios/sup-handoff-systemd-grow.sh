# vm: mode=systemd disks=4 size=256M scratch=1G timeout=900 needs=reshaped
# mdadm's systemd hand-off of a grow: raid5 (0.90 metadata, so mdadm needs
# the backup file; 3 x 255 MiB, chunk 512K) plus a spare, `mdadm --grow
# --raid-devices=4 --backup-file`, routed by the drop-in to `reshaped
# supervise` (vm_handoff checks the service and the journal). The grow's
# critical units come first, and the kernel would pass them before the
# service has started: it is held at md's lowest speed until mdadm
# returns, so the take-over happens inside them. Passes when the array
# has 4 members and half again its size, every byte of the original size
# matches the pattern, and from the take-over on the kernel never
# overwrote critical data no backup held (vm_probe_risk).
. "$VM_LIB"
set -u

seed=5323
backup=$VM_SCRATCH/md0.backup

vm_wait_booted
vm_array_filled 5 3 512 "$seed"
vm_run mdadm /dev/md0 --add "$(vm_disk 3)"

vm_handoff slow md0 "$backup" --raid-devices=4

[ "$(md_attr md0 raid_disks)" = 4 ] || vm_fail "raid_disks is $(md_attr md0 raid_disks) after the grow, not 4"
[ "$(vm_size_bytes /dev/md0)" = $((size / 2 * 3)) ] ||
        vm_fail "array size $(vm_size_bytes /dev/md0) after the grow, not $((size / 2 * 3))"
vm_takeover_verify "hand-off grow 3 -> 4" "$seed" "@$takeover_row" --length "$size"
