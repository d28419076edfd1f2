# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# SIGKILLs of a recovery, the VM running on: raid5 (1.2, 4 x 95 MiB),
# chunk 64K -> 128K under `reshaped start`, power cut at 40%. Boot 2 runs
# `reshaped restore` and kills it (SIGKILL)
#   1. as soon as it has assembled the array and begins its write-back:
#      `reshaped supervise` started then must either find the array holding
#      the backup's data (the write-back was over) and continue, or refuse
#      and ask for a restore, which (after mdadm --stop) then runs;
#   2. 0.3 s after the recovery resumed the kernel: the kernel must stay
#      parked within the backup (sync_max a number, the kernel's front at
#      or below it, writes there suspended, the backup verified), and
#      `reshaped supervise` continues without a restore.
# At the end every byte matches the pattern.
. "$VM_LIB"
set -u

seed=7401
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state
md_fast

# sigkill_reshaped WHAT: SIGKILL of the one reshaped process.
sigkill_reshaped() {
        _pid=$(pidof reshaped) || vm_fail "no reshaped runs at the kill ($1)"
        kill -KILL $_pid
        vm_log "SIGKILL of reshaped ($_pid) $1: $(md_snapshot md0)"
        while kill -0 $_pid 2>/dev/null; do sleep 0.05; done
}

# supervise_bg N: `reshaped supervise` in the background, log $VM_OUT/supervise.N.log.
supervise_bg() {
        vm_log "+ reshaped -v supervise /dev/md0 --backup-file $backup --max-window 8M"
        { reshaped -v supervise /dev/md0 --backup-file "$backup" --max-window 8M 2>&1
          echo "exit status $?" >"$VM_OUT/supervise.$1.status"; } </dev/null |
                while IFS= read -r line; do echo "[$(vm_now)] $line"; done >"$VM_OUT/supervise.$1.log" &
}

# wait_log FILE STATUS PATTERN: until FILE has PATTERN; fails when STATUS
# (the command's exit file) appears first or after 120 s.
wait_log() {
        _n=0
        until grep -q "$3" "$1" 2>/dev/null; do
                [ ! -f "$2" ] || vm_fail "no '$3' before the end: $(cat "$1" "$2")"
                _n=$((_n + 1))
                [ $_n -lt 2400 ] || vm_fail "no '$3' in $1 in 120 s"
                sleep 0.05
        done
}

# check_parked: after a kill the kernel stops at sync_max, within the backup.
check_parked() {
        _last=-1
        _n=0
        while [ "$(md_progress md0)" != "$_last" ] && [ $_n -lt 40 ]; do
                _last=$(md_progress md0)
                sleep 0.5
                _n=$((_n + 1))
        done
        _max=$(md_attr md0 sync_max)
        vm_log "parked: $(md_snapshot md0)"
        [ "$_max" != max ] || vm_fail "sync_max is max after the kill"
        [ "$(md_attr md0 reshape_position)" != none ] || vm_fail "the reshape ended before the kill took effect"
        [ "$_last" -le "$_max" ] || vm_fail "the kernel is at $_last, past sync_max $_max"
        [ "$(md_attr md0 suspend_hi)" -gt "$(md_attr md0 suspend_lo)" ] ||
                vm_fail "no writes are suspended after the kill"
        reshaped inspect "$backup" >"$VM_OUT/inspect.txt" 2>&1 ||
                vm_fail "the backup does not verify after the kill: $(cat "$VM_OUT/inspect.txt")"
}

case $VM_BOOT in
1)
        vm_crash_array 4 "--level=5 --metadata=1.2 --size=$((95 * 1024))" $seed
        vm_crash_begin "$backup"
        vm_power_cut_at md0 40
        ;;
2)
        vm_check_cut "$VM_OUT/start.log" "$backup"
        # shellcheck disable=SC2046
        vm_restore_bg --max-window 8M /dev/md0 --backup-file "$backup" $(vm_disks 4)
        wait_log "$VM_OUT/restore.2.log" "$VM_OUT/restore.2.status" 'assembled, reshape frozen'
        sigkill_reshaped "as its write-back began"
        grep -E 'will write back|wrote back|emptied|nothing to write' "$VM_OUT/restore.2.log"
        [ "$(md_attr md0 sync_max)" != max ] || vm_fail "sync_max is max after the killed restore"
        supervise_bg 1
        n=0
        until grep -q 'supervising the reshape from' "$VM_OUT/supervise.1.log" || [ -f "$VM_OUT/supervise.1.status" ]; do
                n=$((n + 1))
                [ $n -lt 1200 ] || vm_fail "supervise neither supervised nor ended in 60 s"
                sleep 0.05
        done
        if [ -f "$VM_OUT/supervise.1.status" ]; then
                cat "$VM_OUT/supervise.1.log" "$VM_OUT/supervise.1.status"
                grep -q 'reshaped restore' "$VM_OUT/supervise.1.log" ||
                        vm_fail "supervise refused without saying to restore"
                vm_log "supervise refused the array a killed write-back left (as it must); restore again"
                vm_run mdadm --stop /dev/md0
                # The killed restore's exit file would end the wait below at once.
                mv "$VM_OUT/restore.2.log" "$VM_OUT/restore.2a.log"
                mv "$VM_OUT/restore.2.status" "$VM_OUT/restore.2a.status"
                # shellcheck disable=SC2046
                vm_restore_bg --max-window 8M /dev/md0 --backup-file "$backup" $(vm_disks 4)
                wait_log "$VM_OUT/restore.2.log" "$VM_OUT/restore.2.status" 'supervising the reshape from'
                cat "$VM_OUT/restore.2.log"
        else
                cat "$VM_OUT/supervise.1.log"
                vm_log "supervise continued: the write-back was over at the kill"
        fi
        sleep 0.3
        sigkill_reshaped "0.3 s after the recovery resumed the kernel"
        check_parked
        supervise_bg 2
        wait_log "$VM_OUT/supervise.2.log" "$VM_OUT/supervise.2.status" 'supervising the reshape from'
        grep -q "reshaped restore" "$VM_OUT/supervise.2.log" && vm_fail "the restart asked for a restore"
        n=0
        until [ -f "$VM_OUT/supervise.2.status" ]; do
                n=$((n + 1))
                [ $n -lt 3000 ] || vm_fail "supervise did not end in 300 s"
                sleep 0.1
        done
        cat "$VM_OUT/supervise.2.log"
        [ "$(cat "$VM_OUT/supervise.2.status")" = "exit status 0" ] ||
                vm_fail "supervise ended with $(cat "$VM_OUT/supervise.2.status")"
        md_wait_idle md0 60
        [ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size)"
        VM_MATRIX="raid5 on 4, start --chunk 128K|1.2|qemu killed, then SIGKILLs|40%; SIGKILL as restore's write-back began; SIGKILL 0.3 s after the recovery resumed|reshaped|reshaped restore, supervise"
        vm_matrix_verify $seed --length "$(sed -n 's/^size_bytes=//p' "$VM_OUT/array.txt")"
        vm_log "PASS: a power cut, then SIGKILLs of the recovery at its write-back and right after it resumed; every byte verified"
        ;;
esac
