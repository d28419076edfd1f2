# vm: mode=busybox disks=4 size=256M scratch=1G timeout=900 needs=reshaped
# A raid5 grow from 3 to 4 disks (0.90 metadata, so mdadm must use the
# backup file; 255 MiB members, chunk 512K) started by `mdadm --grow
# --raid-devices=4 --backup-file` and then supervised by reshaped: mdadm
# forks its own monitor (MDADM_NO_SYSTEMCTL=1, the busybox hand-off), which
# is killed as soon as mdadm returns, and `reshaped supervise` takes over
# (vm_takeover).
#
# The kernel would pass a grow's critical section (the first few units,
# where new stripes overwrite old data no checkpoint has released) in
# milliseconds; it is held at md's lowest speed from the start so that the
# take-over happens inside it, and let go once reshaped has taken over.
# Passes when the reshape ends with 4 members, every byte of the original
# size matches the pattern, and from the take-over on the kernel never
# overwrote data no backup section held (vm_probe_risk).
. "$VM_LIB"
set -u

seed=5404
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

vm_array_filled 5 3 512 "$seed"
vm_run mdadm /dev/md0 --add "$(vm_disk 3)"
vm_takeover slow "$backup" --raid-devices=4

disks=$(md_attr md0 raid_disks)
[ "$disks" = 4 ] || vm_fail "raid_disks is '$disks' after the grow, not 4"
[ "$(vm_size_bytes /dev/md0)" = $((size / 2 * 3)) ] ||
        vm_fail "array size $(vm_size_bytes /dev/md0) after the grow, not $((size / 2 * 3))"
vm_takeover_verify "grow 3 -> 4" "$seed" "@$takeover_row" --length "$size"
