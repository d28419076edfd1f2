# vm: mode=busybox disks=4 size=256M scratch=1G timeout=1800
# A measurement, not a test: it is outside the default suite, run it with
#   tests/vm/run tests/vm/experiments/crash-mdadm.sh
# What a power cut does to a reshape that mdadm's own monitor runs (no
# reshaped anywhere). For each point of $cuts (percent of the reshape, the
# kernel's live front), on a fresh raid5 (0.90, 4 x 255 MiB, chunk 64K,
# filled with a seed of its own): MDADM_NO_SYSTEMCTL=1 mdadm --grow
# --chunk=128 --backup-file, power cut at that point, then
# MDADM_NO_SYSTEMCTL=1 mdadm --assemble --backup-file (mdadm restores, and
# its monitor finishes the reshape), and every byte compared with the
# pattern. Prints one result line per cut and a summary. It exits non-zero
# only when the procedure broke (no array, a reshape that never ends), not
# for what it measured.
. "$VM_LIB"
set -u

cuts="10 40 70"
backup=$VM_SCRATCH/md0.backup
results=$VM_OUT/results.txt
export MDADM_NO_SYSTEMCTL=1

nth() {
        echo $2 | cut -d ' ' -f "$1"
}

# Measurement $1 starts: a fresh array, mdadm --grow, the cut.
start_measurement() {
        seed=$((800 + $1))
        vm_log "measurement $1: cut at $(nth "$1" "$cuts")%, seed $seed"
        vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
                --metadata=0.90 --size=$((255 * 1024)) --assume-clean $(vm_disks 4)
        md_fast md0
        vm_timed vm-pattern fill /dev/md0 "$seed"
        sync
        rm -f "$backup"
        vm_run mdadm --grow /dev/md0 --chunk=128 --backup-file="$backup"
        echo "$(vm_now)" >"$VM_OUT/grow.$1.txt"
        vm_power_cut_at md0 "$(nth "$1" "$cuts")"
}

# Measurement $1 ends: restore, let mdadm's monitor finish, compare.
finish_measurement() {
        seed=$((800 + $1))
        cat "$VM_OUT/cut.$1.txt"
        vm_log "on disk: reshape position $(mdadm --examine "$(vm_disk 0)" | sed -n "s/^ *Reshape pos'n : //p")"
        t0=$(vm_now)
        vm_assemble_restoring md0 "$backup" $(vm_disks 4)
        vm_log "assembled in $(vm_since "$t0") s: $(md_snapshot md0)"
        ps | grep '[m]dadm' || vm_log "no mdadm process runs"
        case $(md_attr md0 array_state) in
        read-auto|readonly) vm_run mdadm --readwrite /dev/md0 ;;
        esac
        md_wait_idle md0 300
        vm_log "reshape finished $(vm_since "$t0") s after mdadm --assemble; chunk_size $(md_attr md0 chunk_size)"
        if vm-pattern verify /dev/md0 "$seed" >"$VM_OUT/verify.$1.txt" 2>&1; then
                verdict=intact
        else
                verdict="CORRUPT ($(sed -n 's/.*MISMATCH //p' "$VM_OUT/verify.$1.txt"))"
        fi
        cat "$VM_OUT/verify.$1.txt"
        refused=$(grep "^boot $VM_BOOT:" "$VM_OUT/refused.txt" 2>/dev/null)
        echo "cut at $(sed -n 's/.*front=\([0-9.]*\)\/.*/\1/p' "$VM_OUT/cut.$1.txt")% ($(sed -n 's/.* reshape_position=\([0-9]*\).*/reshape_position \1/p' "$VM_OUT/cut.$1.txt")):" \
                "mdadm: $(grep -i -E 'restor|critical|backup' "$VM_OUT/assemble.$VM_BOOT.txt" | tr '\n' ' ')" \
                "${refused:+(first refused: ${refused#*: }) }=> $verdict" >>"$results"
        tail -n 1 "$results"
        vm_run mdadm --stop /dev/md0
        vm_run mdadm --zero-superblock $(vm_disks 4)
}

md_fast
ncuts=$(echo $cuts | wc -w)
[ "$VM_BOOT" -gt 1 ] && finish_measurement $((VM_BOOT - 1))
[ "$VM_BOOT" -le "$ncuts" ] && start_measurement "$VM_BOOT"

echo "results (mdadm's own monitor, power cut, mdadm --assemble --backup-file):"
cat "$results"
vm_log "$(grep -c '=> intact$' "$results") of $ncuts intact, $(grep -c '=> CORRUPT' "$results") corrupt"
