# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# A reshape of an array in use: ext4 mounted on raid5 (0.90 metadata,
# 4 x 127 MiB), vm-fswriter creating, overwriting, reading and deleting
# files (each fsynced, its directory too, journalled in a manifest) all
# through `reshaped start --chunk 128K --max-window 8M`. Fails when any
# write, fsync or read of the writer blocks longer than $live_stall_ms
# (the hang watchdog: a supervisor that deadlocks against the page cache
# stops the filesystem), when the kernel ran beyond the backup (probe),
# when e2fsck -fn finds anything, or when a fsynced file differs from the
# manifest. Reports the writer's throughput during the reshape against
# the same writer on the idle array.
. "$VM_LIB"
set -u

seed=7101
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

md_fast
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
        --metadata=0.90 --size=$((127 * 1024)) --assume-clean $(vm_disks 4)
md_fast md0
size=$(vm_size_bytes /dev/md0)
vm_live_mkfs ext4 /dev/md0
vm_live_idle "$seed" 20

vm-probe --md md0 --csv "$VM_OUT/probe.csv" --backup "$backup" >"$VM_OUT/probe.txt" 2>&1 &
probe=$!
vm_live_writer_start reshape "$seed"
sleep 2
t0=$(vm_now)
vm_log "+ reshaped -v start /dev/md0 --backup-file $backup --chunk 128K --max-window 8M"
{ reshaped -v start /dev/md0 --backup-file "$backup" --chunk 128K --max-window 8M 2>&1
  echo "exit status $?" >"$VM_OUT/start.status"; } </dev/null >"$VM_OUT/start.log" &
vm_live_wait_idle md0 300
wall=$(vm_since "$t0")
vm_live_writer_stop reshape
wait "$probe" || vm_fail "probe failed: $(cat "$VM_OUT/probe.txt")"
cat "$VM_OUT/probe.txt"
n=0
until [ -f "$VM_OUT/start.status" ] || [ $n -ge 100 ]; do sleep 0.1; n=$((n + 1)); done
grep -v 'slot=\|backed up array sectors' "$VM_OUT/start.log" | tail -n 15
[ "$(cat "$VM_OUT/start.status" 2>/dev/null)" = "exit status 0" ] ||
        vm_fail "reshaped start ended with '$(cat "$VM_OUT/start.status" 2>/dev/null)'"
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
vm_probed_protected

vm_live_check ext4 /dev/md0
vm_live_report "ext4, reshaped start chunk 64K -> 128K (${wall}s)"
vm_log "PASS: ext4 in use through the chunk change: no stall over ${live_stall_ms} ms, lag $lag, e2fsck clean, manifest verified"
