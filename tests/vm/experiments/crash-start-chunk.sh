# vm: mode=busybox disks=4 size=256M scratch=1G timeout=1500 needs=reshaped
# Power cuts during a reshape that reshaped supervises: raid5 (0.90
# metadata, 4 x 255 MiB), chunk 64K -> 128K with `reshaped start`. The
# power is cut once per boot, at each point of $cuts (percent of the
# reshape, the kernel's live front): early (inside the first window),
# middle, late (in the last windows). After each cut the backup file must
# verify (`reshaped inspect`, exit 0) and `mdadm --assemble --backup-file`
# must restore what it needs and start the array; mdadm then hands the
# reshape to mdadm-grow-continue@md0.service, which with reshaped's drop-in
# runs `reshaped supervise /dev/md0` (a stand-in systemctl does that here),
# and that goes on to the next cut. The boot after the last cut lets it
# finish: chunk 128K, same size, every byte matches the pattern, and
# supervise exits 0.
. "$VM_LIB"
set -u

# Where to cut, in percent of the reshape; one boot each.
cuts="2 50 90 97"
seed=6006
backup=$VM_SCRATCH/md0.backup
# The busybox guest has no /var/lib; the scratch disk survives the cuts.
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

# Seconds from $2 to $1.
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
                --metadata=0.90 --size=$((255 * 1024)) --assume-clean $(vm_disks 4)
        md_fast md0
        echo "size_bytes=$(vm_size_bytes /dev/md0)" >"$VM_OUT/array.txt"
        vm_timed vm-pattern fill /dev/md0 "$seed"
        sync
        vm_log "+ reshaped -v start /dev/md0 --backup-file $backup --chunk 128K"
        { reshaped -v start /dev/md0 --backup-file "$backup" --chunk 128K 2>&1
          echo "exit status $?" >"$VM_OUT/start.status"; } |
                while IFS= read -r line; do echo "[$(vm_now)] $line"; done >"$VM_OUT/start.log" &
        vm_power_cut_at md0 "$(nth 1 "$cuts")"
fi

prev=$((VM_BOOT - 1))
cat "$VM_OUT/cut.$prev.txt" || vm_fail "boot $prev left no record of its cut"
echo "--- the daemon's last lines before the cut:"
if [ $prev = 1 ]; then tail -n 8 "$VM_OUT/start.log"; else tail -n 8 "$VM_OUT/supervise.$prev.log"; fi
echo "---"
vm_log "on disk: reshape position $(mdadm --examine "$(vm_disk 0)" | sed -n "s/^ *Reshape pos'n : //p")"
ls -l "$VM_SCRATCH"
reshaped inspect "$backup"
st=$?
[ $st = 0 ] || vm_fail "reshaped inspect $backup: exit status $st after the cut of boot $prev"
vm_log "reshaped inspect: exit status 0"

vm_systemctl_runs_reshaped -v
t0=$(vm_now)
vm_assemble_restoring md0 "$backup" $(vm_disks 4)
assembled=$(vm_now)
vm_log "assembled in $(since "$assembled" "$t0") s: $(md_snapshot md0)"
case $(md_attr md0 array_state) in
read-auto|readonly) vm_run mdadm --readwrite /dev/md0 ;;
esac

if [ "$(md_attr md0 reshape_position)" = none ]; then
        # Restoring a section that reaches the end of the array finishes
        # the reshape, and so may the kernel while mdadm assembles; mdadm
        # hands the array on all the same.
        vm_log "the reshape had ended when mdadm --assemble returned"
        [ "$VM_BOOT" -gt "$ncuts" ] ||
                vm_fail "the reshape ended before cut $VM_BOOT of '$cuts'; choose earlier points"
else
        vm_wait_supervise_log 'supervising the reshape from' 30
        sed -n 's/.*\(took over at .*\)/\1/p' "$VM_OUT/supervise.$VM_BOOT.log"
        vm_wait_supervise_log 'backed up array sectors' 60
        first=$(sed -n 's/^\[\([0-9.]*\)\] .*backed up array sectors.*/\1/p' "$VM_OUT/supervise.$VM_BOOT.log" |
                head -n 1)
        vm_log "first window durable $(since "$first" "$assembled") s after mdadm --assemble returned"
        [ "$VM_BOOT" -le "$ncuts" ] && vm_power_cut_at md0 "$(nth "$VM_BOOT" "$cuts")"
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
vm_log "reshaped's records: $(ls "$RESHAPED_STATE_DIR" | tr '\n' ' ')"
if [ -s "$VM_OUT/refused.txt" ]; then
        cat "$VM_OUT/refused.txt"
        vm_fail "every byte verified, but mdadm refused reshaped's backup after a cut (above)"
fi
# Handed an array whose reshape is over, the service has nothing to do:
# that is no failure.
[ "$status" = "exit status 0" ] || vm_fail "every byte verified, but reshaped supervise ended with $status"
vm_log "PASS: $ncuts power cuts at $cuts percent; every byte verified"
