#!/bin/sh
# vm: mode=busybox disks=4 size=256M scratch=128M timeout=900
#
# raid5 on 0.90 metadata, chunk 64K -> 128K with mdadm --grow
# --backup-file and mdadm's own monitor (MDADM_NO_SYSTEMCTL=1). Passes when
# the reshape finishes and every byte of the array verifies; prints the
# probe's figures for how far the kernel ran ahead of mdadm's backups.
. "$VM_LIB"
set -u

md=md0
seed=101
backup=$VM_SCRATCH/$md.backup

vm_run mdadm --create /dev/$md --run --metadata=0.90 --level=5 --raid-devices=4 --chunk=64 \
        --size=$((255 * 1024)) --assume-clean $VM_DISKS
md_fast $md
vm_timed vm-pattern fill /dev/$md $seed

vm-probe --md $md --backup "$backup" --csv "$VM_OUT/probe.csv" >"$VM_OUT/probe.txt" 2>&1 &
probe=$!
t0=$(vm_now)
MDADM_NO_SYSTEMCTL=1 vm_run mdadm --grow /dev/$md --chunk=128 --backup-file="$backup"
wait $probe || { cat "$VM_OUT/probe.txt"; vm_fail "the probe failed"; }
cat "$VM_OUT/probe.txt"
md_wait_idle $md 600
vm_log "reshape took $(vm_since "$t0")s"
# mdadm's monitor cleans up after the kernel finishes.
n=0
while pidof mdadm >/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
pidof mdadm >/dev/null && vm_fail "mdadm's monitor still runs after the reshape ended"

grep -q '^probe: end=completed' "$VM_OUT/probe.txt" || vm_fail "the probe did not see the reshape complete"
chunk=$(md_attr $md chunk_size)
[ "$chunk" = 131072 ] || vm_fail "chunk_size is '$chunk' after the reshape, not 131072"
vm_timed vm-pattern verify /dev/$md $seed
