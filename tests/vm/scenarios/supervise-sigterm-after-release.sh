# vm: mode=busybox disks=4 size=64M scratch=512M timeout=900 needs=reshaped
# SIGTERM after the final release (sync_max=max with the last windows still
# held): reshaped may not claim a freeze it did not make, nor leave writes
# suspended while the kernel runs on to the end (they would hang for
# good). It lets the kernel finish, then nothing is suspended, a write to
# the last window completes, and every byte matches the pattern.
. "$VM_LIB"
set -u

seed=7117
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

md_fast
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
        --metadata=0.90 --size=$((63 * 1024)) --assume-clean $(vm_disks 4)
md_fast md0
vm_timed vm-pattern fill /dev/md0 "$seed"
sync

# The kernel runs at 2 MB/s per member, so the last window (at least an
# eighth of 64M) takes seconds, and nearly stops once released, so the
# stop lands after the release with the last windows held; it runs again
# once reshaped is draining.
md_set md0 sync_speed_min 1000
md_set md0 sync_speed_max 2000
reshaped start /dev/md0 --backup-file "$backup" --chunk 128K --max-window 64M \
        >"$VM_OUT/start.txt" 2>&1 &
pid=$!
# sync_max reads max before the reshape is set up too: first a number.
# The shell's own read, no fork per sample: the last window is short.
sys=/sys/block/md0/md
limited=0
while :; do
        read -r max <"$sys/sync_max"
        read -r pos <"$sys/reshape_position"
        if [ "$max" = max ]; then
                [ "$limited" = 1 ] && break
        elif [ "$pos" != none ]; then
                limited=1
        fi
        kill -0 "$pid" 2>/dev/null || vm_fail "reshaped ended before its final release: $(cat "$VM_OUT/start.txt")"
done
echo 1 >"$sys/sync_speed_min"
echo 1 >"$sys/sync_speed_max"
[ "$(md_attr md0 reshape_position)" != none ] || vm_fail "the reshape ended before the stop could land after the release"
vm_log "released at $(md_attr md0 sync_completed); sending SIGTERM"
kill -TERM "$pid"
sleep 2
md_set md0 sync_speed_max system
md_set md0 sync_speed_min system
status=0
wait "$pid" || status=$?
cat "$VM_OUT/start.txt"
vm_log "reshaped exited $status: sync_action=$(md_attr md0 sync_action) position=$(md_attr md0 reshape_position) suspend=$(md_attr md0 suspend_lo)-$(md_attr md0 suspend_hi)"
grep -qi "the reshape is frozen" "$VM_OUT/start.txt" && [ "$(md_attr md0 sync_action)" != frozen ] &&
        vm_fail "reshaped says the reshape is frozen, and sync_action reads $(md_attr md0 sync_action)"
md_wait_idle md0 300
lo=$(md_attr md0 suspend_lo)
hi=$(md_attr md0 suspend_hi)
[ "$lo" = "$hi" ] || vm_fail "the reshape ended with writes to array sectors $lo-$hi suspended"
# A write to the end of the array must not hang.
size=$(vm_size_bytes /dev/md0)
timeout 20 dd if=/dev/zero of=/dev/md0 bs=4096 count=1 seek=$((size / 4096 - 1)) oflag=direct 2>/dev/null ||
        vm_fail "a write to the last block of the array did not complete"
vm-pattern fill --offset $((size - 4096)) --length 4096 /dev/md0 "$seed" >/dev/null
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
vm_timed vm-pattern verify /dev/md0 "$seed"
vm_log "PASS: a stop after the release let the kernel finish, nothing stayed suspended, every byte verified"
