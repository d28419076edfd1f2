# vm: mode=systemd disks=4 size=256M scratch=1G timeout=900 needs=reshaped
# `systemctl stop` of mdadm's hand-off unit stops reshaped (issue: mdadm's
# unit says KillMode=none, so systemd would forget the process and leave
# it running unsupervised). A raid5 (0.90 metadata, 4 x 255 MiB) chunk
# change is handed off by `mdadm --grow --backup-file` to
# mdadm-grow-continue@md0 with reshaped's drop-in, the kernel slowed down;
# `systemctl stop` mid-reshape must end reshaped within its stop timeout,
# leave the unit inactive (a clean stop, not failed), no reshaped process,
# sync_max a number, no writes suspended and a backup that verifies.
# `systemctl start` of the unit then finishes the reshape; every byte
# matches the pattern.
. "$VM_LIB"
set -u

seed=5307
backup=$VM_SCRATCH/md0.backup
unit=mdadm-grow-continue@md0.service

vm_wait_booted
vm_array_filled 5 4 64 "$seed"
vm_install_dropin "$unit"
systemctl show -P KillMode "$unit" | grep -qx mixed ||
        vm_fail "$unit has KillMode=$(systemctl show -P KillMode "$unit"), not mixed"

md_set md0 sync_speed_min 1
md_set md0 sync_speed_max 2000
vm_timed mdadm --grow /dev/md0 --chunk=128 --backup-file="$backup"
pid=$(systemctl show -P MainPID "$unit")
[ "$pid" -gt 0 ] || vm_fail "$unit has no main process after mdadm --grow"
sleep 2
vm_log "before the stop: $(md_snapshot md0)"
t0=$(vm_now)
vm_timed systemctl stop "$unit"
vm_log "systemctl stop took $(vm_since "$t0") s: $(md_snapshot md0)"
journalctl -u "$unit" --no-pager -o cat | tail -n 5
state=$(systemctl show -P ActiveState "$unit")
result=$(systemctl show -P Result "$unit")
[ "$state" = inactive ] && [ "$result" = success ] ||
        vm_fail "$unit is $state (Result=$result) after systemctl stop, not inactive with success"
pids=$(pidof reshaped) && vm_fail "reshaped still runs after systemctl stop: pid $pids"
kill -0 "$pid" 2>/dev/null && vm_fail "the unit's process $pid still runs after systemctl stop"
[ "$(md_attr md0 sync_max)" != max ] || vm_fail "the stop left sync_max at max"
[ "$(md_attr md0 suspend_lo)" = "$(md_attr md0 suspend_hi)" ] ||
        vm_fail "writes to $(md_attr md0 suspend_lo)-$(md_attr md0 suspend_hi) stay suspended after the stop"
[ "$(md_attr md0 reshape_position)" != none ] || vm_fail "the reshape ended before the stop; slow it down more"
reshaped inspect "$backup" || vm_fail "the backup left by the stop does not verify"

md_fast md0
vm_timed systemctl start "$unit"
md_wait_idle md0 300
n=0
while [ "$(systemctl show -P ActiveState "$unit")" != inactive ] && [ $n -lt 150 ]; do
        sleep 0.2
        n=$((n + 1))
done
[ "$(systemctl show -P Result "$unit")" = success ] || vm_fail "$unit did not finish successfully"
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
vm_timed vm-pattern verify /dev/md0 "$seed"
vm_log "PASS: systemctl stop ended reshaped safely, systemctl start finished the reshape, every byte verified"
