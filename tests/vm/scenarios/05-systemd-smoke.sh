#!/bin/sh
# vm: mode=systemd disks=3 size=64M timeout=300
#
# The systemd guest works: boot reaches "running", a unit runs and
# journald records its output, mdadm's grow hand-off unit is there,
# and udev's md auto-assembly rule is masked (a stopped array stays
# stopped when its members are re-announced; unmasked, it assembles).
. "$VM_LIB"
set -u

vm_wait_booted
vm_log "system is running; PID 1 is $(cat /proc/1/comm)"
[ "$(cat /proc/1/comm)" = systemd ] || vm_fail "PID 1 is not systemd"

# A unit of our own (systemd-run would need D-Bus, which the guest does
# not run; systemctl talks to PID 1 over its private socket).
marker="vm-smoke-marker-$$"
cat >/etc/systemd/system/vm-smoke.service <<UNIT
[Service]
Type=oneshot
ExecStart=/bin/echo $marker
UNIT
vm_run systemctl daemon-reload
vm_run systemctl start vm-smoke.service
journalctl -u vm-smoke.service --no-pager -o cat | grep -qx "$marker" ||
        vm_fail "journalctl shows no '$marker' from vm-smoke.service"
vm_log "journalctl: vm-smoke.service logged '$marker'"

systemctl cat mdadm-grow-continue@.service >/dev/null ||
        vm_fail "mdadm-grow-continue@.service is missing"

vm_run mdadm --create /dev/md0 --run --metadata=1.2 --level=5 --raid-devices=3 --chunk=64 \
        --assume-clean $VM_DISKS
vm_run udevadm settle
vm_run mdadm --stop /dev/md0
for d in $VM_DISKS; do
        udevadm trigger --action=add "$d"
done
vm_run udevadm settle
sleep 1
[ -e /sys/block/md0/md/array_state ] && [ "$(md_attr md0 array_state)" != clear ] &&
        vm_fail "udev assembled md0 by itself: the assembly rule is not masked"
vm_log "udev left the stopped array alone"
# Control: without the mask the same events do assemble it, so the check
# above can fail.
vm_run rm /etc/udev/rules.d/64-md-raid-assembly.rules
vm_run udevadm control --reload
for d in $VM_DISKS; do
        udevadm trigger --action=add "$d"
done
vm_run udevadm settle
n=0
while ! grep -q '^md' /proc/mdstat && [ $n -lt 50 ]; do sleep 0.2; n=$((n + 1)); done
grep -q '^md' /proc/mdstat || vm_fail "unmasked, udev still did not assemble the array: control failed"
vm_log "control: unmasked, udev assembled $(grep -o '^md[^ ]*' /proc/mdstat)"

if [ "$VM_HAVE_RESHAPED" = 1 ]; then
        vm_run reshaped --help >/dev/null
        vm_log "reshaped runs on the host's libraries"
fi
