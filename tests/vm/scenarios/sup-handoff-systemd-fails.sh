# vm: mode=systemd disks=5 size=256M scratch=1G timeout=900 needs=reshaped
# When reshaped cannot take a hand-off, the failure is loud. raid5 (0.90,
# 4 x 255 MiB), `mdadm --grow --chunk=128` with reshaped's drop-in and the
# backup file on tmpfs (/run), which reshaped refuses (it would not
# survive the power cut it is for). mdadm then falls back to forking its
# own monitor (its hand-off unit failed), which runs the reshape without
# holding the kernel to its backups. Passes when the service's result is
# not success, the journal holds reshaped's failure entry at
# priority err with its MESSAGE_ID (4da7466d...) and a text that names
# the state (running with sync_max=max, unprotected), `reshaped status`
# says UNPROTECTED and exits 1 while mdadm's monitor runs it, and, once it
# has ended, every byte matches the pattern.
. "$VM_LIB"
set -u

seed=5311
backup=/run/md0.backup
unit=mdadm-grow-continue@md0.service
failed_id=4da7466debbc4a5ea89fab27e692b54f

vm_wait_booted
vm_array_filled 5 4 64 "$seed"
vm_install_dropin "$unit"
# Slow, so that mdadm's own monitor is still at work when status looks.
md_set md0 sync_speed_min 1000
md_set md0 sync_speed_max 2000
vm_run mdadm --grow /dev/md0 --chunk=128 --backup-file="$backup"
monitor=$(pidof mdadm) || vm_fail "mdadm forked no monitor of its own after its hand-off failed"
vm_log "mdadm's own monitor runs (pid $monitor): $(md_snapshot md0)"

_n=0
while [ "$(systemctl show -P ActiveState "$unit")" = activating ] && [ $_n -lt 100 ]; do
        sleep 0.2
        _n=$((_n + 1))
done
systemctl status "$unit" --no-pager >"$VM_OUT/unit-status.txt" 2>&1
cat "$VM_OUT/unit-status.txt"
journalctl -u "$unit" --no-pager -o cat
result=$(systemctl show -P Result "$unit")
vm_log "$unit: Result=$result NRestarts=$(systemctl show -P NRestarts "$unit") ExecMainStatus=$(systemctl show -P ExecMainStatus "$unit")"
[ "$result" != success ] || vm_fail "$unit reports success"
journalctl -u "$unit" --no-pager -o verbose "MESSAGE_ID=$failed_id" >"$VM_OUT/failed.txt"
grep -q "PRIORITY=3" "$VM_OUT/failed.txt" || vm_fail "no failure entry at priority err (MESSAGE_ID=$failed_id) in the journal of $unit"
grep -q "RESHAPE_DEVICE=md0" "$VM_OUT/failed.txt" || vm_fail "the failure entry names no RESHAPE_DEVICE"
grep -q "UNPROTECTED" "$VM_OUT/failed.txt" || vm_fail "the failure entry does not say the reshape runs unprotected: $(grep MESSAGE= "$VM_OUT/failed.txt")"
journalctl -x -u "$unit" --no-pager >"$VM_OUT/failed-x.txt"
grep -q "reshaped failed: the reshape of md0 is not supervised" "$VM_OUT/failed-x.txt" ||
        vm_log "(journalctl -x shows no catalog text: the catalog is not installed in this guest)"

if [ "$(md_attr md0 reshape_position)" != none ]; then
        st=0
        reshaped status /dev/md0 >"$VM_OUT/status.txt" 2>&1 || st=$?
        cat "$VM_OUT/status.txt"
        [ $st = 1 ] || vm_fail "reshaped status exited $st, not 1, for a reshape nobody protects"
        grep -q UNPROTECTED "$VM_OUT/status.txt" || vm_fail "reshaped status does not say UNPROTECTED"
else
        vm_log "the reshape ended before status could look"
fi

md_fast md0
md_wait_idle md0 300
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
vm_timed vm-pattern verify /dev/md0 "$seed"
vm_log "PASS: the failed hand-off was loud (unit failed, err entry $failed_id naming the unprotected state, status UNPROTECTED); mdadm's own monitor finished it, every byte verified"
