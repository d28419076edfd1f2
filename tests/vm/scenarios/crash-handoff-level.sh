# vm: mode=busybox disks=5 size=128M scratch=512M timeout=900 needs=reshaped
# Power cuts during a level change that reshaped took over: raid5 (1.2
# metadata, 4 x 127 MiB) plus a spare to raid6 on 5 disks, started by
# MDADM_NO_SYSTEMCTL=1 mdadm --grow --level=6 --raid-devices=5
# --backup-file; mdadm's own monitor is killed at once and `reshaped
# supervise` (what mdadm-grow-continue@md0.service runs with reshaped's
# drop-in; a stand-in systemctl here) takes the running reshape over. The
# power is cut right after the supervisor's first durable window, then,
# after `reshaped restore` brought the array back, at 60%. The boot after
# lets restore finish: raid6 on 5 disks, same size, every byte matches the
# pattern.
. "$VM_LIB"
set -u

seed=6117
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state
VM_CRASH_EXPECT="level=raid6 raid_disks=5"
VM_MATRIX="raid5 on 4 -> raid6 on 5, mdadm --grow handed off|1.2|qemu killed|first window, 60%|reshaped|reshaped restore"

md_fast
vm_systemctl_runs_reshaped -v
if [ "$VM_BOOT" = 1 ]; then
        vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
                --metadata=1.2 --size=$((127 * 1024)) --assume-clean $(vm_disks 4)
        md_fast md0
        vm_run mdadm /dev/md0 --add "$(vm_disk 4)"
        echo "size_bytes=$(vm_size_bytes /dev/md0)" >"$VM_OUT/array.txt"
        vm_timed vm-pattern fill /dev/md0 "$seed"
        sync
        t0=$(vm_now)
        MDADM_NO_SYSTEMCTL=1 vm_run mdadm --grow /dev/md0 --level=6 --raid-devices=5 --backup-file="$backup"
        monitor=$(pidof mdadm) || vm_fail "mdadm --grow left no monitor of its own"
        kill -KILL $monitor
        vm_log "killed mdadm's monitor ($monitor) $(vm_since "$t0") s after mdadm --grow began: $(md_snapshot md0)"
        vm_run systemctl restart mdadm-grow-continue@md0.service
        vm_wait_supervise_log 'backed up array sectors' 60
        echo "[$(vm_now)] boot 1: cut after the first window: $(md_snapshot md0)" >"$VM_OUT/cut.1.txt"
        cat "$VM_OUT/cut.1.txt" >/dev/kmsg
        vm_power_cut
fi

vm_check_cut "$VM_OUT/supervise.1.log" "$backup"

t0=$(vm_now)
vm_restore_bg /dev/md0 $(vm_disks 5)
if [ "$VM_BOOT" = 2 ]; then
        vm_restore_cut "$t0" 60
fi
vm_restore_verified "$t0" "$seed"
vm_log "PASS: raid5 -> raid6 taken over, power cuts after the first window and at 60%, each restored; every byte verified"
