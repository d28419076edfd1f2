# vm: mode=systemd disks=5 size=128M scratch=512M timeout=600 needs=reshaped
# mdadm's systemd hand-off of raid5 -> raid6 on 1.2 metadata (the 0.90
# case is sup-handoff-systemd-level): a raid5 of 4 (127 MiB each) plus a
# spare, `mdadm --grow --level=6 --raid-devices=5 --backup-file`; mdadm
# takes it over to raid6 in left-symmetric-6 on the spare, then hands the
# reshape to a normal raid6 to `reshaped supervise` (the drop-in). Passes
# when it is raid6, left-symmetric, on 5 disks, no spare (the superblocks
# too), the size unchanged, every byte matches the pattern, a check finds
# mismatch_cnt 0, the kernel never ran beyond the backup, the service
# ended successfully, and no process, backup, /run/mdadm link or record is
# left.
. "$VM_LIB"
set -u

seed=6619
backup=$VM_SCRATCH/md0.backup

vm_wait_booted
vm_level_array 1.2 5 4 "$seed"
vm_run mdadm /dev/md0 --add "$(vm_disk 4)"
vm_handoff fast md0 "$backup" --level=6 --raid-devices=5
vm_takeover_verify "hand-off raid5 -> raid6 (1.2)" "$seed" 0
vm_level_end "hand-off raid5 -> raid6 (1.2)" raid6 5 2 0 "$seed" "$backup"
