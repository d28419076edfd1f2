#!/bin/sh
# vm: mode=busybox disks=4 size=40M timeout=600
#
# The kernel contract the supervisor stands on, on Debian's stock raid456:
# with a numeric sync_max the kernel records reshape_position in the
# superblock and notifies sync_completed half way from its last report to
# sync_max (S/2, 3S/4, 7S/8 ...), and stops at sync_max; raising sync_max
# lets it go on. vm-contract-watch follows every notification and checks
# each against that rule (see tests/vm/helpers/contract-watch.c).
#
# A 4-disk raid5, chunk 64K -> 128K in place: sync_max counts sectors per
# member, the reshape unit is max(old, new chunk) = 256 of them, and one
# of them is 3 array sectors (the data disks). Two windows: up to 16384,
# then raised to 32768; then sync_max=max to let the reshape finish, and
# every byte of the array must still verify.
#
# Then the restart half of the rule (raid5 since v4.3), on the way back to
# 64K: the reshape runs unlimited for 2 s, is frozen, gets sync_max = 256
# (below where it got to) and is let go; restarting beyond sync_max, the
# kernel must record its position and park.
. "$VM_LIB"
set -u

md=md0
seed=501
first=$(vm_disk 0)

command -v vm-contract-watch >/dev/null || vm_fail "vm-contract-watch is not in the guest (build it: meson compile)"
grep -q O /sys/module/raid456/taint && vm_fail "raid456 is not Debian's stock module (RESHAPED_VM_MODULES overrides it)"

vm_run mdadm --create /dev/$md --run --metadata=1.2 --level=5 --raid-devices=4 --chunk=64 \
        --bitmap=none --assume-clean $VM_DISKS
md_fast $md
vm_timed vm-pattern fill /dev/$md $seed

md_set $md sync_action frozen
md_set $md chunk_size 131072
vm-contract-watch --md $md --member "$first" --unit 256 --scale 3 16384 32768
status=$?
[ $status -eq 0 ] || vm_fail "stock raid5 does not meet the contract (vm-contract-watch exit status $status)"

md_set $md sync_max max
md_wait_idle $md 300
chunk=$(md_attr $md chunk_size)
[ "$chunk" = 131072 ] || vm_fail "chunk_size is '$chunk' after the reshape, not 131072"
vm_timed vm-pattern verify /dev/$md $seed

md_set $md sync_action frozen
md_set $md chunk_size 65536
md_set $md sync_speed_min 1000
md_set $md sync_speed_max 4000
vm-contract-watch --md $md --member "$first" --unit 256 --scale 3 --restart-after-ms 2000 256
status=$?
[ $status -eq 0 ] || vm_fail "stock raid5 does not record its position on restart (exit status $status)"
md_fast $md
md_set $md sync_max max
md_wait_idle $md 300
chunk=$(md_attr $md chunk_size)
[ "$chunk" = 65536 ] || vm_fail "chunk_size is '$chunk' after the second reshape, not 65536"
vm_timed vm-pattern verify /dev/$md $seed
vm_log "stock raid5 meets the contract"
