# vm: mode=busybox disks=4 size=256M scratch=1G timeout=900 needs=reshaped
# `reshaped start --raid-devices 4` grows a raid5 (0.90 metadata, 3 x 255
# MiB, chunk 512K) onto a spare added first. Only the grow's first units
# are at risk (new stripes overwrite old data no checkpoint has released,
# until raid5 guards itself); reshaped backs them up before the kernel may
# touch them, then releases sync_max. Passes when the array has 4 members
# and half again its size, every byte of the original size matches the
# pattern, and the probe shows the kernel never overwrote data in the
# critical units that no backup held (vm_probe_risk, from the first sample).
. "$VM_LIB"
set -u

seed=5414
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

vm_array_filled 5 3 512 "$seed"
vm_run mdadm /dev/md0 --add "$(vm_disk 3)"

vm-probe --md md0 --csv "$VM_OUT/probe.csv" --backup "$backup" >"$VM_OUT/probe.txt" 2>&1 &
probe=$!
vm_timed reshaped start /dev/md0 --backup-file "$backup" --raid-devices 4
md_wait_idle md0 300
wait "$probe" || vm_fail "probe failed: $(cat "$VM_OUT/probe.txt")"
cat "$VM_OUT/probe.txt"

[ "$(md_attr md0 raid_disks)" = 4 ] || vm_fail "raid_disks is $(md_attr md0 raid_disks) after the grow, not 4"
[ "$(vm_size_bytes /dev/md0)" = $((size / 2 * 3)) ] ||
        vm_fail "array size $(vm_size_bytes /dev/md0) after the grow, not $((size / 2 * 3))"
vm_timed vm-pattern verify --length "$size" /dev/md0 "$seed"
risk=$(vm_probe_risk md0 "$VM_OUT/probe.csv" "$VM_OUT/probe.txt" "$size")
ok=$?
echo "$risk"
[ $ok = 0 ] || vm_fail "the kernel could overwrite critical data no backup held"
wall=$(sed -n 's/^probe: wall=\([0-9.]*s\).*/\1/p' "$VM_OUT/probe.txt")
vm_log "PASS: grow 3 -> 4 under reshaped start verified ($size bytes); reshape wall $wall; $risk"
