# vm: mode=busybox disks=4 size=256M scratch=256M timeout=300 needs=reshaped
# reshaped watch on a real kernel: a reshape that 'reshaped start' runs
# (raid5, 4 x 256 MiB, chunk 64K -> 128K) watched at once under a
# pseudo-terminal (util-linux script) and on a pipe. On the terminal the
# line is redrawn in place, more than once and at most 4 times a second;
# on the pipe one line per percent, increasing; both exit 0 when it ends.
# Before and after: no reshape exits 4; not an md array, no such device 2;
# a reshape whose supervisor is killed and which is then frozen exits 1.
. "$VM_LIB"
set -u

backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state
mkdir -p /dev/pts
grep -q ' /dev/pts ' /proc/mounts || vm_run mount -t devpts devpts /dev/pts

md_fast
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
        --metadata=0.90 --size=$((255 * 1024)) --assume-clean $(vm_disks 4)
md_fast md0

# expect_watch CODE TEXT ARGS...: watch exits CODE and says TEXT.
expect_watch() {
        _code=$1 _text=$2
        shift 2
        reshaped watch "$@" >"$VM_OUT/watch-err.txt" 2>&1
        _rc=$?
        cat "$VM_OUT/watch-err.txt"
        [ "$_rc" = "$_code" ] || vm_fail "reshaped watch $* exited $_rc, not $_code"
        grep -qF "$_text" "$VM_OUT/watch-err.txt" || vm_fail "reshaped watch $* did not say \"$_text\""
}
expect_watch 4 "/dev/md0: no reshape in progress (raid5, 4 disks, chunk 64 KiB): nothing to watch" /dev/md0
expect_watch 2 "$(vm_disk 0): not an md array; give an md array" "$(vm_disk 0)"
expect_watch 2 "/dev/md9: no such device; give an md array" /dev/md9

reshaped start /dev/md0 --backup-file "$backup" --chunk 128K >"$VM_OUT/start.txt" 2>&1 &
start_job=$!
i=0
until [ "$(md_attr md0 reshape_position)" != none ]; do
        i=$((i + 1)) && [ $i -lt 600 ] || vm_fail "the reshape did not begin: $(cat "$VM_OUT/start.txt")"
        sleep 0.05
done
t0=$(vm_now)
# -v logs each redraw's time (on stderr, kept out of the line).
script -q -e -c "reshaped -v watch /dev/md0 2>$VM_OUT/watch-tty.log" /dev/null </dev/null \
        >"$VM_OUT/watch-tty.raw" 2>&1 &
tty_job=$!
reshaped -v watch /dev/md0 >"$VM_OUT/watch-plain.txt" 2>"$VM_OUT/watch-plain.log" &
plain_job=$!
wait $tty_job
tty_rc=$?
tty_wall=$(vm_since "$t0")
wait $plain_job
plain_rc=$?
wait $start_job || vm_fail "reshaped start failed: $(cat "$VM_OUT/start.txt")"
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"

cr=$(printf '\r')
esc=$(printf '\033')
# The terminal's output, one redraw a line and no escapes, for reading.
tr '\r' '\n' <"$VM_OUT/watch-tty.raw" | sed "s/$esc\\[K//g" | grep -v '^$' >"$VM_OUT/watch-tty.txt"
head -n 3 "$VM_OUT/watch-tty.txt"
echo ...
tail -n 3 "$VM_OUT/watch-tty.txt"
cat "$VM_OUT/watch-plain.txt"
[ "$tty_rc" = 0 ] || vm_fail "watch on the terminal exited $tty_rc, not 0"
[ "$plain_rc" = 0 ] || vm_fail "watch on the pipe exited $plain_rc, not 0"

redraws=$(grep -c '^md0: [0-9.]*% (' "$VM_OUT/watch-tty.txt")
newlines=$(grep -c '' "$VM_OUT/watch-tty.raw")
[ "$redraws" -gt 1 ] || vm_fail "$redraws redraws on the terminal"
# At most 4 a second (plus the first): the rate limit holds under the
# kernel's notifications.
[ "$redraws" -le $(( (${tty_wall%.*} + 1) * 4 + 1 )) ] ||
        vm_fail "$redraws redraws in ${tty_wall}s: more than 4 a second"
# min_gap LOG: the shortest time between two redraws, in ms.
min_gap() {
        sed -n 's/.*: drawn at \([0-9]*\) ms\.$/\1/p' "$1" |
                awk 'NR > 1 && (m == "" || $1 - p < m) { m = $1 - p } { p = $1 } END { print m == "" ? 0 : m }'
}
tty_gap=$(min_gap "$VM_OUT/watch-tty.log")
plain_gap=$(min_gap "$VM_OUT/watch-plain.log")
[ "$tty_gap" -ge 250 ] && [ "$plain_gap" -ge 250 ] ||
        vm_fail "redraws ${tty_gap} ms (terminal) and ${plain_gap} ms (pipe) apart: under 250 ms"
# Redrawn in place: the only newline ends the last line.
[ "$newlines" = 1 ] || vm_fail "$newlines lines on the terminal, not 1 redrawn line"
grep -q 'PROTECTED by reshaped pid [1-9]' "$VM_OUT/watch-tty.txt" ||
        vm_fail "the terminal's line never said PROTECTED by reshaped"
grep -q '^md0: the reshape finished: raid5, 4 disks, chunk 128 KiB\.$' "$VM_OUT/watch-tty.txt" ||
        vm_fail "the terminal's last line is not the end"

grep -q "$cr" "$VM_OUT/watch-plain.txt" && vm_fail "a carriage return on the pipe"
sed -n 's/^md0: \([0-9]*\)\.[0-9]% (.*/\1/p' "$VM_OUT/watch-plain.txt" >"$VM_OUT/percents.txt"
lines=$(grep -c '' "$VM_OUT/percents.txt")
distinct=$(sort -un "$VM_OUT/percents.txt" | grep -c '')
sort -n -c "$VM_OUT/percents.txt" || vm_fail "the plain lines' percent goes down"
[ "$lines" -ge 3 ] || vm_fail "only $lines plain lines"
# One line per whole percent (and per change of state), not one per look.
[ "$lines" -le $((distinct + 3)) ] || vm_fail "$lines plain lines for $distinct whole percents"
tail -n 1 "$VM_OUT/watch-plain.txt" | grep -q '^md0: the reshape finished: raid5, 4 disks, chunk 128 KiB\.$' ||
        vm_fail "the plain output does not end with the end"

expect_watch 4 "/dev/md0: no reshape in progress (raid5, 4 disks, chunk 128 KiB)" md0

# A reshape that stops without finishing: its supervisor killed (the
# kernel waits at sync_max: HELD, watch goes on), then frozen: exit 1
# once it has not run for 10 s.
reshaped start /dev/md0 --backup-file "$VM_SCRATCH/md0-2.backup" --chunk 256K >"$VM_OUT/start2.txt" 2>&1 &
start_job=$!
i=0
until [ "$(md_attr md0 reshape_position)" != none ] && [ "$(md_progress md0)" -gt 0 ]; do
        i=$((i + 1)) && [ $i -lt 600 ] || vm_fail "the second reshape did not begin: $(cat "$VM_OUT/start2.txt")"
        sleep 0.05
done
reshaped watch /dev/md0 >"$VM_OUT/watch-stop.txt" 2>&1 &
stop_job=$!
sleep 2
kill -9 $start_job
wait $start_job
sleep 2
echo frozen >/sys/block/md0/md/sync_action
t0=$(vm_now)
wait $stop_job
stop_rc=$?
stop_wall=$(vm_since "$t0")
cat "$VM_OUT/watch-stop.txt"
[ "$stop_rc" = 1 ] || vm_fail "watch of the frozen reshape exited $stop_rc, not 1"
grep -q 'HELD at [0-9.]*%, nobody supervises it$' "$VM_OUT/watch-stop.txt" ||
        vm_fail "watch did not say HELD once the supervisor was killed"
grep -q '^md0: the reshape stopped at [0-9.]*%: not running (sync_action frozen) for 1[0-9]s; see .reshaped status /dev/md0.\.$' \
        "$VM_OUT/watch-stop.txt" || vm_fail "watch did not say how the reshape stopped"

cat <<SUMMARY

Summary
  What ran:   'reshaped start' of raid5 on 4 x 256 MiB, chunk 64K -> 128K,
              watched by 'reshaped watch' on a pseudo-terminal and on a pipe.
  Terminal:   $redraws redraws of one line in ${tty_wall}s, at least ${tty_gap} ms apart, exit 0.
  Pipe:       $lines lines, $distinct whole percents, increasing (looks at least
              ${plain_gap} ms apart), exit 0.
  Stopped:    supervisor killed: HELD; then frozen: exit 1 after ${stop_wall}s.
  Errors:     no reshape 4, a disk that is not md 2, no such device 2.
SUMMARY
vm_log "PASS: watch redrew on the terminal, printed increasing lines on the pipe, exited 0 at the end"
