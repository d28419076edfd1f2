# vm: mode=busybox disks=4 size=128M scratch=1G timeout=900 needs=reshaped
# The backup device fails mid-reshape, and the place for a new backup is
# full. raid5 (0.90, 4 x 127 MiB) chunk 64K -> 128K under `reshaped start`,
# its backup on ext4 on a dm-linear device (over a loop file on the
# scratch disk). At 40% the dm table is switched to "error": every write to
# the backup fails. reshaped must stop with a message that names the
# backup and the I/O error, exit 1, and leave the kernel held (sync_max a
# number, the reshape still, nothing suspended). A restart on a full
# filesystem must be refused before anything changes, with what is needed;
# a restart with a good place finishes the reshape and every byte matches
# the pattern. (The preallocated backup itself never runs out of space.)
. "$VM_LIB"
set -u

seed=7311
export RESHAPED_STATE_DIR=$VM_SCRATCH/state
md_fast
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
        --metadata=0.90 --size=$((127 * 1024)) --assume-clean $(vm_disks 4)
md_fast md0
vm_timed vm-pattern fill /dev/md0 "$seed"
sync

# The failing device: dm-linear over a loop file, ext4 on it.
dd if=/dev/zero of="$VM_SCRATCH/bk.img" bs=1M count=0 seek=128 2>/dev/null
vm_run losetup /dev/loop0 "$VM_SCRATCH/bk.img"
sectors=$(blockdev --getsz /dev/loop0)
vm_run dmsetup create bk --noudevsync --table "0 $sectors linear /dev/loop0 0"
# No udev in the busybox guest: dmsetup makes the node.
dmsetup mknodes bk >/dev/null 2>&1
vm_run /usr/sbin/mke2fs -q -F -t ext4 /dev/mapper/bk
mkdir -p /mnt/bk
vm_run mount -t ext4 /dev/mapper/bk /mnt/bk
backup=/mnt/bk/md0.backup

reshaped -v start /dev/md0 --backup-file "$backup" --chunk 128K --max-window 8M \
        >"$VM_OUT/start.txt" 2>&1 &
pid=$!
md_set md0 sync_speed_min 1
md_set md0 sync_speed_max 20000
total=$(($(md_attr md0 component_size) * 2))
while :; do
        done_s=$(md_progress md0)
        [ "$done_s" -ge $((total * 40 / 100)) ] && break
        kill -0 "$pid" 2>/dev/null || vm_fail "reshaped ended before 40%: $(cat "$VM_OUT/start.txt")"
        sleep 0.05
done
vm_run dmsetup suspend --noflush --noudevsync bk
vm_run dmsetup reload bk --noudevsync --table "0 $sectors error"
vm_run dmsetup resume bk --noudevsync
vm_log "the backup device fails from here: $(md_snapshot md0)"
status=0
wait "$pid" || status=$?
grep -v ': \(suspend\|backup\|set-sync-max\|forget\|release\|resume\) slot=\|backed up array sectors\|sync_max=\|suspend_lo=\|suspend_hi=' "$VM_OUT/start.txt"
[ "$status" = 1 ] || vm_fail "reshaped exited $status after the backup device failed, not 1"
grep -q "$backup.*\(Input/output error\|the backup device failed\)\|backup device failed.*$backup" "$VM_OUT/start.txt" ||
        vm_fail "the failure does not name the backup $backup and its I/O error"
max=$(md_attr md0 sync_max)
[ "$max" != max ] || vm_fail "the kernel was left running with sync_max=max"
[ "$(md_attr md0 suspend_lo)" = "$(md_attr md0 suspend_hi)" ] ||
        vm_fail "writes to $(md_attr md0 suspend_lo)-$(md_attr md0 suspend_hi) stay suspended"
a=$(md_attr md0 reshape_position)
sleep 2
[ "$a" != none ] && [ "$(md_attr md0 reshape_position)" = "$a" ] ||
        vm_fail "the kernel was not held: reshape_position $a, then $(md_attr md0 reshape_position)"
vm_log "held: $(md_snapshot md0)"

# A full filesystem for the new backup: refused before anything changes.
mkdir -p /mnt/full
dd if=/dev/zero of="$VM_SCRATCH/full.img" bs=1M count=0 seek=16 2>/dev/null
vm_run /usr/sbin/mke2fs -q -F -t ext4 "$VM_SCRATCH/full.img"
vm_run mount -o loop -t ext4 "$VM_SCRATCH/full.img" /mnt/full
dd if=/dev/zero of=/mnt/full/filler bs=1M 2>/dev/null
before=$(md_snapshot md0)
status=0
reshaped supervise /dev/md0 --backup-file /mnt/full/md0.backup >"$VM_OUT/full.txt" 2>&1 || status=$?
cat "$VM_OUT/full.txt"
[ "$status" != 0 ] || vm_fail "supervise accepted a backup place with no room"
grep -q "free" "$VM_OUT/full.txt" || vm_fail "the refusal does not say how much room is missing"
[ "$(md_snapshot md0)" = "$before" ] || vm_fail "the refused supervise changed the array: $before -> $(md_snapshot md0)"

md_fast md0
vm_timed reshaped supervise /dev/md0 --backup-file "$VM_SCRATCH/md0.backup"
md_wait_idle md0 300
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
VM_MATRIX="raid5 on 4, start --chunk 128K|0.90|backup device fails|40%|reshaped|reshaped supervise, new backup"
vm_matrix_verify "$seed"
vm_log "PASS: the backup device failed at 40%; reshaped stopped with the kernel held, refused a full place, finished from a good one; every byte verified"
