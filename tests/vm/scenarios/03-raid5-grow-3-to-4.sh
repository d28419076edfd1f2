#!/bin/sh
# vm: mode=busybox disks=4 size=256M scratch=64M timeout=900
#
# Grow a 1.2-metadata raid5 from 3 to 4 disks with mdadm (its own
# monitor). Passes when the reshape finishes, the array has 4 members and
# the pattern written over the original size verifies (the new tail is
# not checked).
. "$VM_LIB"
set -u

md=md0
seed=303
backup=$VM_SCRATCH/$md.backup

vm_run mdadm --create /dev/$md --run --metadata=1.2 --level=5 --raid-devices=3 --chunk=64 \
        --assume-clean $(vm_disks 3)
md_fast $md
size=$(vm_size_bytes /dev/$md)
vm_timed vm-pattern fill /dev/$md $seed
vm_run mdadm /dev/$md --add "$(vm_disk 3)"

vm-probe --md $md --backup "$backup" --csv "$VM_OUT/probe.csv" >"$VM_OUT/probe.txt" 2>&1 &
probe=$!
t0=$(vm_now)
MDADM_NO_SYSTEMCTL=1 vm_run mdadm --grow /dev/$md --raid-devices=4 --backup-file="$backup"
wait $probe || { cat "$VM_OUT/probe.txt"; vm_fail "the probe failed"; }
cat "$VM_OUT/probe.txt"
md_wait_idle $md 600
vm_log "reshape took $(vm_since "$t0")s"
n=0
while pidof mdadm >/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
pidof mdadm >/dev/null && vm_fail "mdadm's monitor still runs after the reshape ended"

disks=$(md_attr $md raid_disks)
[ "$disks" = 4 ] || vm_fail "raid_disks is '$disks' after the grow, not 4"
vm_log "array size $size -> $(vm_size_bytes /dev/$md) bytes"
vm_timed vm-pattern verify --length "$size" /dev/$md $seed
