# vm: mode=busybox disks=5 size=256M scratch=1G timeout=900 needs=reshaped
# `reshaped start --raid-devices 4` shrinks a raid5 (0.90 metadata, 5 x 255
# MiB, chunk 512K) after the array was reduced to what 3 data disks hold
# (mdadm --grow --array-size). The shrink runs backwards and is safe on
# its own until its last units (the lowest member offsets), which
# reshaped backs up before the kernel may rewrite them. Passes when the
# array has 4 members, every byte of the reduced array matches the
# pattern, and the probe shows the kernel never overwrote critical data no
# backup held.
. "$VM_LIB"
set -u

seed=5515
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

vm_array_filled 5 5 512 "$seed" 3

vm-probe --md md0 --csv "$VM_OUT/probe.csv" --backup "$backup" >"$VM_OUT/probe.txt" 2>&1 &
probe=$!
vm_timed reshaped start /dev/md0 --backup-file "$backup" --raid-devices 4
md_wait_idle md0 300
wait "$probe" || vm_fail "probe failed: $(cat "$VM_OUT/probe.txt")"
cat "$VM_OUT/probe.txt"

[ "$(md_attr md0 raid_disks)" = 4 ] || vm_fail "raid_disks is $(md_attr md0 raid_disks) after the shrink, not 4"
vm_timed vm-pattern verify /dev/md0 "$seed"
risk=$(vm_probe_risk md0 "$VM_OUT/probe.csv" "$VM_OUT/probe.txt" "$size")
ok=$?
echo "$risk"
[ $ok = 0 ] || vm_fail "the kernel could overwrite critical data no backup held"
wall=$(sed -n 's/^probe: wall=\([0-9.]*s\).*/\1/p' "$VM_OUT/probe.txt")
vm_log "PASS: shrink 5 -> 4 under reshaped start verified ($size bytes); reshape wall $wall; $risk"
