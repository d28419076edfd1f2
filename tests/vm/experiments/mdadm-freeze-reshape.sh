# vm: mode=busybox disks=8 size=128M scratch=512M timeout=900 needs=reshaped
# A measurement, not a test: what Debian 12's mdadm 4.2 does to a
# reshaping raid5 on `mdadm --assemble --backup-file F --freeze-reshape`,
# with 0.90 (md0, disks 0-3) and 1.2 (md1, disks 4-7) metadata. Each array
# gets a chunk 64K -> 128K reshape under `reshaped start`, which is killed
# (SIGKILL) at a quarter so that the backup holds a window; the array is
# stopped and assembled again with --freeze-reshape, and the script prints
# exit status, mdadm's output, whether it ran systemctl, and the kernel's
# state (sync_action, sync_max, array_state, front) over two seconds.
# Found (6.1.0-56, mdadm 4.2-5), the same for both: mdadm restores the
# critical section, sets sync_max=max and array_state=active, prints
# "Reshape has to be continued from location N when root filesystem has
# been mounted", "failed to RUN_ARRAY", exits 1, and no md device is left;
# systemctl is not called. So --freeze-reshape does not hold a reshape.
. "$VM_LIB"
set -u

export RESHAPED_STATE_DIR=$VM_SCRATCH/state
printf '#!/bin/sh\necho "[$(cut -d " " -f 1 /proc/uptime)] systemctl $*" >>"$VM_OUT/systemctl.log"\nexit 0\n' \
        >/usr/bin/systemctl
chmod 0755 /usr/bin/systemctl
md_fast

one() {
        md=$1 meta=$2 size=$3
        shift 3
        backup=$VM_SCRATCH/$md.backup
        vm_run mdadm --create /dev/$md --run --quiet --level=5 --raid-devices=4 --chunk=64 \
                --metadata=$meta --size=$size --assume-clean "$@"
        md_fast $md
        vm-pattern fill /dev/$md 11 >/dev/null || vm_fail "fill $md"
        reshaped start /dev/$md --backup-file "$backup" --chunk 128K --max-window 8M \
                >"$VM_OUT/start.$md.txt" 2>&1 &
        pid=$!
        total=$(($(md_attr $md component_size) * 2))
        while :; do
                d=$(md_progress $md)
                [ "$d" -ge $((total / 4)) ] && break
                sleep 0.05
        done
        kill -KILL $pid
        wait $pid 2>/dev/null
        vm_log "$md ($meta): killed reshaped: $(md_snapshot $md)"
        vm_run mdadm --stop /dev/$md
        vm_log "$md on disk: $(mdadm --examine "$1" | grep -E "Reshape pos|Version")"
        reshaped inspect "$backup" | grep -E '^(Section|Verdict)'
        : >"$VM_OUT/systemctl.log"
        vm_log "+ mdadm --assemble /dev/$md --backup-file $backup --freeze-reshape $*"
        mdadm --assemble /dev/$md --backup-file "$backup" --freeze-reshape "$@" >"$VM_OUT/asm.$md.txt" 2>&1
        st=$?
        for t in 0 1 2 3 4; do
                vm_log "$md t=$t: $(md_snapshot $md 2>/dev/null)"
                sleep 0.5
        done
        vm_log "$md ($meta): mdadm --assemble --freeze-reshape exit status $st:"
        cat "$VM_OUT/asm.$md.txt"
        vm_log "$md ($meta): systemctl calls: $(cat "$VM_OUT/systemctl.log")"
        pidof mdadm && vm_log "$md: an mdadm process stays: $(pidof mdadm)"
        mdadm --stop /dev/$md
}

one md0 0.90 $((127 * 1024)) $(vm_disks 4)
one md1 1.2 $((120 * 1024)) $(echo $VM_DISKS | cut -d ' ' -f 5-8)
vm_log "done"
