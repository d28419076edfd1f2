# vm: mode=busybox disks=4 size=64M scratch=256M timeout=600 needs=reshaped
# A power cut right after `reshaped start` set up the reshape: raid5 (0.90
# metadata, 4 x 63 MiB), chunk 64K -> 128K, cut as soon as reshape_position
# is a number on disk while sync_max still reads 0 (nothing rewritten).
# `reshaped start` creates and records the backup before it touches the
# array, so after the cut the backup verifies and `reshaped restore`, with
# neither --backup-file nor members, brings the reshape back at its very
# first checkpoint and finishes it; every byte matches the pattern.
. "$VM_LIB"
set -u

export RESHAPED_STATE_DIR=$VM_SCRATCH/state
backup=$VM_SCRATCH/md0.backup
seed=9009
VM_MATRIX="raid5 on 4, start --chunk 128K|0.90|qemu killed|at the set-up, before any backup|reshaped|reshaped restore"
md_fast
if [ "$VM_BOOT" = 1 ]; then
        vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
                --metadata=0.90 --size=$((63 * 1024)) --assume-clean $(vm_disks 4)
        md_fast md0
        echo "size_bytes=$(vm_size_bytes /dev/md0)" >"$VM_OUT/array.txt"
        vm_timed vm-pattern fill /dev/md0 "$seed"
        sync
        { reshaped -v start /dev/md0 --backup-file "$backup" --chunk 128K --max-window 8M 2>&1
          echo "exit status $?" >"$VM_OUT/start.status"; } |
                while IFS= read -r line; do echo "[$(vm_now)] $line"; done >"$VM_OUT/start.log" &
        # No sleep: the supervisor raises sync_max after its first window.
        n=0
        until [ "$(md_attr md0 reshape_position)" != none ]; do
                n=$((n + 1))
                [ $n -lt 200000 ] || vm_fail "reshaped start set up no reshape: $(cat "$VM_OUT/start.log")"
        done
        [ "$(md_attr md0 sync_max)" = 0 ] ||
                vm_fail "sync_max is already $(md_attr md0 sync_max): too late to cut at the set-up"
        echo "[$(vm_now)] boot 1: cut at the set-up: $(md_snapshot md0)" >"$VM_OUT/cut.1.txt"
        cat "$VM_OUT/cut.1.txt" >/dev/kmsg
        vm_power_cut
fi

vm_check_cut "$VM_OUT/start.log" "$backup"
_t0=$(vm_now)
vm_restore_bg --max-window 8M /dev/md0
vm_restore_verified "$_t0" "$seed"
grep -E 'nothing to write back|will write back|emptied' "$VM_OUT/restore.2.log"
vm_log "PASS: power cut at the set-up of reshaped start; reshaped restore finished it, every byte verified"
