# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# SIGKILL of reshaped, the VM running on, at three instants picked from the
# live state of a raid5 chunk change (64K -> 128K, 0.90, 4 x 127 MiB):
#   1. `reshaped start`, while a window's backup is being written (its
#      action logged, not yet committed);
#   2. the `supervise` that continued, right after a sync_max raise;
#   3. the `restore` that continued after the array was stopped, in the
#      last 5% right after a backup commit (the header then holds a window
#      beyond the on-disk checkpoint, which the restart must take over).
# After each kill the kernel must stay parked within what the backup holds
# (sync_max, rounded up to the reshape unit, maps to no array sector past
# the end of its sections, which reach back to the checkpoint read at the
# kill), writes must stay suspended over that stretch, and the backup must
# verify; `reshaped supervise` started again continues without a restore,
# over the lock file the killed one left. While one supervises, a second
# `supervise`, a `start` and a `restore` of the array refuse and name its
# pid. With the array stopped, `restore --dry-run` prints its plan and
# writes nothing (sha256 of every member and of the backup before and
# after). At the end every byte matches the pattern and the probes saw the
# kernel within the backup all along (lag 0, nothing unprotected).
. "$VM_LIB"
set -u

seed=7117
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state
# 64K -> 128K on 4 disks: 3 data disks, the kernel rewrites 256 sectors per
# member at a time.
dd=3
unit=256

md_fast
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
        --metadata=0.90 --size=$((127 * 1024)) --assume-clean $(vm_disks 4)
md_fast md0
size=$(vm_size_bytes /dev/md0)
total=$(($(md_attr md0 component_size) * 2))
vm_timed vm-pattern fill /dev/md0 "$seed"
sync

vm-probe --md md0 --csv "$VM_OUT/probe.csv" --backup "$backup" --interval-ms 20 \
        >"$VM_OUT/probe.txt" 2>&1 &
probe=$!

# Runs `reshaped -v ARGS...` in the background, its output in $VM_OUT/$1.log.
run_bg() {
        log=$VM_OUT/$1.log
        shift
        reshaped -v "$@" >"$log" 2>&1 &
        pid=$!
        vm_log "+ reshaped $* (pid $pid)"
}

# within T0 SECONDS: true while less than SECONDS passed since T0.
within() {
        awk -v a="$(vm_now)" -v b="$1" -v l="$2" 'BEGIN { exit !(a - b < l) }'
}

alive_or_fail() {
        kill -0 "$pid" 2>/dev/null || vm_fail "reshaped ended before the kill point: $(tail -n 5 "$log")"
}

# Waits until the reshape has done $1 percent.
wait_percent() {
        while [ "$(md_progress md0)" -lt $((total * $1 / 100)) ]; do
                alive_or_fail
                sleep 0.02
        done
}

# The kill first, then what it hit: the checkpoint read at once is the one
# the backup must reach back to.
kill_now() {
        kill -KILL "$pid"
        pos_at_kill=$(md_attr md0 reshape_position)
        vm_log "SIGKILL $1 at $(md_snapshot md0)"
        wait "$pid" 2>/dev/null
        tail -n 3 "$log"
}

# The supervisor logs each action before it runs it: a backup that is
# the last line is being read and written (not yet committed).
kill_during_backup() {
        while :; do
                alive_or_fail
                _last=$(tail -n 1 "$log")
                case $_last in
                *": backup slot="*)
                        kill_now "while a window is being backed up ($_last)"
                        window=$(echo "$_last" | sed -n 's/.* range=\([0-9]*\)-\([0-9]*\).*/\1 \2/p')
                        return
                        ;;
                esac
                sleep 0.01
        done
}

# Right after a commit: the header holds a window the kernel has not been
# let into yet (beyond the on-disk checkpoint), which the restart must take
# over without a restore.
kill_after_commit() {
        while :; do
                alive_or_fail
                case $(tail -n 1 "$log") in
                *": backed up array sectors "*)
                        kill_now "right after a backup commit ($(tail -n 1 "$log" | cut -c1-120))"
                        return
                        ;;
                esac
                sleep 0.005
        done
}

kill_after_raise() {
        _was=$(md_attr md0 sync_max)
        while [ "$(md_attr md0 sync_max)" = "$_was" ]; do
                alive_or_fail
        done
        kill_now "right after sync_max was raised from $_was"
}

# After a kill: the kernel parks at sync_max, which the backup covers.
check_parked() {
        _t0=$(vm_now)
        _last=-1
        while [ "$(md_progress md0)" != "$_last" ]; do
                _last=$(md_progress md0)
                sleep 0.5
                within "$_t0" 20 || break
        done
        max=$(md_attr md0 sync_max)
        lo=$(md_attr md0 suspend_lo)
        hi=$(md_attr md0 suspend_hi)
        pos=$(md_attr md0 reshape_position)
        [ "$max" != max ] || vm_fail "sync_max is max after the kill"
        [ "$pos" != none ] || vm_fail "the reshape ended before the kill took effect"
        [ "$_last" -le "$max" ] || vm_fail "the kernel is at $_last, past sync_max $max"
        [ "$hi" -gt "$lo" ] || vm_fail "no writes are suspended after the kill (suspend $lo-$hi)"
        reshaped inspect --json "$backup" >"$VM_OUT/inspect.json" ||
                vm_fail "the backup does not verify after the kill: $(cat "$VM_OUT/inspect.json")"
        # Sections as "start length" pairs; the union must run from at or
        # before the checkpoint, without a gap, to at least the kernel's bound.
        front=$(( (max + unit - 1) / unit * unit * dd ))
        grep -o '"array_start_sectors":[0-9]*,"length_sectors":[0-9]*' "$VM_OUT/inspect.json" |
                sed 's/[^0-9]*\([0-9]*\)[^0-9]*\([0-9]*\)/\1 \2/' | sort -n >"$VM_OUT/sections.txt"
        durable=$(awk -v pos="$pos_at_kill" '$2 > 0 {
                        if (!seen) { if ($1 > pos) exit; end = $1 + $2; seen = 1 }
                        else if ($1 <= end) { if ($1 + $2 > end) end = $1 + $2 }
                } END { print seen ? end : pos }' "$VM_OUT/sections.txt")
        vm_log "parked: progress $_last, sync_max $max (array front $front), checkpoint $pos_at_kill at the kill, $pos now, backup holds from it up to $durable, suspended $lo-$hi"
        [ "$front" -le "$durable" ] ||
                vm_fail "the kernel may rewrite array sectors up to $front, the backup holds only up to $durable"
        [ "$lo" -le "$pos_at_kill" ] && [ "$hi" -ge "$front" ] ||
                vm_fail "the suspended range $lo-$hi does not cover the kernel's $pos_at_kill-$front"
}

# The lock file the killed daemon left: its pid, and no obstacle.
restart() {
        _dead=$pid
        [ "$(cat /run/reshaped/md0.lock)" = "$_dead" ] ||
                vm_fail "the lock file holds '$(cat /run/reshaped/md0.lock)', not the killed pid $_dead"
        run_bg "supervise.$1" supervise /dev/md0 --backup-file "$backup" --max-window 8M
        vm_wait_log_of "$log" 'supervising the reshape from'
        [ "$(cat /run/reshaped/md0.lock)" = "$pid" ] || vm_fail "the restarted daemon did not take the lock"
        grep -q "reshaped restore" "$log" && vm_fail "the restart asked for a restore: $(cat "$log")"
        return 0
}

vm_wait_log_of() {
        _t0=$(vm_now)
        until grep -q "$2" "$1"; do
                kill -0 "$pid" 2>/dev/null || vm_fail "reshaped ended: $(cat "$1")"
                within "$_t0" 60 || vm_fail "no '$2' in $1 within 60 s"
                sleep 0.05
        done
}

# While $pid supervises: every other command on md0 refuses and names it.
check_refusals() {
        for cmd in "supervise /dev/md0 --backup-file $backup" \
                   "start /dev/md0 --backup-file $VM_SCRATCH/other.backup --chunk 256K" \
                   "restore /dev/md0 --backup-file $backup"; do
                _st=0
                # shellcheck disable=SC2086
                reshaped $cmd >"$VM_OUT/refused.txt" 2>&1 || _st=$?
                cat "$VM_OUT/refused.txt"
                [ $_st = 1 ] || vm_fail "reshaped $cmd exited $_st while pid $pid supervises"
                grep -q "already supervised by reshaped pid $pid" "$VM_OUT/refused.txt" ||
                        vm_fail "reshaped $cmd did not name the supervisor's pid $pid"
        done
        [ ! -e "$VM_SCRATCH/other.backup" ] || vm_fail "the refused start created its backup file"
        kill -0 "$pid" 2>/dev/null || vm_fail "the supervisor died while the others were refused"
        vm_log "a second supervise, a start and a restore each refused with pid $pid"
}

run_bg start start /dev/md0 --backup-file "$backup" --chunk 128K --max-window 8M
wait_percent 10
kill_during_backup
check_parked
# shellcheck disable=SC2086
set -- $window
if awk -v lo="$1" -v hi="$2" '$2 > 0 && $1 <= lo && $1 + $2 >= hi { found = 1 } END { exit !found }' \
        "$VM_OUT/sections.txt"; then
        vm_log "the kill came after the commit of $1-$2: the header holds it"
else
        vm_log "the kill came before the commit of $1-$2: the header does not hold it"
fi
restart 1
check_refusals

wait_percent 40
kill_after_raise
check_parked

# The array stopped there: `restore --dry-run` says what it would do and
# writes nothing (every member and the backup hash the same after), then
# the real restore continues (and is the one killed next).
# The probe is stopped first (it would take the stop for the end of the
# reshape); what it saw up to here must be lag 0 too.
kill -INT "$probe"
wait "$probe" || vm_fail "probe failed: $(cat "$VM_OUT/probe.txt")"
vm_run mdadm --stop /dev/md0
cat "$VM_OUT/probe.txt"
grep -q 'lag_max=0 bytes unprotected_total=0 bytes' "$VM_OUT/probe.txt" ||
        vm_fail "before the stop the kernel ran beyond the backup"
mv "$VM_OUT/probe.txt" "$VM_OUT/probe.1.txt"
mv "$VM_OUT/probe.csv" "$VM_OUT/probe.1.csv"
sha256sum $(vm_disks 4) "$backup" >"$VM_OUT/sums.before"
_st=0
# shellcheck disable=SC2046
reshaped restore /dev/md0 --dry-run --backup-file "$backup" $(vm_disks 4) >"$VM_OUT/dry-run.txt" 2>&1 || _st=$?
cat "$VM_OUT/dry-run.txt"
[ $_st = 0 ] || vm_fail "restore --dry-run exited $_st"
grep -q "^backup: .*verified" "$VM_OUT/dry-run.txt" || vm_fail "the dry run gave no verdict"
grep -q "^continue: from array sector [0-9]*, sync_max [0-9]*" "$VM_OUT/dry-run.txt" ||
        vm_fail "the dry run did not say where the reshape would continue"
sha256sum $(vm_disks 4) "$backup" >"$VM_OUT/sums.after"
cmp -s "$VM_OUT/sums.before" "$VM_OUT/sums.after" ||
        vm_fail "the dry run changed a member or the backup: $(diff "$VM_OUT/sums.before" "$VM_OUT/sums.after")"
[ ! -e /sys/block/md0/md/array_state ] || [ "$(md_attr md0 array_state)" = clear ] ||
        [ "$(md_attr md0 array_state)" = inactive ] || vm_fail "the dry run started the array"
vm_log "restore --dry-run: 4 members and the backup hash the same before and after"
_dead=$pid
# shellcheck disable=SC2046
run_bg restore.2 restore /dev/md0 --backup-file "$backup" --max-window 8M $(vm_disks 4)
# Once md runs it as raid5 (while restore assembles, level reads "5").
vm_wait_log_of "$log" 'assembled, reshape frozen'
vm-probe --md md0 --csv "$VM_OUT/probe.csv" --backup "$backup" --interval-ms 20 \
        >"$VM_OUT/probe.txt" 2>&1 &
probe=$!
vm_wait_log_of "$log" 'supervising the reshape from'
[ "$(cat /run/reshaped/md0.lock)" = "$pid" ] || vm_fail "the restore did not take the lock the killed $_dead left"
md_fast md0

wait_percent 95
kill_after_commit
check_parked
beyond=$(awk -v pos="$(md_attr md0 reshape_position)" '$2 > 0 && $1 + $2 > pos' "$VM_OUT/sections.txt")
restart 3
if [ -n "$beyond" ]; then
        grep -q "no restore needed" "$log" ||
                vm_fail "the restart did not say it took over the sections beyond the checkpoint"
        vm_log "the backup held $beyond beyond the checkpoint; the restart replaced it without a restore"
fi

wait "$pid" || vm_fail "the last supervise failed: $(tail -n 20 "$log")"
md_wait_idle md0 300
wait "$probe" || vm_fail "probe failed: $(cat "$VM_OUT/probe.txt")"
cat "$VM_OUT/probe.txt"
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
[ "$(vm_size_bytes /dev/md0)" = "$size" ] || vm_fail "the array size changed"
vm_probed_protected
vm_log "probe: lag_max=$lag bytes, stall $stall"
VM_MATRIX="raid5 on 4, start --chunk 128K|0.90|SIGKILL, the VM running on|start during a window's backup; supervise right after a raise; restore right after a commit|reshaped|reshaped supervise (no restore)"
vm_matrix_verify "$seed"
vm_log "PASS: 3 SIGKILLs (start, supervise, restore), each parked within the backup and continued without a restore; dry run wrote nothing; every byte verified"
