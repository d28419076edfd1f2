# vm: mode=busybox disks=4 size=128M scratch=512M timeout=600 needs=reshaped
# reshaped pause / resume on raid5 (0.90, 4 x 127 MiB), chunk 64K -> 128K
# under `reshaped start`: asked at ~30% (the kernel is held at the end of
# the window backed up when the supervisor sees it), the kernel's position
# (reshape_position and sync_completed) stays still for 10 s with sync_max
# a number, no write suspended, and a read and a write (of the bytes that
# are there) go through both behind and ahead of the kernel; `status` says
# PAUSED. The supervisor SIGKILLed: still PAUSED, nobody supervising; and
# `supervise` started again: still paused, the position still the same. `resume`: the reshape finishes,
# every byte matches the pattern, and the probe saw the kernel within the
# backup all along.
. "$VM_LIB"
set -u

seed=9119
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

md_fast
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
        --metadata=0.90 --size=$((127 * 1024)) --assume-clean $(vm_disks 4)
md_fast md0
size=$(vm_size_bytes /dev/md0)
total=$(($(md_attr md0 component_size) * 2))
vm_timed vm-pattern fill /dev/md0 "$seed"
sync

vm-probe --md md0 --csv "$VM_OUT/probe.csv" --backup "$backup" >"$VM_OUT/probe.txt" 2>&1 &
probe=$!

reshaped -v start /dev/md0 --backup-file "$backup" --chunk 128K >"$VM_OUT/start.log" 2>&1 &
pid=$!
while [ "$(md_progress md0)" -lt $((total * 30 / 100)) ]; do
        kill -0 "$pid" 2>/dev/null || vm_fail "reshaped start ended before 30%: $(tail -n 5 "$VM_OUT/start.log")"
        sleep 0.05
done
vm_log "at $(md_snapshot md0): pausing"
reshaped pause /dev/md0 >"$VM_OUT/pause.txt" 2>&1
st=$?
cat "$VM_OUT/pause.txt"
[ $st = 0 ] || vm_fail "reshaped pause: exit status $st"
grep -q '^md0 paused at [0-9.]*%, array sector [0-9]* (held by reshaped pid [1-9]' "$VM_OUT/pause.txt" ||
        vm_fail "reshaped pause did not say where the kernel is held"

# still WHAT: fails unless the position is what it was at the pause.
still() {
        now="$(md_attr md0 reshape_position) $(md_attr md0 sync_completed)"
        [ "$now" = "$held" ] || vm_fail "$1: the position moved from '$held' to '$now'"
}

held="$(md_attr md0 reshape_position) $(md_attr md0 sync_completed)"
t_pause=$(vm_now)
vm_log "paused: $(md_snapshot md0)"
case $(md_attr md0 sync_max) in
        ''|max|*[!0-9]*) vm_fail "paused with sync_max=$(md_attr md0 sync_max), not a number" ;;
esac
[ "$(md_attr md0 suspend_hi)" -le "$(md_attr md0 suspend_lo)" ] ||
        vm_fail "writes to $(md_attr md0 suspend_lo)-$(md_attr md0 suspend_hi) stay suspended while paused"

reshaped status md0 >"$VM_OUT/status.txt" 2>&1
st=$?
cat "$VM_OUT/status.txt"
[ $st = 1 ] && grep -q '^  State: *PAUSED: reshaped (pid [1-9][0-9]*) holds the kernel at' "$VM_OUT/status.txt" ||
        vm_fail "reshaped status (exit status $st) does not say PAUSED"
reshaped status --json md0 | grep -q '"state":"paused",.*"paused":true' ||
        vm_fail "reshaped status --json does not say paused"

# A block behind the kernel (reshaped) and one ahead of it (not yet),
# read and written back as they are, each within 20 s.
for at_mib in 8 $((size / 1048576 - 16)); do
        timeout 20 dd if=/dev/md0 of=/tmp/block bs=1M count=1 skip=$at_mib iflag=direct 2>/dev/null ||
                vm_fail "reading MiB $at_mib of /dev/md0 while paused failed or hung"
        timeout 20 dd if=/tmp/block of=/dev/md0 bs=1M count=1 seek=$at_mib oflag=direct conv=notrunc 2>/dev/null ||
                vm_fail "writing MiB $at_mib of /dev/md0 while paused failed or hung"
done
vm_log "read and wrote MiB 8 and MiB $((size / 1048576 - 16)) while paused"
while [ "$(vm_since "$t_pause" | cut -d . -f 1)" -lt 10 ]; do
        still "paused $(vm_since "$t_pause") s"
        sleep 0.5
done
still "paused 10 s"
vm_log "the position stayed at '$held' for $(vm_since "$t_pause") s"

kill -KILL "$pid"
wait "$pid" 2>/dev/null
vm_log "SIGKILLed reshaped start: $(md_snapshot md0)"
still "after the SIGKILL"
reshaped status md0 >"$VM_OUT/status-killed.txt" 2>&1
st=$?
cat "$VM_OUT/status-killed.txt"
[ $st = 1 ] && grep -q '^  State: *PAUSED: nobody supervises it: the kernel stops at' "$VM_OUT/status-killed.txt" ||
        vm_fail "reshaped status (exit status $st) does not say PAUSED with nobody supervising"
reshaped supervise /dev/md0 >"$VM_OUT/supervise.log" 2>&1 &
pid=$!
n=0
until grep -q 'md0: paused at' "$VM_OUT/supervise.log"; do
        kill -0 "$pid" 2>/dev/null || vm_fail "supervise ended: $(tail -n 5 "$VM_OUT/supervise.log")"
        n=$((n + 1))
        [ $n -lt 600 ] || vm_fail "the new supervisor did not hold the pause in 30 s: $(tail -n 5 "$VM_OUT/supervise.log")"
        sleep 0.05
done
grep 'md0: paused at' "$VM_OUT/supervise.log"
sleep 3
still "3 s after supervise started again"
vm_log "the restarted supervisor holds the pause: $(md_snapshot md0)"

reshaped resume /dev/md0 >"$VM_OUT/resume.txt" 2>&1
st=$?
cat "$VM_OUT/resume.txt"
[ $st = 0 ] && grep -q '^md0 resumed; reshaped (pid [1-9]' "$VM_OUT/resume.txt" ||
        vm_fail "reshaped resume: exit status $st"
wait "$pid"
st=$?
tail -n 3 "$VM_OUT/supervise.log"
[ $st = 0 ] || vm_fail "reshaped supervise: exit status $st after resume"
md_wait_idle md0 120
wait "$probe" || vm_fail "probe failed: $(cat "$VM_OUT/probe.txt")"
cat "$VM_OUT/probe.txt"

[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
vm_timed vm-pattern verify /dev/md0 "$seed"
vm_probed_protected
vm_log "PASS: paused at '$held' for 10 s (readable and writable), held again after a SIGKILL, resumed and verified; protection lag $lag"
