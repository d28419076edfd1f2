# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# `mdadm --stop` of an array reshaped supervises (issue 11, item 1): a
# raid5 (1.2, 4 x 127 MiB) chunk change under `reshaped start`, stopped
# with mdadm at a quarter. The stop must succeed within 2 s (reshaped
# holds /dev/md0 open only while it reads), reshaped must leave on its own
# within 2 s more with the backup verified, and the array, assembled again
# with `reshaped restore`, must finish with every byte matching.
. "$VM_LIB"
set -u

seed=7011
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

md_fast
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
        --metadata=1.2 --size=$((127 * 1024)) --assume-clean $(vm_disks 4)
md_fast md0
vm_timed vm-pattern fill /dev/md0 "$seed"
sync

reshaped -v start /dev/md0 --backup-file "$backup" --chunk 128K --max-window 8M \
        >"$VM_OUT/start.txt" 2>&1 &
pid=$!
total=$(($(md_attr md0 component_size) * 2))
while [ "$(md_progress md0)" -lt $((total / 4)) ]; do
        kill -0 "$pid" 2>/dev/null || vm_fail "reshaped ended before the stop point: $(tail -n 5 "$VM_OUT/start.txt")"
        sleep 0.05
done
vm_log "mdadm --stop at $(md_progress md0) of $total sectors per member: $(md_snapshot md0)"
t0=$(vm_now)
n=0
until mdadm --stop /dev/md0 >"$VM_OUT/stop.txt" 2>&1; do
        n=$((n + 1))
        within_2s=$(awk -v a="$(vm_now)" -v b="$t0" 'BEGIN { print (a - b < 2) }')
        [ "$within_2s" = 1 ] || vm_fail "mdadm --stop still fails after 2 s: $(cat "$VM_OUT/stop.txt"); reshaped: $(tail -n 5 "$VM_OUT/start.txt")"
        sleep 0.1
done
vm_log "mdadm --stop succeeded after $(vm_since "$t0") s ($n retries)"
n=0
while kill -0 "$pid" 2>/dev/null; do
        n=$((n + 1))
        [ $n -lt 40 ] || vm_fail "reshaped still runs 2 s after the array stopped: $(tail -n 5 "$VM_OUT/start.txt")"
        sleep 0.05
done
status=0
wait "$pid" || status=$?
vm_log "reshaped left $(vm_since "$t0") s after the stop began, exit status $status"
tail -n 8 "$VM_OUT/start.txt"
[ "$status" != 0 ] || vm_fail "reshaped exited 0 although the reshape did not finish"
reshaped inspect "$backup" >"$VM_OUT/inspect.txt" 2>&1 ||
        vm_fail "the backup left behind does not verify: $(cat "$VM_OUT/inspect.txt")"
[ ! -e /sys/block/md0/md/array_state ] || [ "$(md_attr md0 array_state)" = clear ] ||
        [ "$(md_attr md0 array_state)" = inactive ] || vm_fail "md0 still runs: $(md_snapshot md0)"

# shellcheck disable=SC2046
vm_timed reshaped restore /dev/md0 --backup-file "$backup" $(vm_disks 4)
md_wait_idle md0 300
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
VM_MATRIX="raid5 on 4, start --chunk 128K|1.2|mdadm --stop at 25%|25%|reshaped|reshaped restore"
vm_matrix_verify $seed
vm_log "PASS: mdadm --stop stopped a supervised reshape within 2 s, reshaped left, restore finished it; every byte verified"
