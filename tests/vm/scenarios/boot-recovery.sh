# vm: mode=systemd disks=4 size=128M scratch=512M timeout=420 needs=reshaped install=reshaped
# Recovery at boot with no one typing. The guest is a machine with
# reshaped installed (install=reshaped: the units `meson install` ships,
# reshaped-recover.service enabled, mdadm's udev incremental assembly
# active as on Debian, /var/lib/reshaped persistent). Boot 1: a raid5
# (0.90, 4 x 127 MiB, chunk 64K) filled with the pattern, `mdadm --grow
# --chunk=128 --backup-file` hands the reshape to reshaped through the
# shipped drop-in, power cut at 40%. Boot 2 types nothing: it waits for
# reshaped-recover.service to end and passes when it ended successfully,
# its journal shows the backup verified before the array was assembled,
# the array was written back and supervised to the end, and every byte of
# the array matches the pattern.
. "$VM_LIB"
set -u

seed=7411
backup=$VM_SCRATCH/md0.backup
unit=reshaped-recover.service

vm_wait_booted

if [ "$VM_BOOT" = 1 ]; then
        md_fast
        vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
                --metadata=0.90 --size=$((127 * 1024)) --assume-clean $(vm_disks 4)
        md_fast md0
        echo "size_bytes=$(vm_size_bytes /dev/md0)" >"$VM_OUT/array.txt"
        vm_timed vm-pattern fill /dev/md0 "$seed"
        sync
        systemctl is-enabled "$unit" || vm_fail "$unit is not enabled by the installed files"
        vm_run mdadm --grow /dev/md0 --chunk=128 --backup-file="$backup"
        md_fast md0
        systemctl status mdadm-grow-continue@md0.service --no-pager | grep -q '/opt/vm/bin/reshaped supervise' ||
                vm_fail "mdadm-grow-continue@md0 does not run reshaped supervise"
        ls -l /var/lib/reshaped
        # mdadm's last resort (mdadm --run) must leave a recorded reshape alone.
        systemctl cat mdadm-last-resort@md0.service | grep -qx 'ExecCondition=/opt/vm/bin/reshaped recover --leave-to-mdadm %i' ||
                vm_fail "mdadm-last-resort@md0.service has no ExecCondition from reshaped's drop-in"
        reshaped recover --leave-to-mdadm md0 && vm_fail "recover --leave-to-mdadm md0 lets mdadm start a recorded reshape"
        vm_power_cut_at md0 40
fi

cat "$VM_OUT/cut.1.txt"
vm_log "no one types from here on; waiting for $unit"
if [ "$(systemctl show -P LoadState "$unit")" != loaded ]; then
        sleep 5
        cat /proc/mdstat
        vm_fail "$unit is not installed ($(systemctl show -P LoadState "$unit")); md0 is $(md_attr md0 array_state 2>&1)"
fi
n=0
while :; do
        [ "$(systemctl show -P ConditionResult "$unit")" = no ] &&
                [ "$(systemctl show -P ConditionTimestampMonotonic "$unit")" != 0 ] &&
                vm_fail "$unit did not run: a condition failed ($(ls -la /var/lib/reshaped))"
        state=$(systemctl show -P ActiveState "$unit")
        [ "$state" = inactive ] || [ "$state" = failed ] && [ "$(systemctl show -P ExecMainStartTimestampMonotonic "$unit")" != 0 ] && break
        n=$((n + 1))
        if [ $n -ge 900 ]; then
                cat /proc/mdstat
                journalctl -b --no-pager -o short-monotonic -u "$unit"
                vm_fail "$unit did not end in 180 s (ActiveState=$state)"
        fi
        sleep 0.2
done
journalctl -b --no-pager -o short-monotonic | grep -E 'mdadm|reshaped|md0|md12' | grep -v 'kernel: md/raid' >"$VM_OUT/boot.journal.txt"
cat "$VM_OUT/boot.journal.txt"
vm_unit_ended_ok "$unit" 1

journalctl -b --no-pager -o cat -u "$unit" >"$VM_OUT/recover.journal.txt"
vm_recovery_in_order "$VM_OUT/recover.journal.txt"
grep -q 'reshape finished in' "$VM_OUT/recover.journal.txt" || vm_fail "the journal of $unit does not say the reshape finished"
grep -q 'restoring it from' "$VM_OUT/recover.journal.txt" || vm_fail "reshaped recover did not name the array it restored"

md_wait_idle md0 30
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
size=$(sed -n 's/^size_bytes=//p' "$VM_OUT/array.txt")
[ "$(vm_size_bytes /dev/md0)" = "$size" ] || vm_fail "the array size changed: $size -> $(vm_size_bytes /dev/md0)"
vm_timed vm-pattern verify /dev/md0 "$seed"
[ -z "$(ls -A /var/lib/reshaped)" ] || vm_fail "records left in /var/lib/reshaped: $(ls -A /var/lib/reshaped)"
vm_log "PASS: power cut at 40%, the next boot restored and finished the reshape by itself; every byte verified"
