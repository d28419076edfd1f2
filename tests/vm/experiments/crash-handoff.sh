# vm: mode=busybox disks=4 size=256M scratch=1G timeout=1200 needs=reshaped
# Power cuts after a take-over: raid5 (0.90 metadata, 4 x 255 MiB), chunk
# 64K -> 128K started by MDADM_NO_SYSTEMCTL=1 mdadm --grow --backup-file;
# mdadm's own monitor is killed at once and `reshaped supervise` takes
# the running reshape over, with mdadm's backup file. The power is cut
# right after the supervisor's first durable window, then (after mdadm
# --assemble --backup-file has restored and handed the array to
# mdadm-grow-continue@md0.service, which with reshaped's drop-in runs
# `reshaped supervise /dev/md0`; a stand-in systemctl here) at $cut2
# percent. The boot after lets it finish: chunk 128K, same size, every
# byte matches the pattern, and supervise exits 0.
. "$VM_LIB"
set -u

cut2=60
seed=6116
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

since() {
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'
}

md_fast
vm_systemctl_runs_reshaped -v
if [ "$VM_BOOT" = 1 ]; then
        vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
                --metadata=0.90 --size=$((255 * 1024)) --assume-clean $(vm_disks 4)
        md_fast md0
        echo "size_bytes=$(vm_size_bytes /dev/md0)" >"$VM_OUT/array.txt"
        vm_timed vm-pattern fill /dev/md0 "$seed"
        sync
        t0=$(vm_now)
        MDADM_NO_SYSTEMCTL=1 vm_run mdadm --grow /dev/md0 --chunk=128 --backup-file="$backup"
        monitor=$(pidof mdadm) || vm_fail "mdadm --grow left no monitor of its own"
        kill -KILL $monitor
        vm_log "killed mdadm's monitor ($monitor) $(since "$(vm_now)" "$t0") s after mdadm --grow began: $(md_snapshot md0)"
        # What the drop-in runs, by the same path mdadm's --grow would take.
        vm_run systemctl restart mdadm-grow-continue@md0.service
        vm_wait_supervise_log 'backed up array sectors' 60
        echo "[$(vm_now)] boot 1: cut after the first window: $(md_snapshot md0)" >"$VM_OUT/cut.1.txt"
        cat "$VM_OUT/cut.1.txt" >/dev/kmsg
        vm_power_cut
fi

prev=$((VM_BOOT - 1))
cat "$VM_OUT/cut.$prev.txt" || vm_fail "boot $prev left no record of its cut"
echo "--- the daemon's last lines before the cut:"
tail -n 8 "$VM_OUT/supervise.$prev.log"
echo "---"
vm_log "on disk: reshape position $(mdadm --examine "$(vm_disk 0)" | sed -n "s/^ *Reshape pos'n : //p")"
ls -l "$VM_SCRATCH"
reshaped inspect "$backup"
st=$?
[ $st = 0 ] || vm_fail "reshaped inspect $backup: exit status $st after the cut of boot $prev"

t0=$(vm_now)
vm_assemble_restoring md0 "$backup" $(vm_disks 4)
assembled=$(vm_now)
vm_log "assembled in $(since "$assembled" "$t0") s: $(md_snapshot md0)"
case $(md_attr md0 array_state) in
read-auto|readonly) vm_run mdadm --readwrite /dev/md0 ;;
esac
if [ "$(md_attr md0 reshape_position)" != none ]; then
        vm_wait_supervise_log 'supervising the reshape from' 30
        sed -n 's/.*\(took over at .*\)/\1/p' "$VM_OUT/supervise.$VM_BOOT.log"
        [ "$VM_BOOT" = 2 ] && vm_power_cut_at md0 "$cut2"
fi

n=0
until [ -f "$VM_OUT/supervise.$VM_BOOT.status" ]; do
        n=$((n + 1))
        [ $n -lt 3000 ] || vm_fail "reshaped supervise did not end in 300 s: $(md_snapshot md0)"
        sleep 0.1
done
cat "$VM_OUT/supervise.$VM_BOOT.log"
status=$(cat "$VM_OUT/supervise.$VM_BOOT.status")
md_wait_idle md0 60
vm_log "reshape finished $(since "$(vm_now)" "$assembled") s after mdadm --assemble"
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
size=$(sed -n 's/^size_bytes=//p' "$VM_OUT/array.txt")
[ "$(vm_size_bytes /dev/md0)" = "$size" ] || vm_fail "the array size changed: $size -> $(vm_size_bytes /dev/md0)"
vm_timed vm-pattern verify /dev/md0 "$seed"
if [ -s "$VM_OUT/refused.txt" ]; then
        cat "$VM_OUT/refused.txt"
        vm_fail "every byte verified, but mdadm refused reshaped's backup after a cut (above)"
fi
[ "$status" = "exit status 0" ] || vm_fail "every byte verified, but reshaped supervise ended with $status"
vm_log "PASS: power cuts after the take-over's first window and at ${cut2}%; every byte verified"
