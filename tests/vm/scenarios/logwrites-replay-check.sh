# vm: mode=busybox disks=3 size=64M timeout=300
# vm-logwrites-replay against the real dm-log-writes, the ground the
# lost-cache crash model stands on. Disk 0 behind log-writes (log on disk
# 1) gets: 16 MiB of pattern, a discard of 1 MiB inside it, a flush; then
# 64 KiB written with O_DSYNC (FUA) at 20 MiB; then 64 KiB of random
# bytes over the pattern at 1 MiB, never flushed. A replay of a log that is
# still open is refused. The log is closed as lw_cut closes it. Replayed
# onto disk 2 to the log's end, disk 2 equals disk 0 byte for byte;
# replayed to the last flush (the default), the unflushed write is gone
# (the pattern is back at 1 MiB, all 16 MiB verify), the FUA write is
# there, and the replayer counts one write of 65536 bytes dropped.
. "$VM_LIB"
set -u

data=$(vm_disk 0)
log=$(vm_disk 1)
target=$(vm_disk 2)
seed=4242

lw_wrap lwc "$data" "$log"
dev=/dev/mapper/lwc
vm_timed vm-pattern fill --length $((16 << 20)) "$dev" $seed
vm_run blkdiscard -o $((8 << 20)) -l $((1 << 20)) "$dev"
vm_run sync "$dev"
dd if=/dev/urandom of=/tmp/late bs=65536 count=1 2>/dev/null
dd if=/dev/urandom of=/tmp/fua bs=65536 count=1 2>/dev/null
# The FUA write first: on a disk without FUA, O_DSYNC adds a flush, which
# would make an earlier write durable.
vm_run coreutils-dd if=/tmp/fua of="$dev" bs=65536 seek=320 oflag=direct,dsync conv=notrunc
vm_run dd if=/tmp/late of="$dev" bs=65536 seek=16 oflag=direct conv=notrunc
vm_log "log status (entries, highest sector): $(lw_status lwc)"

if vm-logwrites-replay --dry-run "$log" "$target"; then
        vm_fail "vm-logwrites-replay accepted a log that is still open"
fi
vm_log "a log still open is refused (above)"

lw_freeze lwc
lw_close lwc

vm_run vm-logwrites-replay --zero --until end "$log" "$target"
cmp "$data" "$target" || vm_fail "replayed to its end, the log does not reproduce $data"
vm_log "replayed to the end: $target equals $data ($(vm_size_bytes "$data") bytes)"

out=$(vm-logwrites-replay --zero "$log" "$target") || vm_fail "vm-logwrites-replay to the last flush failed"
echo "$out"
echo "$out" | grep -q 'dropped=2 (writes=1 bytes=65536 discards=0)' ||
        vm_fail "the replay to the last flush should drop the unflushed write and the end mark"
echo "$out" | grep -q 'discards=1 marks=0' || vm_fail "the replay should have seen the discard"
vm_timed vm-pattern verify --length $((16 << 20)) "$target" $seed
dd if="$target" of=/tmp/got bs=65536 skip=320 count=1 iflag=direct 2>/dev/null
cmp /tmp/fua /tmp/got || vm_fail "the FUA write is not in the replay to the last flush"
if cmp -s "$data" "$target"; then
        vm_fail "replayed to the last flush, $target still equals $data: the unflushed write was not dropped"
fi
vm_log "PASS: the full replay reproduces the disk; the replay to the last flush drops exactly the unflushed write and keeps the FUA write"
