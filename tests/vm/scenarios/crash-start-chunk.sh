# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# Power cuts during a reshape that reshaped supervises: raid5 (0.90
# metadata, 4 x 127 MiB), chunk 64K -> 128K with `reshaped start`. The
# power is cut once per boot, at each point of $cuts (percent of the
# reshape, the kernel's live front). After each cut the backup file must
# verify (`reshaped inspect`, exit 0) and `reshaped restore` brings the
# array back: after the first cut with neither --backup-file nor members
# (the path comes from reshaped's record, the members from their
# superblocks' UUID), after the others with both. The boot after the last
# cut lets it finish: restore exits 0, chunk 128K, same size, and every
# byte matches the pattern. At every cut sync_max must be a number: the
# kernel never ran without a limit.
. "$VM_LIB"
set -u

cuts="3 50 90"
seed=6006
backup=$VM_SCRATCH/md0.backup
# The busybox guest has no /var/lib; the scratch disk survives the cuts.
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

since() {
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'
}

nth() {
        echo $2 | cut -d ' ' -f "$1"
}

md_fast
ncuts=$(echo $cuts | wc -w)
if [ "$VM_BOOT" = 1 ]; then
        vm_log "cut points: $cuts (percent); boot $((ncuts + 1)) finishes"
        vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
                --metadata=0.90 --size=$((127 * 1024)) --assume-clean $(vm_disks 4)
        md_fast md0
        echo "size_bytes=$(vm_size_bytes /dev/md0)" >"$VM_OUT/array.txt"
        vm_timed vm-pattern fill /dev/md0 "$seed"
        sync
        vm_log "+ reshaped -v start /dev/md0 --backup-file $backup --chunk 128K --max-window 8M"
        { reshaped -v start /dev/md0 --backup-file "$backup" --chunk 128K --max-window 8M 2>&1
          echo "exit status $?" >"$VM_OUT/start.status"; } |
                while IFS= read -r line; do echo "[$(vm_now)] $line"; done >"$VM_OUT/start.log" &
        vm_power_cut_at md0 "$(nth 1 "$cuts")"
fi

vm_check_cut "$VM_OUT/start.log" "$backup"

t0=$(vm_now)
if [ "$VM_BOOT" = 2 ]; then
        vm_restore_bg --max-window 8M /dev/md0
else
        vm_restore_bg --max-window 8M /dev/md0 --backup-file "$backup" $(vm_disks 4)
fi
if [ "$VM_BOOT" -le "$ncuts" ]; then
        vm_wait_restore_log 'supervising the reshape from' 60
        vm_log "supervising $(since "$(vm_now)" "$t0") s after restore began: $(md_snapshot md0)"
        grep -E 'member|backup|section|write back|wrote back|nothing to|assembled' "$VM_OUT/restore.$VM_BOOT.log"
        vm_power_cut_at md0 "$(nth "$VM_BOOT" "$cuts")"
fi

vm_wait_restore_end 300
md_wait_idle md0 60
vm_log "reshape finished $(since "$(vm_now)" "$t0") s after restore began"
[ "$restore_status" = "exit status 0" ] || vm_fail "reshaped restore ended with $restore_status"
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
size=$(sed -n 's/^size_bytes=//p' "$VM_OUT/array.txt")
[ "$(vm_size_bytes /dev/md0)" = "$size" ] || vm_fail "the array size changed: $size -> $(vm_size_bytes /dev/md0)"
vm_timed vm-pattern verify /dev/md0 "$seed"
vm_log "PASS: $ncuts power cuts at $cuts percent, each restored by reshaped restore; every byte verified"
