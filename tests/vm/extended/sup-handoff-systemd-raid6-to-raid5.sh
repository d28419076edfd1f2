# vm: mode=systemd disks=5 size=128M scratch=512M timeout=600 needs=reshaped
# mdadm's systemd hand-off of raid6 -> raid5, 0.90 metadata: a raid6 of 5
# (127 MiB each, 3 data disks), `mdadm --grow --level=5 --raid-devices=4
# --backup-file`. mdadm reshapes it to a raid6 with Q all on the last disk
# (left-symmetric-6) and hands it to mdadm-grow-continue@md0, which the
# drop-in routes to `reshaped supervise`. mdadm 4.2 keeps the wanted level
# in memory only, so its own continue service stops there; its forked
# monitor goes on to level=raid5. Passes when reshaped ended it as that
# monitor does: raid5, left-symmetric, 4 disks and the fifth a spare (the
# superblocks too), the size unchanged, every byte matches the pattern, a
# check finds mismatch_cnt 0, the kernel never ran beyond the backup, the
# service ended successfully and logged the level change, and no process,
# backup, /run/mdadm link or record is left.
. "$VM_LIB"
set -u

seed=6607
backup=$VM_SCRATCH/md0.backup

vm_wait_booted
vm_level_array 0.90 6 5 "$seed"
vm_handoff fast md0 "$backup" --level=5 --raid-devices=4
journalctl -u mdadm-grow-continue@md0.service --no-pager -o cat | grep -q 'level changed to raid5 (left-symmetric, 4 disks)' ||
        vm_fail "reshaped logged no level change"
vm_takeover_verify "hand-off raid6 -> raid5 (0.90)" "$seed" 0
vm_level_end "hand-off raid6 -> raid5 (0.90)" raid5 4 2 1 "$seed" "$backup"
