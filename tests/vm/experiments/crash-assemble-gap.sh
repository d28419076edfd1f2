# vm: mode=busybox disks=4 size=256M scratch=1G timeout=1200 needs=reshaped
# A measurement, not a test: it is outside the default suite, run it with
#   tests/vm/run tests/vm/experiments/crash-assemble-gap.sh
# After a power cut, `mdadm --assemble --backup-file` restores the backup,
# truncates and zero-fills the backup file for a monitor of its own (Grow.c
# reshape_open_backup_file opens it O_TRUNC on a restart), starts the
# reshape with sync_max=max and array_state=active, and only then hands
# the array to mdadm-grow-continue@md0.service (Grow.c reshape_array:
# start_reshape, then continue_via_systemd). Until reshaped supervise has
# frozen the kernel and the kernel has checkpointed, what the kernel
# rewrites is in no backup. This cuts the power a second time $gap_ms ms
# after mdadm --assemble returns, with the service accepted but reshaped
# not yet started when $takeover is "no" (a slow service start), or
# already started when it is "yes"; then recovers as usual and compares
# every byte. Prints the kernel's front at each step and "RESULT: intact"
# or "RESULT: CORRUPT ..."; exits non-zero only when the procedure broke.
. "$VM_LIB"
set -u

cut1=30
gap_ms=300
takeover=no
seed=6226
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

md_fast
vm_systemctl_runs_reshaped -v
if [ "$VM_BOOT" = 2 ] && [ "$takeover" = no ]; then
        printf '#!/bin/sh\necho "[$(cut -d " " -f 1 /proc/uptime)] systemctl $*" >>"$VM_OUT/systemctl.$VM_BOOT.log"\n' \
                >/usr/bin/systemctl
fi
case $VM_BOOT in
1)
        vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
                --metadata=0.90 --size=$((255 * 1024)) --assume-clean $(vm_disks 4)
        md_fast md0
        vm_timed vm-pattern fill /dev/md0 "$seed"
        sync
        { reshaped -v start /dev/md0 --backup-file "$backup" --chunk 128K 2>&1; } >"$VM_OUT/start.log" &
        vm_power_cut_at md0 "$cut1"
        ;;
2)
        cat "$VM_OUT/cut.1.txt"
        vm_log "on disk: reshape position $(mdadm --examine "$(vm_disk 0)" | sed -n "s/^ *Reshape pos'n : //p")"
        vm_assemble_restoring md0 "$backup" $(vm_disks 4)
        [ "$gap_ms" = 0 ] || sleep "$(awk -v m="$gap_ms" 'BEGIN { print m / 1000 }')"
        echo "[$(vm_now)] boot 2: cut ${gap_ms} ms after mdadm --assemble (reshaped started: $takeover): $(md_snapshot md0)" >"$VM_OUT/cut.2.txt"
        cat "$VM_OUT/cut.2.txt" >/dev/kmsg
        vm_power_cut
        ;;
*)
        cat "$VM_OUT/cut.2.txt"
        echo "--- reshaped supervise in boot 2:"
        cat "$VM_OUT/supervise.2.log" "$VM_OUT/systemctl.2.log" 2>/dev/null
        echo "---"
        vm_log "on disk: reshape position $(mdadm --examine "$(vm_disk 0)" | sed -n "s/^ *Reshape pos'n : //p")"
        reshaped inspect "$backup"
        vm_assemble_restoring md0 "$backup" $(vm_disks 4)
        if [ "$(md_attr md0 reshape_position)" != none ]; then
                vm_wait_supervise_log 'supervising the reshape from' 30
        fi
        n=0
        until [ -f "$VM_OUT/supervise.$VM_BOOT.status" ]; do
                n=$((n + 1))
                [ $n -lt 3000 ] || vm_fail "reshaped supervise did not end in 300 s: $(md_snapshot md0)"
                sleep 0.1
        done
        grep -E 'took over|finished|error|Failed' "$VM_OUT/supervise.$VM_BOOT.log"
        md_wait_idle md0 60
        if vm-pattern verify /dev/md0 "$seed" >"$VM_OUT/verify.txt" 2>&1; then
                vm_log "RESULT: intact"
        else
                vm_log "RESULT: CORRUPT $(sed -n 's/.*MISMATCH //p' "$VM_OUT/verify.txt")"
        fi
        cat "$VM_OUT/verify.txt"
        cat "$VM_OUT/refused.txt" 2>/dev/null
        ;;
esac
