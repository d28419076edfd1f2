# vm: mode=busybox disks=5 size=256M scratch=1G timeout=900 needs=reshaped
# A raid5 shrink from 5 to 4 disks (0.90 metadata, so mdadm must use the
# backup file; 255 MiB members, chunk 512K so that each unit the kernel
# rewrites lasts long enough for the probe to see it): the array is first
# reduced to what 3 data disks hold (mdadm --grow --array-size), filled,
# then `mdadm --grow --raid-devices=4 --backup-file` starts the reshape,
# which runs backwards; mdadm's own monitor (MDADM_NO_SYSTEMCTL=1) is
# killed as soon as mdadm returns and `reshaped supervise` takes over
# (vm_takeover). The risky part of a shrink is its end (the lowest member
# offsets). Passes when the reshape ends with 4 members, every byte of the
# reduced array matches the pattern, and from the take-over on the kernel
# never overwrote data no backup section held (vm_probe_risk).
. "$VM_LIB"
set -u

seed=5505
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

vm_array_filled 5 5 512 "$seed" 3
vm_takeover fast "$backup" --raid-devices=4

disks=$(md_attr md0 raid_disks)
[ "$disks" = 4 ] || vm_fail "raid_disks is '$disks' after the shrink, not 4"
[ "$(vm_size_bytes /dev/md0)" = "$size" ] ||
        vm_fail "array size $(vm_size_bytes /dev/md0) after the shrink, not $size"
vm_takeover_verify "shrink 5 -> 4" "$seed" "@$takeover_row"
