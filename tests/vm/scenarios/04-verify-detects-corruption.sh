#!/bin/sh
# vm: mode=busybox disks=3 size=64M timeout=300
#
# Negative control for vm-pattern: overwrite one data chunk on a member
# behind md's back and require the verifier to fail and to name exactly
# that chunk. Passes only if it does.
. "$VM_LIB"
set -u

md=md0
seed=404
chunk=65536

vm_run mdadm --create /dev/$md --run --metadata=1.2 --level=5 --raid-devices=3 --chunk=64 \
        --assume-clean $VM_DISKS
vm_timed vm-pattern fill /dev/$md $seed
vm_run vm-pattern verify /dev/$md $seed

# Left-symmetric raid5 on 3 disks: array chunk 3 is in stripe 1, whose
# parity is on role 1; its data starts on role 2, so chunk 3 is on role 0
# (the first disk) one chunk into the data area.
member=$(vm_disk 0)
offset_sectors=$(md_attr $md "dev-${member#/dev/}/offset")
vm_run mdadm --stop /dev/$md
vm_run dd if=/dev/urandom of="$member" bs=512 seek=$((offset_sectors + chunk / 512)) \
        count=$((chunk / 512)) conv=notrunc,fsync
vm_run mdadm --assemble /dev/$md $VM_DISKS

out=$(vm-pattern verify /dev/$md $seed)
status=$?
echo "$out"
[ $status -eq 1 ] || vm_fail "the verifier exited $status on a corrupted array, not 1"
first=$(echo "$out" | sed -n 's/.*first_bad_offset=\([0-9]*\).*/\1/p')
last=$(echo "$out" | sed -n 's/.*last_bad_offset=\([0-9]*\).*/\1/p')
bad=$(echo "$out" | sed -n 's/.*bad_blocks_4k=\([0-9]*\).*/\1/p')
lo=$((3 * chunk))
hi=$((4 * chunk))
[ -n "$first" ] && [ "$first" -ge $lo ] && [ "$first" -lt $hi ] ||
        vm_fail "first_bad_offset '$first' is outside the corrupted chunk [$lo, $hi)"
[ -n "$last" ] && [ "$last" -ge $lo ] && [ "$last" -lt $hi ] ||
        vm_fail "last_bad_offset '$last' is outside the corrupted chunk [$lo, $hi)"
[ "$bad" = $((chunk / 4096)) ] || vm_fail "bad_blocks_4k is '$bad', not $((chunk / 4096))"
vm_log "verifier caught the corrupted chunk [$lo, $hi): first_bad_offset=$first bad_blocks_4k=$bad"
