# vm: mode=systemd disks=4 size=128M timeout=900 needs=reshaped
# `mdadm --grow --chunk=128` without --backup-file on a raid5 with 1.2
# metadata and room before the data (4 x 128 MiB, chunk 64K): mdadm moves
# data_offset itself (Grow.c set_new_data_offset()), starts the reshape
# and returns. It hands nothing to mdadm-grow-continue@md0 on that path
# (reshape_array() returns right after sync_action=reshape when the level
# stays), so the kernel runs unsupervised at sync_max=max; that is safe,
# the new layout goes beside the old. With reshaped's drop-in installed,
# starting that unit (as mdadm does for the backup path) runs `reshaped
# supervise`, which must take it over as a relocating reshape: no backup
# file, paced to the end, progress in the journal, not at risk.
#
# Asserts: mdadm moved new_offset on every member and left sync_max=max;
# whether mdadm started the unit itself is logged (on Debian's mdadm 4.2
# it does not); the unit, started, supervises to the end and succeeds; the
# journal says it took over, that no backup file is needed, and has
# progress records; the chunk is 128K, every member's data_offset moved by
# what mdadm set, and every byte matches the pattern.
. "$VM_LIB"
set -u

seed=7102
unit=mdadm-grow-continue@md0.service

vm_wait_booted
md_fast
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
        --metadata=1.2 --assume-clean $VM_DISKS
md_fast md0
size=$(vm_size_bytes /dev/md0)
vm_timed vm-pattern fill /dev/md0 "$seed"
sync
vm_install_dropin "$unit"

md_set md0 sync_speed_min 1
md_set md0 sync_speed_max 1
vm_timed mdadm --grow /dev/md0 --chunk=128
moved=""
for d in $VM_DISKS; do
        n=${d#/dev/}
        off=$(md_attr md0 "dev-$n/offset") new=$(md_attr md0 "dev-$n/new_offset")
        vm_log "$n: offset $off new_offset $new"
        [ "$off" != "$new" ] || vm_fail "mdadm did not move data_offset on $n: this is not the offset path"
        moved="$moved $n:$new"
done
vm_log "after mdadm: sync_max=$(md_attr md0 sync_max) direction=$(md_attr md0 reshape_direction) sync_action=$(md_attr md0 sync_action)"
[ "$(md_attr md0 sync_max)" = max ] || vm_fail "mdadm left sync_max $(md_attr md0 sync_max), not max"
state=$(systemctl show -P ActiveState "$unit")
vm_log "mdadm started $unit itself: $([ "$state" = inactive ] && echo no || echo "yes ($state)"); mdadm monitor pids: $(pidof mdadm || echo none)"
if [ "$state" = inactive ]; then
        vm_run systemctl start "$unit"
fi
systemctl status "$unit" --no-pager >"$VM_OUT/status.txt" 2>&1
cat "$VM_OUT/status.txt"
grep -q "/opt/vm/bin/reshaped supervise /dev/md0" "$VM_OUT/status.txt" || vm_fail "$unit does not run reshaped supervise"
reshaped status md0 >"$VM_OUT/rstatus.txt" 2>&1
cat "$VM_OUT/rstatus.txt"
grep -q 'State: *NOT AT RISK' "$VM_OUT/rstatus.txt" || vm_fail "reshaped status did not say nothing is at risk"
md_fast md0
t0=$(vm_now)
( md_wait_idle md0 150 ) || {
        journalctl -u "$unit" --no-pager -o cat
        vm_fail "the reshape did not end"
}
wall=$(vm_since "$t0")
n=0
while [ "$(systemctl show -P ActiveState "$unit")" != inactive ] && [ $n -lt 150 ]; do
        sleep 0.2
        n=$((n + 1))
done
journalctl -u "$unit" --no-pager -o cat | grep -v ': set-sync-max \|: release '
result=$(systemctl show -P Result "$unit") status=$(systemctl show -P ExecMainStatus "$unit")
[ "$result" = success ] && [ "$status" = 0 ] || vm_fail "$unit ended with Result=$result ExecMainStatus=$status"
journalctl -u "$unit" --no-pager -o cat >"$VM_OUT/journal.txt"
journalctl -u "$unit" --no-pager -o verbose >"$VM_OUT/journal-verbose.txt"
grep -q 'took over at' "$VM_OUT/journal.txt" || vm_fail "reshaped logged no take-over"
grep -q 'No backup file is needed' "$VM_OUT/journal.txt" || vm_fail "reshaped did not say no backup file is needed"
grep -q 'No backup file for' "$VM_OUT/journal.txt" && vm_fail "reshaped asked for a backup file"
grep -q '^ *RESHAPE_PERCENT=' "$VM_OUT/journal-verbose.txt" || vm_fail "no progress records in the journal"
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
[ "$(vm_size_bytes /dev/md0)" = "$size" ] || vm_fail "the array size changed: $size -> $(vm_size_bytes /dev/md0)"
for m in $moved; do
        [ "$(md_attr md0 "dev-${m%%:*}/offset")" = "${m#*:}" ] ||
                vm_fail "${m%%:*}: data_offset is $(md_attr md0 "dev-${m%%:*}/offset"), not ${m#*:}"
done
vm_timed vm-pattern verify /dev/md0 "$seed"
vm_log "PASS: mdadm's offset path supervised by reshaped to the end, ${wall}s after the take-over, every byte ($size) verified"
