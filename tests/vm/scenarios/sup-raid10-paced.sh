# vm: mode=busybox disks=4 size=64M timeout=900 needs=kernel-patches
#
# A raid10 reshape paced by `reshaped supervise` with the patched
# raid10.ko (kernel/patches) finishes with every byte verified.
#
# The reshape of contract-raid10.sh: near-2 raid10 on 4 disks, chunk
# 64K -> 128K, data_offset 32 MiB -> 1 MiB (forwards); raid10 cannot
# reshape in place, so nothing is at risk and no backup file is given.
# It is started with sync_max=max and throttled, as mdadm would leave it,
# so supervise has to take it over (freeze, sync_max to the checkpoint,
# restart: patch 3 records the restart position); then the throttle goes
# and supervise paces the rest in 4 MiB windows (--max-window 4M), raising
# sync_max at the kernel's halfway notifications.
#
# Asserts: supervise exits 0 after saying it paces without a backup; it
# took over; it raised sync_max about once per 4 MiB window left after
# the take-over, at least 6 times, and never fell back to lock-step; the
# kernel waited at the limit under 20% of the time; the reshape ended with
# the new chunk and offset; every byte matches the pattern.
#
# Then the same with Debian's stock raid10.ko, which has no halfway rule:
# supervise must log the lock-step fallback and still finish with every
# byte verified.
. "$VM_LIB"
set -u

md=md0
first=$(vm_disk 0)
stock_ko=/lib/modules/$VM_KVER/kernel/drivers/md/raid10.ko
patched_ko=/opt/vm/kernel-patches/raid10.ko

command -v reshaped >/dev/null || vm_fail "reshaped is not in the guest (build it first)"
[ -f "$patched_ko" ] || vm_fail "no $patched_ko: the runner ships it for needs=kernel-patches"
# Nothing is recorded for a paced reshape, but the busybox guest has no
# /var/lib for a lookup to find either.
export RESHAPED_STATE_DIR=/tmp/reshaped-state


# Creates the array, fills it with pattern seed $1, and starts the reshape
# unlimited (sync_max=max) at 2 MiB/s.
start_reshape() {
        vm_run mdadm --create /dev/$md --run --metadata=1.2 --level=10 --layout=n2 \
                --raid-devices=4 --chunk=64 --data-offset=32M --bitmap=none --assume-clean $VM_DISKS
        md_fast $md
        vm_timed vm-pattern fill /dev/$md "$1"
        sync
        md_set $md sync_action frozen
        for d in $VM_DISKS; do
                md_set $md "dev-${d#/dev/}/new_offset" 2048
        done
        md_set $md chunk_size 131072
        md_set $md sync_speed_min 500
        md_set $md sync_speed_max 2000
        md_set $md sync_max max
        md_set $md sync_action reshape
}

# Waits up to $2 s for a line matching $1 in the log $3.
wait_log() {
        n=0
        until grep -q "$1" "$3" 2>/dev/null; do
                n=$((n + 1))
                if [ $n -ge $(($2 * 20)) ]; then
                        cat "$3"
                        vm_fail "reshaped supervise logged no '$1' in $2 s"
                fi
                sleep 0.05
        done
}

# Supervises with log $VM_OUT/supervise-$1.txt, lifting the throttle once
# the take-over is done; prints the sync_max steps and the wall time.
supervise() {
        log=$VM_OUT/supervise-$1.txt
        sleep 1
        front=$(md_attr $md sync_completed)
        t0=$(vm_now)
        reshaped -v supervise /dev/$md --max-window 4M >"$log" 2>&1 &
        sup=$!
        wait_log 'took over at' 30 "$log"
        md_fast $md
        wait "$sup"
        status=$?
        wall=$(vm_since "$t0")
        grep -v ': set-sync-max \|: release \|^\[' "$log"
        steps=$(sed -n 's/.*: set-sync-max .*progress=\([0-9]*\).*/\1/p' "$log" | tr '\n' ' ')
        raises=$(grep -c ': set-sync-max ' "$log")
        vm_log "$1: sync_completed before the take-over: $front"
        vm_log "$1: sync_max steps (array sectors): $steps then max"
        vm_log "$1: $raises sync_max raises; supervise exit status $status; wall ${wall}s"
        [ "$status" = 0 ] || vm_fail "$1: reshaped supervise exit status $status"
        grep -q 'no backup file is needed\|No backup file is needed' "$log" ||
                vm_fail "$1: supervise did not say it paces without a backup"
        grep -q ': release ' "$log" || vm_fail "$1: sync_max was never released at the end"
}

vm_log "--- patched raid10: paced at the halfway notifications"
vm_load_raid10 "$patched_ko" patched
start_reshape 1101
supervise patched
log=$VM_OUT/supervise-patched.txt
grep -q 'pacing the reshape' "$log" || vm_fail "supervise did not say it paces"
grep -q 'lock-step' "$log" && vm_fail "the patched kernel fell back to lock-step"
# One raise per 4 MiB window left after the take-over (the last is "max").
taken=$(sed -n 's/.*took over at \([0-9]*\)\.[0-9]*%.*/\1/p' "$log")
[ -n "$taken" ] || vm_fail "no take-over percentage in the log"
windows=$(((100 - taken) * 64 / 100 / 4))
vm_log "patched: took over at ${taken}%, $windows windows of 4 MiB left, $raises raises"
[ "$raises" -ge 6 ] && [ "$raises" -ge $((windows - 2)) ] ||
        vm_fail "only $raises sync_max raises for $windows windows: the reshape was not paced in windows"
waited=$(sed -n 's/.*the kernel waited at the limit \([0-9.]*\)% of the time.*/\1/p' "$log")
[ -n "$waited" ] || vm_fail "no finish line with the time the kernel waited"
awk -v w="$waited" 'BEGIN { exit !(w < 20) }' || vm_fail "the kernel waited at the limit $waited% of the time"
vm_raid10_verified $md "$first" 1101
vm_log "PASS patched: $raises raises, kernel waited $waited% of the time, wall ${wall}s, every byte verified"

vm_log "--- stock raid10: no halfway rule, lock-step fallback"
[ -f "$stock_ko" ] || vm_fail "no stock $stock_ko in the guest"
vm_load_raid10 "$stock_ko" stock
start_reshape 1102
supervise stock
grep -q 'falling back to lock-step pacing' "$VM_OUT/supervise-stock.txt" ||
        vm_fail "the stock kernel did not make supervise fall back to lock-step"
vm_raid10_verified $md "$first" 1102
vm_log "PASS stock: lock-step fallback logged, wall ${wall}s, every byte verified"
