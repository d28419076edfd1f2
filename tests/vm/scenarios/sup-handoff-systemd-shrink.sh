# vm: mode=systemd disks=5 size=256M scratch=1G timeout=900 needs=reshaped
# mdadm's systemd hand-off of a shrink: raid5 (0.90 metadata, 5 x 255 MiB,
# chunk 512K) reduced to what 3 data disks hold, then `mdadm --grow
# --raid-devices=4 --backup-file`, routed by the drop-in to `reshaped
# supervise` (vm_handoff checks the service and the journal). The shrink
# runs backwards; its critical units are its last, which reshaped backs
# up. Passes when the array has 4 members, every byte of the reduced
# array matches the pattern, and from the take-over on the kernel never
# overwrote critical data no backup held (vm_probe_risk).
. "$VM_LIB"
set -u

seed=5525
backup=$VM_SCRATCH/md0.backup

vm_wait_booted
vm_array_filled 5 5 512 "$seed" 3

vm_handoff fast md0 "$backup" --raid-devices=4

[ "$(md_attr md0 raid_disks)" = 4 ] || vm_fail "raid_disks is $(md_attr md0 raid_disks) after the shrink, not 4"
backed=$(journalctl -u mdadm-grow-continue@md0.service --no-pager -o cat | sed -n 's/.*finished in [0-9.]* s; \(.*\) backed up.*/\1/p')
vm_log "reshaped backed up ${backed:-?} of the shrink's critical units"
vm_takeover_verify "hand-off shrink 5 -> 4" "$seed" 0
