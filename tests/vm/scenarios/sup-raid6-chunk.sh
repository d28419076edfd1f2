# vm: mode=busybox disks=5 size=256M scratch=1G timeout=900 needs=reshaped
# reshaped start on raid6 (1.2 metadata, 5 x 200 MiB), chunk 64K -> 128K:
# the reshape finishes with the new chunk, every byte of the array matches
# the pattern, and neither the probe nor vm_probe_risk sees a moment at
# which the kernel could rewrite data no backup section held.
. "$VM_LIB"
set -u

seed=5202
backup=$VM_SCRATCH/md0.backup
# The busybox guest has no /var/lib.
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

md_fast
# 200 MiB members: a multiple of the new chunk, as md requires.
vm_run mdadm --create /dev/md0 --run --quiet --level=6 --raid-devices=5 --chunk=64 \
        --metadata=1.2 --size=$((200 * 1024)) --assume-clean $(vm_disks 5)
md_fast md0
size=$(vm_size_bytes /dev/md0)
vm_timed vm-pattern fill /dev/md0 "$seed"
sync

vm-probe --md md0 --csv "$VM_OUT/probe.csv" --backup "$backup" >"$VM_OUT/probe.txt" 2>&1 &
probe=$!
t0=$(vm_now)
vm_run reshaped start /dev/md0 --backup-file "$backup" --chunk 128K
md_wait_idle md0 300
wall=$(awk -v a="$(vm_now)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
wait "$probe" || vm_fail "probe failed: $(cat "$VM_OUT/probe.txt")"
cat "$VM_OUT/probe.txt"

[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
[ "$(md_attr md0 level)" = raid6 ] || vm_fail "level is $(md_attr md0 level), not raid6"
[ "$(vm_size_bytes /dev/md0)" = "$size" ] || vm_fail "the array size changed: $size -> $(vm_size_bytes /dev/md0)"
vm_timed vm-pattern verify /dev/md0 "$seed"

lag=$(sed -n 's/^probe: .*lag_max=\([0-9]*\) bytes.*/\1/p' "$VM_OUT/probe.txt")
unprot=$(sed -n 's/^probe: .*unprotected_total=\([0-9]*\) bytes.*/\1/p' "$VM_OUT/probe.txt")
stall=$(sed -n 's/^probe: .* stall=\([^ ]* ([^)]*)\).*/\1/p' "$VM_OUT/probe.txt")
[ -n "$lag" ] && [ -n "$unprot" ] || vm_fail "no lag figures from the probe"
[ "$lag" = 0 ] || vm_fail "the kernel ran $lag bytes beyond the backup"
[ "$unprot" = 0 ] || vm_fail "$unprot bytes were reshaped without a backup"
vm_probe_risk md0 "$VM_OUT/probe.csv" "$VM_OUT/probe.txt" "$size" ||
        vm_fail "the kernel could overwrite data no backup held (see above)"
vm_log "PASS: raid6 chunk change verified ($size bytes); reshape wall ${wall}s, probe lag_max 0, stall $stall"
