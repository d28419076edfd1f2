#!/bin/sh
# vm: mode=busybox disks=4 size=128M timeout=600
#
# Checks the probe itself where reshaped will be measured: a numeric
# sync_max. The scenario plays a crude supervisor without backups: it
# raises sync_max by one step at a time and holds each step for a while.
# The probe must then report the hard-bound front (no "lower bound" note),
# a lag no larger than one step plus one reshape unit, a stall of at least
# most of the holds, and everything reshaped as unprotected.
. "$VM_LIB"
set -u

md=md0
seed=606
step_dev=16384          # sectors per member; a multiple of the old chunk
hold_s=0.5

vm_run mdadm --create /dev/$md --run --metadata=0.90 --level=5 --raid-devices=4 --chunk=64 \
        --size=$((127 * 1024)) --assume-clean $VM_DISKS
md_fast $md
vm_timed vm-pattern fill /dev/$md $seed

vm-probe --md $md --csv "$VM_OUT/probe.csv" >"$VM_OUT/probe.txt" 2>&1 &
probe=$!
md_set $md sync_action frozen
md_set $md chunk_size 131072
limit=$step_dev
md_set $md sync_max $limit
md_set $md sync_action reshape
steps=1
# Wait until the kernel has parked at the limit (it checkpoints there, and
# sync_completed reaches the limit), hold, then open the next step.
while [ "$(md_attr $md reshape_position)" != none ]; do
        done_dev=$(md_attr $md sync_completed | cut -d ' ' -f 1)
        if [ "$done_dev" = none ] || [ "$done_dev" -lt $limit ]; then
                sleep 0.05
                continue
        fi
        sleep $hold_s
        limit=$((limit + step_dev))
        echo $limit >/sys/block/$md/md/sync_max 2>/dev/null || md_set $md sync_max max
        steps=$((steps + 1))
done
wait $probe || { cat "$VM_OUT/probe.txt"; vm_fail "the probe failed"; }
cat "$VM_OUT/probe.txt"
md_wait_idle $md 600
vm_timed vm-pattern verify /dev/$md $seed

figure() {
        sed -n "s/.* $1=\([0-9.]*\).*/\1/p" "$VM_OUT/probe.txt" | head -n 1
}
lag=$(figure lag_max)
unprotected=$(figure unprotected_total)
reshaped=$(figure reshaped)
stall=$(figure stall)
# 3 data disks; one step plus one 128K reshape unit per member.
lag_bound=$(((step_dev + 256) * 3 * 512))
grep -q "sync_max was 'max'" "$VM_OUT/probe.txt" &&
        vm_fail "the probe fell back to the lower-bound front with a numeric sync_max"
[ "$lag" -gt 0 ] && [ "$lag" -le $lag_bound ] ||
        vm_fail "lag_max=$lag is not within (0, $lag_bound] for steps of $step_dev sectors"
[ "$unprotected" = "$reshaped" ] ||
        vm_fail "unprotected_total=$unprotected differs from reshaped=$reshaped with no backup at all"
awk -v s="$stall" -v n="$steps" -v h="$hold_s" 'BEGIN { exit !(s >= (n - 1) * h / 2) }' ||
        vm_fail "stall=${stall}s is less than half of the $((steps - 1)) holds of ${hold_s}s"
vm_log "probe figures consistent: $steps steps, lag_max=$lag <= $lag_bound, stall=${stall}s"
