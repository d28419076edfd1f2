# vm: mode=systemd disks=4 size=256M scratch=1G timeout=900 needs=reshaped
# mdadm's hand-off under systemd, its supervisor killed with SIGKILL: the
# drop-in's Restart=on-failure makes systemd start `reshaped supervise`
# again by itself (NRestarts 1, a new main pid, over the lock the killed
# one left), a `reshaped supervise` by hand meanwhile refuses and names
# the service's pid and unit, and the reshape ends with every byte of the
# array matching the pattern.
. "$VM_LIB"
set -u

seed=5309
backup=$VM_SCRATCH/md0.backup
unit=mdadm-grow-continue@md0.service
dir=/etc/systemd/system/mdadm-grow-continue@.service.d

vm_wait_booted
vm_array_filled 5 4 64 "$seed"
mkdir -p "$dir"
cp /opt/vm/installed/systemd/mdadm-grow-continue@.service.d/reshaped.conf "$dir/reshaped.conf"
grep -qx 'Restart=on-failure' "$dir/reshaped.conf" || vm_fail "the shipped drop-in has no Restart=on-failure"
vm_run systemctl daemon-reload

# Slow, so that it is still running when killed.
md_set md0 sync_speed_min 1
md_set md0 sync_speed_max 1
vm_timed mdadm --grow /dev/md0 --chunk=128 --backup-file="$backup"

main_pid() {
        systemctl show -P MainPID "$unit"
}

wait_supervising() {
        _n=0
        until journalctl -u "$unit" --no-pager -o cat | grep -q "supervising the reshape from" &&
              [ "$(journalctl -u "$unit" --no-pager -o cat | grep -c 'supervising the reshape from')" -ge "$1" ]; do
                _n=$((_n + 1))
                [ $_n -lt 300 ] || { journalctl -u "$unit" --no-pager -o cat; vm_fail "$unit never supervised ($1)"; }
                sleep 0.1
        done
}

wait_supervising 1
old=$(main_pid)
[ "$old" -gt 0 ] || vm_fail "$unit has no main pid"
_st=0
reshaped supervise /dev/md0 >"$VM_OUT/refused.txt" 2>&1 || _st=$?
cat "$VM_OUT/refused.txt"
[ $_st = 1 ] && grep -q "already supervised by reshaped pid $old of $unit" "$VM_OUT/refused.txt" ||
        vm_fail "a second supervise did not refuse naming pid $old of $unit"

vm_log "SIGKILL to $unit's main pid $old: $(md_snapshot md0)"
kill -KILL "$old"
_n=0
while :; do
        new=$(main_pid)
        [ "$new" -gt 0 ] && [ "$new" != "$old" ] && break
        _n=$((_n + 1))
        [ $_n -lt 200 ] || { systemctl status "$unit" --no-pager; vm_fail "systemd did not restart $unit"; }
        sleep 0.1
done
wait_supervising 2
vm_log "$unit restarted by systemd: main pid $new, NRestarts=$(systemctl show -P NRestarts "$unit"), lock holds $(cat /run/reshaped/md0.lock)"
[ "$(systemctl show -P NRestarts "$unit")" = 1 ] || vm_fail "NRestarts is not 1"
[ "$(cat /run/reshaped/md0.lock)" = "$new" ] || vm_fail "the restarted supervisor does not hold the lock"

md_fast md0
md_wait_idle md0 300
journalctl -u "$unit" --no-pager -o cat | tail -n 15
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
VM_MATRIX="raid5 on 4, mdadm --grow --chunk=128 handed off|0.90|SIGKILL, the VM running on|the service's supervisor mid-reshape|reshaped|systemd's restart of the drop-in"
vm_matrix_verify "$seed"
vm_log "PASS: SIGKILLed under systemd, restarted by the drop-in's Restart=, every byte verified"
