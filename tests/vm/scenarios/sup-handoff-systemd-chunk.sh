# vm: mode=systemd disks=4 size=256M scratch=1G timeout=900 needs=reshaped
# mdadm's systemd hand-off runs reshaped: the shipped drop-in
# (systemd/mdadm-grow-continue@.service.d/reshaped.conf, ExecStart pointed
# at the guest's binary) is installed, and `mdadm --grow --chunk=128
# --backup-file` on a raid5 (0.90 metadata, 4 x 255 MiB, chunk 64K) runs
# `systemctl restart mdadm-grow-continue@md0.service`, which now runs
# `reshaped supervise /dev/md0`. Passes when systemctl status shows the
# drop-in, mdadm started no monitor of its own, the journal holds
# reshaped's structured messages, the service ends successfully with the
# reshape, every byte of the array matches the pattern, and from the
# take-over on the kernel never ran beyond the backup (vm_probe_risk).
. "$VM_LIB"
set -u

seed=5303
backup=$VM_SCRATCH/md0.backup
unit=mdadm-grow-continue@md0.service
shipped=/opt/vm/systemd/mdadm-grow-continue@.service.d/reshaped.conf
dropin_dir=/etc/systemd/system/mdadm-grow-continue@.service.d

vm_wait_booted
[ -f "$shipped" ] || vm_fail "$shipped is missing: the runner ships the source tree's systemd/"
mkdir -p "$dropin_dir"
# The guest has reshaped in /opt/vm/bin, not /usr/sbin; nothing else changes.
sed 's|^ExecStart=/usr/sbin/reshaped |ExecStart=/opt/vm/bin/reshaped |' "$shipped" >"$dropin_dir/reshaped.conf"
grep -qx 'ExecStart=/opt/vm/bin/reshaped supervise /dev/%I' "$dropin_dir/reshaped.conf" ||
        vm_fail "the shipped drop-in has no 'ExecStart=/usr/sbin/reshaped supervise /dev/%I'"
vm_run systemctl daemon-reload
systemctl cat "$unit" | grep -qx 'ExecStart=/opt/vm/bin/reshaped supervise /dev/%I' ||
        vm_fail "systemctl cat $unit does not show the drop-in's ExecStart"

md_fast
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
        --metadata=0.90 --size=$((255 * 1024)) --assume-clean $(vm_disks 4)
md_fast md0
size=$(vm_size_bytes /dev/md0)
vm_timed vm-pattern fill /dev/md0 "$seed"
sync

vm-probe --md md0 --csv "$VM_OUT/probe.csv" --backup "$backup" >"$VM_OUT/probe.txt" 2>&1 &
probe=$!
t0=$(vm_now)
vm_timed mdadm --grow /dev/md0 --chunk=128 --backup-file="$backup"
pids=$(pidof mdadm) && vm_fail "mdadm forked its own monitor ($pids) instead of handing off to $unit"
systemctl status "$unit" --no-pager >"$VM_OUT/status.txt" 2>&1
cat "$VM_OUT/status.txt"
grep -q 'Drop-In:' "$VM_OUT/status.txt" && grep -q 'reshaped.conf' "$VM_OUT/status.txt" ||
        vm_fail "systemctl status $unit shows no Drop-In reshaped.conf"
grep -q '/opt/vm/bin/reshaped supervise /dev/md0' "$VM_OUT/status.txt" ||
        vm_fail "$unit does not run reshaped supervise /dev/md0"

( md_wait_idle md0 150 ) || {
        journalctl -u "$unit" --no-pager -o cat
        vm_stacks reshaped
        vm_fail "the reshape did not end"
}
wall=$(awk -v a="$(vm_now)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
wait "$probe" || vm_fail "probe failed: $(cat "$VM_OUT/probe.txt")"
cat "$VM_OUT/probe.txt"
# reshaped exits once it has seen the end; the service then goes inactive.
n=0
while [ "$(systemctl show -P ActiveState "$unit")" != inactive ] && [ $n -lt 150 ]; do
        sleep 0.2
        n=$((n + 1))
done
result=$(systemctl show -P Result "$unit")
status=$(systemctl show -P ExecMainStatus "$unit")
vm_log "$unit: ActiveState=$(systemctl show -P ActiveState "$unit") Result=$result ExecMainStatus=$status"
[ "$result" = success ] && [ "$status" = 0 ] || {
        journalctl -u "$unit" --no-pager -o cat
        vm_fail "$unit did not end successfully"
}

journalctl -u "$unit" --no-pager -o cat
journalctl -u "$unit" --no-pager -o verbose >"$VM_OUT/journal-verbose.txt"
for field in MESSAGE_ID RESHAPED_ARRAY=md0 RESHAPED_PERCENT; do
        grep -q "^ *$field" "$VM_OUT/journal-verbose.txt" || vm_fail "the journal of $unit has no $field field"
done
vm_log "journal fields: $(grep -c '^ *MESSAGE_ID=' "$VM_OUT/journal-verbose.txt") MESSAGE_IDs ($(sed -n 's/^ *MESSAGE_ID=//p' "$VM_OUT/journal-verbose.txt" | sort -u | tr '\n' ' ')), $(grep -c '^ *RESHAPED_PERCENT=' "$VM_OUT/journal-verbose.txt") progress records, last $(sed -n 's/^ *RESHAPED_PERCENT=//p' "$VM_OUT/journal-verbose.txt" | tail -n 1)%"
takeover=$(journalctl -u "$unit" --no-pager -o cat | grep 'took over at') ||
        vm_fail "reshaped logged no take-over"

[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
[ "$(vm_size_bytes /dev/md0)" = "$size" ] || vm_fail "the array size changed: $size -> $(vm_size_bytes /dev/md0)"
vm_timed vm-pattern verify /dev/md0 "$seed"

risk=$(vm_probe_risk md0 "$VM_OUT/probe.csv" "$VM_OUT/probe.txt" "$size" 0)
ok=$?
echo "$risk"
[ $ok = 0 ] || vm_fail "after the take-over the kernel could overwrite data no backup held"
stall=$(sed -n 's/^probe: .* stall=\([^ ]* ([^)]*)\).*/\1/p' "$VM_OUT/probe.txt")
vm_log "PASS: hand-off chunk change verified ($size bytes); reshape wall ${wall}s, stall $stall;" \
        "reshaped: ${takeover#*: }"
