#!/bin/sh
# vm: mode=busybox disks=4 size=256M timeout=900 needs=reshaped
#
# The same chunk 64K -> 128K reshape of a 0.90 raid5, started through
# sysfs with sync_max left at "max" and nothing supervising it: the
# kernel's unthrottled speed, the upper limit any supervisor is measured
# against. Passes when the reshape finishes and every byte verifies;
# prints the probe's figures (with no backup, everything is unprotected).
. "$VM_LIB"
set -u

md=md0
seed=202

vm_run mdadm --create /dev/$md --run --metadata=0.90 --level=5 --raid-devices=4 --chunk=64 \
        --size=$((255 * 1024)) --assume-clean $VM_DISKS
md_fast $md
vm_timed vm-pattern fill /dev/$md $seed

vm-probe --md $md --csv "$VM_OUT/probe.csv" >"$VM_OUT/probe.txt" 2>&1 &
probe=$!
t0=$(vm_now)
# What mdadm --grow does, minus the backup: freeze, new geometry, go.
md_set $md sync_action frozen
md_set $md chunk_size 131072
[ "$(md_attr $md sync_max)" = max ] || vm_fail "sync_max is '$(md_attr $md sync_max)', not max"
md_set $md sync_action reshape
st=0; reshaped status $md >"$VM_OUT/status.txt" 2>&1 || st=$?
cat "$VM_OUT/status.txt"
[ $st = 1 ] && grep -q '^  State: *UNPROTECTED: sync_max is max' "$VM_OUT/status.txt" &&
        grep -q "Fix: *reshaped supervise /dev/$md --backup-file FILE" "$VM_OUT/status.txt" ||
        vm_fail "reshaped status (exit $st) did not report the reshape as UNPROTECTED"
wait $probe || { cat "$VM_OUT/probe.txt"; vm_fail "the probe failed"; }
cat "$VM_OUT/probe.txt"
md_wait_idle $md 600
vm_log "reshape took $(vm_since "$t0")s"

grep -q '^probe: end=completed' "$VM_OUT/probe.txt" || vm_fail "the probe did not see the reshape complete"
chunk=$(md_attr $md chunk_size)
[ "$chunk" = 131072 ] || vm_fail "chunk_size is '$chunk' after the reshape, not 131072"
vm_timed vm-pattern verify /dev/$md $seed
