# vm: mode=busybox disks=4 size=256M scratch=1G timeout=1800
# A measurement, not a test (outside the default suite; run it with
# tests/vm/run tests/vm/experiments/crash-mdadm.sh): what a power cut does
# to a reshape that mdadm's own monitor runs. For each point of $cuts
# (percent of the reshape, the kernel's live front), on a fresh raid5
# (0.90, 4 x 255 MiB, chunk 64K, filled with its own seed):
# MDADM_NO_SYSTEMCTL=1 mdadm --grow --chunk=128 --backup-file, cut the
# power at that point, then MDADM_NO_SYSTEMCTL=1 mdadm --assemble
# --backup-file (mdadm restores and its monitor finishes the reshape) and
# compare every byte with the pattern. Prints one result line per cut
# point and a summary; exits non-zero only when the procedure itself
# broke (no array, the reshape never ended), not for what it measured.
. "$VM_LIB"
set -u

cuts="10 40 70"
backup=$VM_SCRATCH/md0.backup
results=$VM_OUT/results.txt
export MDADM_NO_SYSTEMCTL=1

reshape_front() {
        sed -n 's/.*reshape = *\([0-9.]*\)% (\([0-9]*\)\/\([0-9]*\)).*/\1 \2 \3/p' /proc/mdstat
}

snapshot() {
        s=
        for a in array_state sync_action sync_max sync_completed reshape_position suspend_lo suspend_hi; do
                s="$s $a=$(md_attr md0 $a | tr ' ' _)"
        done
        echo "front=$(reshape_front | tr ' ' /)$s"
}

nth() {
        echo $2 | cut -d ' ' -f "$1"
}

# Measurement $1 starts: a fresh array, mdadm --grow, and the cut.
start_measurement() {
        m=$1
        pct=$(nth "$m" "$cuts")
        seed=$((800 + m))
        vm_log "measurement $m: cut at ${pct}%, seed $seed"
        vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
                --metadata=0.90 --size=$((255 * 1024)) --assume-clean $(vm_disks 4)
        md_fast md0
        vm_timed vm-pattern fill /dev/md0 "$seed"
        sync
        rm -f "$backup"
        t0=$(vm_now)
        vm_run mdadm --grow /dev/md0 --chunk=128 --backup-file="$backup"
        total=$(($(md_attr md0 component_size)))
        want=$((total * pct / 100))
        n=0
        while :; do
                set -- $(reshape_front) x x x
                [ "$1" != x ] && [ "$2" -ge "$want" ] && break
                n=$((n + 1))
                [ $n -lt 6000 ] || vm_fail "no ${pct}% after 300 s: $(snapshot)"
                sleep 0.05
        done
        echo "[$(vm_now)] measurement $m: cut at ${pct}%, $(awk -v a="$(vm_now)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s after mdadm --grow: $(snapshot)" \
                >"$VM_OUT/cut.$m.txt"
        cat "$VM_OUT/cut.$m.txt" >/dev/kmsg
        vm_power_cut
}

# Measurement $1 ends: restore, let mdadm's monitor finish, compare.
finish_measurement() {
        m=$1
        seed=$((800 + m))
        cat "$VM_OUT/cut.$m.txt"
        vm_log "on disk: reshape position $(mdadm --examine "$(vm_disk 0)" | sed -n "s/^ *Reshape pos'n : //p")"
        allow_old=no
        t0=$(vm_now)
        mdadm --assemble /dev/md0 --backup-file="$backup" $(vm_disks 4) >"$VM_OUT/assemble.$m.txt" 2>&1
        st=$?
        if grep -q MDADM_GROW_ALLOW_OLD "$VM_OUT/assemble.$m.txt"; then
                allow_old=yes
                cat "$VM_OUT/assemble.$m.txt"
                mdadm --stop /dev/md0
                MDADM_GROW_ALLOW_OLD=1 mdadm --assemble /dev/md0 --backup-file="$backup" $(vm_disks 4) \
                        >"$VM_OUT/assemble.$m.txt" 2>&1
                st=$?
        fi
        cat "$VM_OUT/assemble.$m.txt"
        vm_log "mdadm --assemble: exit status $st, MDADM_GROW_ALLOW_OLD needed: $allow_old; $(snapshot)"
        [ -e /sys/block/md0/md/reshape_position ] || vm_fail "no md0 after mdadm --assemble"
        ps | grep '[m]dadm' || vm_log "no mdadm process runs"
        case $(md_attr md0 array_state) in
        read-auto|readonly) vm_run mdadm --readwrite /dev/md0 ;;
        esac
        md_wait_idle md0 300
        vm_log "reshape finished $(awk -v a="$(vm_now)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s after mdadm --assemble; chunk_size $(md_attr md0 chunk_size)"
        if vm-pattern verify /dev/md0 "$seed" >"$VM_OUT/verify.$m.txt" 2>&1; then
                verdict=intact
        else
                verdict="CORRUPT ($(grep MISMATCH "$VM_OUT/verify.$m.txt" | sed 's/.*MISMATCH //'))"
        fi
        cat "$VM_OUT/verify.$m.txt"
        echo "cut at $(sed -n 's/.*front=\([0-9.]*\)\/.*/\1/p' "$VM_OUT/cut.$m.txt")%: mdadm --assemble status $st, MDADM_GROW_ALLOW_OLD $allow_old, $(grep -c . "$VM_OUT/assemble.$m.txt") lines ($(grep -i -E 'restor|critical|backup' "$VM_OUT/assemble.$m.txt" | tr '\n' ' ')): $verdict" >>"$results"
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
vm_log "$(grep -c ': intact$' "$results") of $ncuts intact, $(grep -c ': CORRUPT' "$results") corrupt"
