# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# A power cut right after assembly. `mdadm --assemble --backup-file`
# restores the backup but then starts a same-size reshape with
# sync_max=max and array_state=active before any supervisor can take over
# (Grow.c: Grow_continue -> reshape_array -> start_reshape; with
# --freeze-reshape it does the same and then stops the array again, see
# mdadm-freeze-reshape.sh), so a cut in that gap corrupted data.
# `reshaped restore` runs the array read-only, freezes it with sync_max at
# the checkpoint, and only then makes it writable. Here: raid5 (0.90,
# 4 x 127 MiB), chunk 64K -> 128K under `reshaped start`, cut at $cut1%;
# boot 2 starts `reshaped restore` and cuts $gap_ms ms after the array
# appears; boot 3 restores again and finishes. Fails unless sync_max was a
# number at both cuts, restore exits 0 and every byte matches the pattern.
. "$VM_LIB"
set -u

cut1=30
gap_ms=150
seed=6226
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

md_fast
case $VM_BOOT in
1)
        vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
                --metadata=0.90 --size=$((127 * 1024)) --assume-clean $(vm_disks 4)
        md_fast md0
        vm_timed vm-pattern fill /dev/md0 "$seed"
        sync
        { reshaped -v start /dev/md0 --backup-file "$backup" --chunk 128K --max-window 8M 2>&1; } \
                >"$VM_OUT/start.log" &
        vm_power_cut_at md0 "$cut1"
        ;;
2)
        cat "$VM_OUT/cut.1.txt"
        vm_log "on disk: reshape position $(mdadm --examine "$(vm_disk 0)" | sed -n "s/^ *Reshape pos'n : //p")"
        vm_restore_bg --max-window 8M /dev/md0 $(vm_disks 4)
        n=0
        until [ -e /sys/block/md0/md/array_state ] &&
              case $(md_attr md0 array_state) in clear|inactive) false ;; *) true ;; esac; do
                n=$((n + 1))
                [ $n -lt 600 ] || vm_fail "md0 did not start in 30 s: $(cat "$VM_OUT/restore.2.log")"
                sleep 0.05
        done
        sleep "$(awk -v m="$gap_ms" 'BEGIN { print m / 1000 }')"
        echo "[$(vm_now)] boot 2: cut ${gap_ms} ms after md0 started: $(md_snapshot md0)" >"$VM_OUT/cut.2.txt"
        cat "$VM_OUT/cut.2.txt" >/dev/kmsg
        vm_power_cut
        ;;
*)
        cat "$VM_OUT/cut.1.txt" "$VM_OUT/cut.2.txt"
        echo "--- reshaped restore in boot 2:"
        cat "$VM_OUT/restore.2.log"
        echo "---"
        for c in 1 2; do
                grep -q 'sync_max=max' "$VM_OUT/cut.$c.txt" && vm_fail "the kernel ran with sync_max=max at cut $c"
        done
        vm_log "on disk: reshape position $(mdadm --examine "$(vm_disk 0)" | sed -n "s/^ *Reshape pos'n : //p")"
        reshaped inspect "$backup" || vm_fail "the backup does not verify after the cut in the gap"
        t0=$(vm_now)
        vm_restore_bg --max-window 8M /dev/md0 $(vm_disks 4)
        vm_wait_restore_end 300
        md_wait_idle md0 60
        vm_log "restore and reshape took $(vm_since "$t0") s"
        [ "$restore_status" = "exit status 0" ] || vm_fail "reshaped restore ended with $restore_status"
        [ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
        vm_timed vm-pattern verify /dev/md0 "$seed"
        vm_log "PASS: power cut ${gap_ms} ms after restore started the array; every byte verified"
        ;;
esac
