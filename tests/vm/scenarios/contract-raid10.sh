#!/bin/sh
# vm: mode=busybox disks=4 size=64M timeout=900 needs=kernel-patches
#
# The kernel contract of contract-raid5.sh, on raid10, where 6.1 does not
# provide it and kernel/patches does. The same reshape runs twice:
#   1. with Debian's stock raid10.ko, which must NOT meet the contract
#      (it parks at sync_max without a notification, and sync_completed
#      and reshape_position lag behind);
#   2. with raid10.ko built by kernel/build-modules from the patches
#      (/opt/vm/kernel-patches/), which must meet it.
# So the scenario passes only if the patches are what provides the rule.
#
# Each module also gets the restart half of the rule: a reshape frozen
# after running unlimited for 2 s and let go with sync_max below where it
# got to must record that position when it restarts (stock: it does not;
# patched: it does, as raid5 does).
#
# The reshape: near-2 raid10 on 4 disks, chunk 64K -> 128K. raid10 cannot
# reshape in place; it moves the data to a new data_offset on every member
# (32 MiB -> 1 MiB here, forwards). The move is that large so the kernel's
# own overlap checkpoints (when the next write could reach data the
# metadata still places in the old layout) stay beyond the windows tested.
# sync_max counts array sectors, the reshape unit is min(chunks, 64K) = 128
# of them, and the scale to reshape_position is 1. Windows: 32768, then
# 65536; then sync_max=max, and every byte of the array must verify.
. "$VM_LIB"
set -u

md=md0
first=$(vm_disk 0)
stock_ko=/lib/modules/$VM_KVER/kernel/drivers/md/raid10.ko
patched_ko=/opt/vm/kernel-patches/raid10.ko

command -v vm-contract-watch >/dev/null || vm_fail "vm-contract-watch is not in the guest (build it: meson compile)"
[ -f "$stock_ko" ] || vm_fail "no stock $stock_ko in the guest"
[ -f "$patched_ko" ] || vm_fail "no $patched_ko: the runner ships it for needs=kernel-patches"


# Creates the array, fills it with pattern seed $1 and sets up (but does
# not start) the reshape.
prepare_reshape() {
        vm_run mdadm --create /dev/$md --run --metadata=1.2 --level=10 --layout=n2 \
                --raid-devices=4 --chunk=64 --data-offset=32M --bitmap=none --assume-clean $VM_DISKS
        md_fast $md
        vm_timed vm-pattern fill /dev/$md "$1"
        md_set $md sync_action frozen
        for d in $VM_DISKS; do
                md_set $md "dev-${d#/dev/}/new_offset" 2048
        done
        md_set $md chunk_size 131072
}

# Runs vm-contract-watch with arguments $2..., its output also in
# $VM_OUT/watch-$1.txt; returns its exit status.
watch() {
        out=$VM_OUT/watch-$1.txt
        shift
        vm-contract-watch --md $md --member "$first" --unit 128 --scale 1 "$@" >"$out" 2>&1
        watch_status=$?
        cat "$out"
        return $watch_status
}

# The restart check runs slowly enough to be frozen half way.
restart_and_watch() {
        md_set $md sync_speed_min 1000
        md_set $md sync_speed_max 4000
        watch "$1" --restart-after-ms 2000 128
}

finish_and_verify() {
        md_set $md sync_max max
        vm_raid10_verified $md "$first" "$1"
}

vm_log "--- stock raid10: the contract must NOT be met"
vm_load_raid10 "$stock_ko" stock
prepare_reshape 1001
watch stock 32768 65536
status=$?
[ $status -eq 1 ] || vm_fail "stock raid10: vm-contract-watch exit status $status, expected 1 (contract not met)"
grep -q 'contract NOT met: kernel parked at 32768 (sync_max 32768) but the last notification was' \
        "$VM_OUT/watch-stock.txt" ||
        vm_fail "stock raid10 missed the contract, but not by parking at sync_max unannounced"
finish_and_verify 1001
prepare_reshape 1003
restart_and_watch stock-restart
status=$?
[ $status -eq 1 ] || vm_fail "stock raid10 restart: vm-contract-watch exit status $status, expected 1"
grep -q 'contract NOT met: restarted at .* without recording it' "$VM_OUT/watch-stock-restart.txt" ||
        vm_fail "stock raid10 missed the restart rule, but not by leaving the position unrecorded"
finish_and_verify 1003

vm_log "--- patched raid10 (kernel/patches): the contract must be met"
vm_load_raid10 "$patched_ko" patched
prepare_reshape 1002
watch patched 32768 65536
status=$?
[ $status -eq 0 ] || vm_fail "patched raid10 does not meet the contract (vm-contract-watch exit status $status)"
finish_and_verify 1002
prepare_reshape 1004
restart_and_watch patched-restart
status=$?
[ $status -eq 0 ] || vm_fail "patched raid10 restart does not record its position (exit status $status)"
finish_and_verify 1004

vm_log "stock raid10 misses the contract; raid10 with kernel/patches meets it"
