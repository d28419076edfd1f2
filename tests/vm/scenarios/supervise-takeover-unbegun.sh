# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# Take-over of a reshape that has been set up but has not rewritten
# anything yet, with sync_max at max (as mdadm leaves it, caught before
# the kernel's first request). The kernel reports its front only from a
# request, and a restart with sync_max at 0 makes none, so reshaped backs
# up the first unit (a non-blocking read tells it the kernel has not
# begun), lets the kernel through it, and supervises from there. Passes
# when the take-over reports nothing rewritten unprotected, the kernel
# never ran beyond the backup (probe, from the first sample), and every
# byte matches the pattern.
. "$VM_LIB"
set -u

seed=7107
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

md_fast
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
        --metadata=0.90 --size=$((127 * 1024)) --assume-clean $(vm_disks 4)
md_fast md0
size=$(vm_size_bytes /dev/md0)
vm_timed vm-pattern fill /dev/md0 "$seed"
sync

# Set up the reshape parked at 0, freeze it, then lift sync_max: frozen,
# nothing rewritten, sync_max=max.
md_set md0 sync_action frozen
md_set md0 chunk_size 131072
md_set md0 sync_min 0
md_set md0 sync_max 0
md_set md0 sync_action reshape
md_set md0 sync_action frozen
md_set md0 sync_max max
vm_log "set up: sync_action=$(md_attr md0 sync_action) sync_max=$(md_attr md0 sync_max) reshape_position=$(md_attr md0 reshape_position)"
[ "$(md_attr md0 reshape_position)" = 0 ] || vm_fail "the reshape moved before the take-over"

vm-probe --md md0 --csv "$VM_OUT/probe.csv" --backup "$backup" >"$VM_OUT/probe.txt" 2>&1 &
probe=$!
reshaped supervise /dev/md0 --backup-file "$backup" >"$VM_OUT/supervise.txt" 2>&1 || {
        cat "$VM_OUT/supervise.txt"
        vm_fail "reshaped supervise failed"
}
cat "$VM_OUT/supervise.txt"
wait "$probe" || vm_fail "probe failed: $(cat "$VM_OUT/probe.txt")"
cat "$VM_OUT/probe.txt"
grep -q 'before this point the kernel reshaped 0 B with nothing' "$VM_OUT/supervise.txt" ||
        vm_fail "the take-over did not start from an untouched reshape"
md_wait_idle md0 300
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
vm_timed vm-pattern verify /dev/md0 "$seed"
risk=$(vm_probe_risk md0 "$VM_OUT/probe.csv" "$VM_OUT/probe.txt" "$size")
ok=$?
echo "$risk"
[ $ok = 0 ] || vm_fail "the kernel could overwrite data no backup held"
vm_log "PASS: untouched reshape taken over from its first unit, every byte verified, protection lag 0"
