# vm: mode=busybox disks=4 size=256M scratch=1G timeout=900 needs=reshaped
# A raid5 grow from 3 to 4 disks (0.90 metadata, so mdadm must use the
# backup file; 255 MiB members, chunk 512K) started by `mdadm --grow
# --raid-devices=4 --backup-file` and then supervised by reshaped: mdadm
# forks its own monitor (MDADM_NO_SYSTEMCTL=1, the busybox hand-off), which
# is killed as soon as mdadm returns, and `reshaped supervise` takes over.
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

# Prefixes each line with the guest's uptime.
stamp() {
        while IFS= read -r line; do
                echo "[$(vm_now)] $line"
        done
}

md_fast
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=3 --chunk=512 \
        --metadata=0.90 --size=$((255 * 1024)) --assume-clean $(vm_disks 3)
md_fast md0
size=$(vm_size_bytes /dev/md0)
vm_timed vm-pattern fill /dev/md0 "$seed"
sync
vm_run mdadm /dev/md0 --add "$(vm_disk 3)"

vm-probe --md md0 --csv "$VM_OUT/probe.csv" --backup "$backup" >"$VM_OUT/probe.txt" 2>&1 &
probe=$!
md_set md0 sync_speed_min 1
md_set md0 sync_speed_max 1
t0=$(vm_now)
MDADM_NO_SYSTEMCTL=1 vm_run mdadm --grow /dev/md0 --raid-devices=4 --backup-file="$backup"
pids=$(pidof mdadm) || vm_fail "mdadm forked no monitor of its own"
vm_run kill -KILL $pids
rows=$(wc -l <"$VM_OUT/probe.csv" 2>/dev/null) || rows=0
vm_log "killed mdadm's monitor ($pids) at $(md_attr md0 sync_completed) member sectors; sync_max=$(md_attr md0 sync_max); probe CSV at line $rows"

{ reshaped -v supervise /dev/md0 --backup-file "$backup"; echo "reshaped: exit status $?"; } 2>&1 |
        stamp >"$VM_OUT/reshaped.log" &
sup=$!
n=0
while ! grep -q 'took over at' "$VM_OUT/reshaped.log" && [ $n -lt 300 ]; do
        sleep 0.1
        n=$((n + 1))
done
takeover=$(grep 'took over at' "$VM_OUT/reshaped.log") || {
        cat "$VM_OUT/reshaped.log"
        vm_fail "reshaped logged no take-over within 30 s"
}
md_fast md0
# Bounded: a supervisor that hangs shows its log instead of the runner's timeout.
( md_wait_idle md0 150 ) || {
        cat "$VM_OUT/reshaped.log"
        vm_stacks reshaped
        vm_fail "the reshape did not end"
}
wait "$sup"
wall=$(awk -v a="$(vm_now)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
wait "$probe" || vm_fail "probe failed: $(cat "$VM_OUT/probe.txt")"
grep -v ': \(suspend\|backup\|set-sync-max\|forget\|release\|resume\) slot=\|backed up array sectors' \
        "$VM_OUT/reshaped.log"
cat "$VM_OUT/probe.txt"
grep -q 'reshaped: exit status 0$' "$VM_OUT/reshaped.log" || vm_fail "reshaped supervise failed"

disks=$(md_attr md0 raid_disks)
[ "$disks" = 4 ] || vm_fail "raid_disks is '$disks' after the grow, not 4"
[ "$(vm_size_bytes /dev/md0)" = $((size / 2 * 3)) ] ||
        vm_fail "array size $(vm_size_bytes /dev/md0) after the grow, not $((size / 2 * 3))"
vm_timed vm-pattern verify --length "$size" /dev/md0 "$seed"

risk=$(vm_probe_risk md0 "$VM_OUT/probe.csv" "$VM_OUT/probe.txt" "$size" "$rows")
ok=$?
echo "$risk"
[ $ok = 0 ] || vm_fail "after the take-over the kernel could overwrite data no backup held"
stall=$(sed -n 's/^probe: .* stall=\([^ ]* ([^)]*)\).*/\1/p' "$VM_OUT/probe.txt")
vm_log "PASS: grow 3 -> 4 verified ($size bytes of the original size); reshape wall ${wall}s, stall $stall;" \
        "reshaped: ${takeover#*md0: }"
