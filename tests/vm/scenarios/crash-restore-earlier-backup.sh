# vm: mode=busybox disks=4 size=64M scratch=256M timeout=900 needs=reshaped
# `reshaped restore` handed the leftover backup of an earlier reshape of
# the same array. raid5 (0.90, 4 x 63 MiB), boot 1: chunk 64K -> 128K with
# `reshaped start`, power cut at 50%. Boot 2: a copy of that backup is
# kept (it verifies on its own: every CRC matches), restore finishes the
# first reshape, every byte verifies; a second reshape 128K -> 256K starts
# with another backup file, power cut at 50%, near where the first one's
# sections lie. Boot 3: restore with the earlier backup must exit 1 before
# anything is written, naming the chunk sizes that differ, with the array
# not assembled and the on-disk reshape position unchanged; restore with
# the right backup then exits 0: chunk 256K, same size, every byte matches.
. "$VM_LIB"
set -u

export RESHAPED_STATE_DIR=$VM_SCRATCH/state
first=$VM_SCRATCH/first.backup
second=$VM_SCRATCH/second.backup
earlier=$VM_SCRATCH/earlier.backup
seed=7117

start_bg() {
        vm_log "+ reshaped -v start /dev/md0 $*"
        { reshaped -v start /dev/md0 "$@" 2>&1
          echo "exit status $?" >"$VM_OUT/start.$VM_BOOT.status"; } |
                while IFS= read -r line; do echo "[$(vm_now)] $line"; done >"$VM_OUT/start.$VM_BOOT.log" &
}

check_cut() {
        cat "$VM_OUT/cut.$((VM_BOOT - 1)).txt" || vm_fail "boot $((VM_BOOT - 1)) left no record of its cut"
        grep -q 'sync_max=max' "$VM_OUT/cut.$((VM_BOOT - 1)).txt" &&
                vm_fail "the kernel ran with sync_max=max at the cut"
        reshaped inspect "$1" || vm_fail "reshaped inspect $1: exit status $? after the cut"
}

on_disk_position() {
        mdadm --examine "$(vm_disk 0)" | sed -n "s/^ *Reshape pos'n : //p"
}

md_fast
case $VM_BOOT in
1)
        # shellcheck disable=SC2046
        vm_run mdadm --create /dev/md0 --run --quiet --chunk=64 --assume-clean --level=5 \
                --metadata=0.90 --size=$((63 * 1024)) --raid-devices=4 $(vm_disks 4)
        md_fast md0
        echo "size_bytes=$(vm_size_bytes /dev/md0)" >"$VM_OUT/array.txt"
        vm_timed vm-pattern fill /dev/md0 $seed
        sync
        start_bg --backup-file "$first" --chunk 128K --max-window 4M
        vm_power_cut_at md0 50
        ;;
2)
        check_cut "$first"
        vm_run cp "$first" "$earlier"
        sync
        t0=$(vm_now)
        # shellcheck disable=SC2046
        vm_restore_bg --max-window 4M /dev/md0 --backup-file "$first" $(vm_disks 4)
        vm_wait_restore_end 300
        [ "$restore_status" = "exit status 0" ] || vm_fail "reshaped restore ended with $restore_status"
        md_wait_idle md0 60
        vm_log "first reshape finished $(vm_since "$t0") s after restore began"
        [ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
        vm_timed vm-pattern verify /dev/md0 $seed
        start_bg --backup-file "$second" --chunk 256K --max-window 4M
        vm_power_cut_at md0 50
        ;;
3)
        check_cut "$second"
        vm_log "the earlier backup verifies on its own:"
        reshaped inspect "$earlier" || vm_fail "reshaped inspect $earlier: exit status $?"
        pos=$(on_disk_position)
        vm_log "on disk: reshape position $pos"
        # shellcheck disable=SC2046
        vm_restore_bg --max-window 4M /dev/md0 --backup-file "$earlier" $(vm_disks 4)
        vm_wait_restore_end 60
        [ "$restore_status" = "exit status 1" ] ||
                vm_fail "reshaped restore with the earlier reshape's backup ended with $restore_status"
        for want in 'records chunk size before the reshape 65536 bytes, the superblocks of the members record 131072 bytes' \
                    'records chunk size after the reshape 131072 bytes, the superblocks of the members record 262144 bytes' \
                    'was taken for another reshape' 'Nothing was changed'; do
                grep -qF "$want" "$VM_OUT/restore.3.log" || vm_fail "restore did not say: $want"
        done
        grep -q 'will write back\|assembled' "$VM_OUT/restore.3.log" && vm_fail "restore went past verification"
        state=$(cat /sys/block/md0/md/array_state 2>/dev/null || echo absent)
        case $state in absent|clear|inactive) ;; *) vm_fail "md0 is $state after the refused restore" ;; esac
        [ "$(on_disk_position)" = "$pos" ] || vm_fail "the on-disk reshape position moved: $pos -> $(on_disk_position)"
        vm_log "PASS so far: the earlier reshape's backup was refused, md0 $state, position unchanged"
        mv "$VM_OUT/restore.3.log" "$VM_OUT/restore.3-refused.log"
        rm -f "$VM_OUT/restore.3.status"

        t0=$(vm_now)
        # shellcheck disable=SC2046
        vm_restore_bg --max-window 4M /dev/md0 --backup-file "$second" $(vm_disks 4)
        vm_wait_restore_end 300
        [ "$restore_status" = "exit status 0" ] || vm_fail "reshaped restore ended with $restore_status"
        md_wait_idle md0 60
        vm_log "second reshape finished $(vm_since "$t0") s after restore began"
        [ "$(md_attr md0 chunk_size)" = 262144 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 262144"
        size=$(sed -n 's/^size_bytes=//p' "$VM_OUT/array.txt")
        [ "$(vm_size_bytes /dev/md0)" = "$size" ] ||
                vm_fail "the array size changed: $size -> $(vm_size_bytes /dev/md0)"
        vm_timed vm-pattern verify /dev/md0 $seed
        vm_log "PASS: the earlier reshape's backup refused before anything was written; the right one restored; every byte verified"
        ;;
*)
        vm_fail "unexpected boot $VM_BOOT"
        ;;
esac
