# vm: mode=busybox disks=5 size=256M scratch=1G timeout=900 needs=reshaped
# A raid5 shrink from 5 to 4 disks (0.90 metadata, so mdadm must use the
# backup file; 255 MiB members, chunk 512K so that each unit the kernel
# rewrites lasts long enough for the probe to see it): the array is first
# reduced to what 3 data disks hold (mdadm --grow --array-size), filled,
# then `mdadm --grow --raid-devices=4 --backup-file` starts the reshape,
# which runs backwards; mdadm's own monitor (MDADM_NO_SYSTEMCTL=1) is
# killed as soon as mdadm returns and `reshaped supervise` takes over.
# The risky part of a shrink is its end (the lowest member offsets).
# Passes when the reshape ends with 4 members, every byte of the reduced
# array matches the pattern, and from the take-over on the kernel never
# overwrote data no backup section held (vm_probe_risk).
. "$VM_LIB"
set -u

seed=5505
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

# Prefixes each line with the guest's uptime.
stamp() {
        while IFS= read -r line; do
                echo "[$(vm_now)] $line"
        done
}

md_fast
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=5 --chunk=512 \
        --metadata=0.90 --size=$((255 * 1024)) --assume-clean $(vm_disks 5)
md_fast md0
vm_run mdadm --grow /dev/md0 --array-size=$((3 * 255 * 1024))
size=$(vm_size_bytes /dev/md0)
[ "$size" = $((3 * 255 * 1024 * 1024)) ] || vm_fail "array size $size after --array-size, not $((3 * 255 * 1024 * 1024))"
vm_timed vm-pattern fill /dev/md0 "$seed"
sync

vm-probe --md md0 --csv "$VM_OUT/probe.csv" --backup "$backup" >"$VM_OUT/probe.txt" 2>&1 &
probe=$!
t0=$(vm_now)
MDADM_NO_SYSTEMCTL=1 vm_run mdadm --grow /dev/md0 --raid-devices=4 --backup-file="$backup"
pids=$(pidof mdadm) || vm_fail "mdadm forked no monitor of its own"
vm_run kill -KILL $pids
rows=$(wc -l <"$VM_OUT/probe.csv" 2>/dev/null) || rows=0
vm_log "killed mdadm's monitor ($pids) at $(md_attr md0 sync_completed) member sectors;" \
        "sync_max=$(md_attr md0 sync_max) direction=$(md_attr md0 reshape_direction); probe CSV at line $rows"

{ reshaped -v supervise /dev/md0 --backup-file "$backup"; echo "reshaped: exit status $?"; } 2>&1 |
        stamp >"$VM_OUT/reshaped.log" &
sup=$!
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
takeover=$(grep 'took over at' "$VM_OUT/reshaped.log") || vm_fail "reshaped logged no take-over"

disks=$(md_attr md0 raid_disks)
[ "$disks" = 4 ] || vm_fail "raid_disks is '$disks' after the shrink, not 4"
[ "$(vm_size_bytes /dev/md0)" = "$size" ] ||
        vm_fail "array size $(vm_size_bytes /dev/md0) after the shrink, not $size"
vm_timed vm-pattern verify /dev/md0 "$seed"

risk=$(vm_probe_risk md0 "$VM_OUT/probe.csv" "$VM_OUT/probe.txt" "$size" "$rows")
ok=$?
echo "$risk"
[ $ok = 0 ] || vm_fail "after the take-over the kernel could overwrite data no backup held"
stall=$(sed -n 's/^probe: .* stall=\([^ ]* ([^)]*)\).*/\1/p' "$VM_OUT/probe.txt")
vm_log "PASS: shrink 5 -> 4 verified ($size bytes); reshape wall ${wall}s, stall $stall;" \
        "reshaped: ${takeover#*md0: }"
