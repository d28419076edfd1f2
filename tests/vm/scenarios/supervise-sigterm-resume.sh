# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# SIGTERM in the middle of a supervised reshape: reshaped lets the kernel
# reach the end of what is backed up, releases it, and exits 3 with
# the command that continues; nothing stays suspended and sync_max stays a
# number. `reshaped supervise` then finishes the reshape, and every byte
# matches the pattern.
. "$VM_LIB"
set -u

seed=7007
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

md_fast
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
        --metadata=0.90 --size=$((127 * 1024)) --assume-clean $(vm_disks 4)
md_fast md0
vm_timed vm-pattern fill /dev/md0 "$seed"
sync

reshaped start /dev/md0 --backup-file "$backup" --chunk 128K --max-window 8M \
        >"$VM_OUT/start.txt" 2>&1 &
pid=$!
total=$(md_attr md0 component_size)
total=$((total * 2))
# Wait until a quarter of the reshape is done, then stop it.
while :; do
        done_s=$(md_progress md0)
        [ "$done_s" -ge $((total / 4)) ] && break
        kill -0 "$pid" 2>/dev/null || vm_fail "reshaped ended before the stop point: $(cat "$VM_OUT/start.txt")"
        sleep 0.05
done
vm_log "sending SIGTERM at $done_s of $total sectors per member"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
cat "$VM_OUT/start.txt"
[ "$status" = 3 ] || vm_fail "reshaped exited $status after SIGTERM with the reshape unfinished, not 3 (stopped safely)"
grep -q "Continue with: reshaped supervise /dev/md0" "$VM_OUT/start.txt" ||
        vm_fail "the stop message does not say how to continue"

lo=$(md_attr md0 suspend_lo)
hi=$(md_attr md0 suspend_hi)
[ "$lo" = "$hi" ] || vm_fail "writes to array sectors $lo-$hi stay suspended after a clean stop"
max=$(md_attr md0 sync_max)
[ "$max" != max ] || vm_fail "sync_max was left at max"
pos=$(md_attr md0 reshape_position)
[ "$pos" != none ] || vm_fail "the reshape ended although it was stopped at a quarter"
vm_log "stopped: sync_action=$(md_attr md0 sync_action) sync_max=$max reshape_position=$pos"
reshaped inspect "$backup" || vm_fail "the backup left behind does not verify"

vm_timed reshaped supervise /dev/md0 --backup-file "$backup"
md_wait_idle md0 300
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
vm_timed vm-pattern verify /dev/md0 "$seed"
vm_log "PASS: stopped safely, resumed, every byte verified"
