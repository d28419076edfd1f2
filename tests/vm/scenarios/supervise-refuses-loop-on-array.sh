# vm: mode=busybox disks=4 size=64M scratch=128M timeout=300 needs=reshaped
# reshaped start refuses a backup file on a loop device whose backing file
# lies on the array being reshaped (issue 13, defect 10: accepted, the
# reshape deadlocked in jbd2), names the chain, and leaves the array as it
# was.
. "$VM_LIB"
set -u

export RESHAPED_STATE_DIR=$VM_SCRATCH/state
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
        --metadata=0.90 --size=$((63 * 1024)) --assume-clean $(vm_disks 4)
mkdir -p /mnt/md0 /mnt/loop
vm_run mke2fs -q /dev/md0
vm_run mount -t ext4 /dev/md0 /mnt/md0
vm_run dd if=/dev/zero of=/mnt/md0/img bs=1M count=32
vm_run losetup /dev/loop0 /mnt/md0/img
vm_run mke2fs -q /dev/loop0
vm_run mount -t ext4 /dev/loop0 /mnt/loop
sum=$(md5sum </mnt/md0/img)

out=$(reshaped start /dev/md0 --chunk 128K --backup-file /mnt/loop/md0.backup 2>&1) &&
        vm_fail "accepted a backup on loop0 over the array: $out"
echo "$out"
echo "$out" | grep -q "is on loop0, whose backing file /mnt/md0/img lies on md0, the array being reshaped" ||
        vm_fail "the refusal does not name the chain: $out"
[ "$(md_attr md0 reshape_position)" = none ] || vm_fail "the array started reshaping"
[ "$(md_attr md0 chunk_size)" = 65536 ] || vm_fail "chunk_size changed"
[ "$(md_attr md0 sync_max)" = max ] || vm_fail "sync_max changed to $(md_attr md0 sync_max)"
[ ! -e /mnt/loop/md0.backup ] || vm_fail "a backup file was created"
[ "$(md5sum </mnt/md0/img)" = "$sum" ] || vm_fail "the loop image changed"
vm_run umount /mnt/loop
vm_run losetup -d /dev/loop0
vm_run umount /mnt/md0
vm_log "PASS: a backup on a loop device over the array refused, array untouched"
