# vm: mode=busybox disks=12 size=512M scratch=1G timeout=2400 needs=reshaped
# The guest half of tests/vm/bench (a benchmark, not a test: it lives
# outside scenarios/ so the VM suite does not run it). tests/vm/bench
# throttles every disk image in qemu to BENCH_BPS bytes/s (bps-total) and
# sets BENCH_BPS and BENCH_RUNS (the runs wanted, comma-separated) below
# the header.
#
# Three identical raid5 arrays (0.90, 4 members, chunk 64K, --size a
# multiple of 128K), filled with the same pattern, each reshaped to a 128K
# chunk in a different way:
#   unsupervised  sysfs, sync_max=max, no backup: the kernel's own speed
#   mdadm         mdadm --grow --backup-file with mdadm's own monitor
#   reshaped      reshaped start --backup-file
# The backup files live on the scratch disk, throttled like the members.
# Per run: wall time, bytes read and written on each member and on the
# backup disk (/sys/block/*/stat deltas), the I/O floor those bytes imply,
# guest CPU use, the probe's stall and lag, and the supervisor's VmHWM.
# Every array is verified after its reshape; a mismatch fails the bench.
. "$VM_LIB"
set -u

bps=${BENCH_BPS:-}
[ -n "$bps" ] || vm_fail "BENCH_BPS is unset: run this through tests/vm/bench, which throttles the disks"
seed=4004
members=4
new_chunk_kib=128
backup_dev=$VM_SCRATCH_DEV
results=$VM_OUT/bench-results.txt
export RESHAPED_STATE_DIR=$VM_SCRATCH/state
: >"$results"

# Sectors read and written by block device $1 so far.
disk_sectors() {
        read -r _ _ rs _ _ _ ws _ <"/sys/block/${1#/dev/}/stat"
        echo "$rs $ws"
}

snapshot() {
        for d in $2; do echo "$d $(disk_sectors "$d")"; done >"$1"
}

# Busy and total jiffies of all CPUs.
cpu_ticks() {
        read -r _ u n s i w q sq st _ </proc/stat
        echo "$((u + n + s + q + sq + st)) $((u + n + s + i + w + q + sq + st))"
}

# Members of array number $1 (0-based): disks 4k .. 4k+3.
set_disks() {
        out=
        i=0
        while [ "$i" -lt "$members" ]; do
                out="${out:+$out }$(vm_disk $(($1 * members + i)))"
                i=$((i + 1))
        done
        echo "$out"
}

# Largest --size (KiB) a 0.90 member of this disk can hold that is a
# multiple of the new chunk: the superblock takes the last 64K-aligned 64K.
member_kib() {
        kib=$(($(vm_size_bytes "$1") / 1024))
        echo $(((((kib / 64) * 64 - 64) / new_chunk_kib) * new_chunk_kib))
}

# Waits until the reshape of $1 has ended and process $2 (if given) has
# exited, sampling its VmHWM (kB) into hwm_kb. Shell builtins only, so
# the sampling costs the guest next to nothing.
await_end() {
        hwm_kb=-
        polls=0
        while :; do
                read -r action <"/sys/block/$1/md/sync_action"
                read -r position <"/sys/block/$1/md/reshape_position"
                alive=0
                if [ -n "$2" ] && [ -r "/proc/$2/status" ]; then
                        while read -r key value _; do
                                case $key in
                                VmHWM:) hwm_kb=$value ;;
                                State:) [ "$value" = Z ] || alive=1 ;;
                                esac
                        done 2>/dev/null <"/proc/$2/status"
                fi
                [ "$action" = idle ] && [ "$position" = none ] && [ "$alive" = 0 ] && return 0
                polls=$((polls + 1))
                [ "$polls" -lt 30000 ] || vm_fail "$1: still busy after 6000 s (sync_action=$action reshape_position=$position)"
                sleep 0.2
        done
}

# bench_run NAME MD SET: reshapes array MD (members of set SET) the NAME
# way, measures it and verifies every byte afterwards.
bench_run() {
        name=$1 md=$2
        devs=$(set_disks "$3")
        backup=$VM_SCRATCH/$md.backup
        probe_backup=
        [ "$name" = unsupervised ] || probe_backup="--backup $backup"
        sync
        echo 3 >/proc/sys/vm/drop_caches
        sleep 2
        snapshot /tmp/before "$devs $backup_dev"
        cpu0=$(cpu_ticks)
        # shellcheck disable=SC2086
        vm-probe --md "$md" --csv "$VM_OUT/probe-$name.csv" $probe_backup >"$VM_OUT/probe-$name.txt" 2>&1 &
        probe=$!
        vm_log "run $name: /dev/$md on $devs"
        run_t0=$(vm_now)
        pid=
        case $name in
        unsupervised)
                # What mdadm --grow does, minus the backup: freeze, new geometry, go.
                md_set "$md" sync_action frozen
                md_set "$md" chunk_size $((new_chunk_kib * 1024))
                [ "$(md_attr "$md" sync_max)" = max ] || vm_fail "$md: sync_max is not max"
                md_set "$md" sync_action reshape
                ;;
        mdadm)
                MDADM_NO_SYSTEMCTL=1 mdadm --grow "/dev/$md" --chunk=$new_chunk_kib \
                        --backup-file="$backup" || vm_fail "mdadm --grow /dev/$md failed"
                # The forked monitor is the only mdadm left.
                pid=$(pidof mdadm) || vm_fail "no mdadm monitor after mdadm --grow"
                [ "$pid" = "${pid% *}" ] || vm_fail "more than one mdadm runs: $pid"
                ;;
        reshaped)
                reshaped --verbose start "/dev/$md" --backup-file "$backup" --chunk ${new_chunk_kib}K \
                        >"$VM_OUT/reshaped-$md.log" 2>&1 &
                pid=$!
                ;;
        esac
        await_end "$md" "$pid"
        run_t1=$(vm_now)
        cpu1=$(cpu_ticks)
        snapshot /tmp/after "$devs $backup_dev"
        if [ "$name" = reshaped ]; then
                wait "$pid"
                status=$?
                [ "$status" = 0 ] || { cat "$VM_OUT/reshaped-$md.log"; vm_fail "reshaped start exited with $status"; }
        fi
        wait "$probe" || { cat "$VM_OUT/probe-$name.txt"; vm_fail "the probe failed"; }
        sed "s/^/    /" "$VM_OUT/probe-$name.txt"
        grep -q '^probe: end=completed' "$VM_OUT/probe-$name.txt" || vm_fail "the probe did not see $md complete"
        [ "$(md_attr "$md" chunk_size)" = $((new_chunk_kib * 1024)) ] || vm_fail "$md: chunk_size is $(md_attr "$md" chunk_size)"
        vm_timed vm-pattern verify "/dev/$md" "$seed"

        lag=$(sed -n 's/^probe: .*lag_max=\([0-9]*\) bytes.*/\1/p' "$VM_OUT/probe-$name.txt")
        stall=$(sed -n 's/^probe: .* stall=[0-9.]*s (\([0-9.]*\)%).*/\1/p' "$VM_OUT/probe-$name.txt")
        [ -n "$lag" ] && [ -n "$stall" ] || vm_fail "no lag or stall figure from the probe"
        # One line per run: timing, CPU, probe, supervisor; then per disk.
        echo "$name $md $run_t0 $run_t1 $cpu0 $cpu1 $lag $stall $hwm_kb" | awk '{
                printf "run name=%s md=%s wall=%.2f cpu_busy_pct=%.1f lag=%s stall_pct=%s hwm_kb=%s\n",
                        $1, $2, $4 - $3, 100 * ($7 - $5) / ($8 - $6), $9, $10, $11 }' >>"$results"
        awk -v name="$name" -v backup="$backup_dev" 'NR == FNR { r[$1] = $2; w[$1] = $3; next }
                { printf "disk run=%s dev=%s role=%s read=%d written=%d\n", name, $1,
                        ($1 == backup ? "backup" : "member"), ($2 - r[$1]) * 512, ($3 - w[$1]) * 512 }' \
                /tmp/before /tmp/after >>"$results"
        grep -E "name=$name |run=$name " "$results" | sed 's/^/    /'
}

md_fast
size_kib=$(member_kib "$(vm_disk 0)")
array_bytes=$((size_kib * 1024 * (members - 1)))
vm_log "three raid5 arrays: $members x $size_kib KiB members, $array_bytes bytes each; disks throttled to $bps bytes/s"
for k in 0 1 2; do
        # shellcheck disable=SC2046
        vm_run mdadm --create "/dev/md$k" --run --quiet --level=5 --raid-devices=$members --chunk=64 \
                --metadata=0.90 --size="$size_kib" --assume-clean $(set_disks $k)
        md_fast "md$k"
done
# The lazy inode-table initialisation would write to the backup disk
# during the runs.
vm_run mount -o remount,noinit_itable "$VM_SCRATCH"
mkdir -p "$RESHAPED_STATE_DIR"
vm_log "filling the three arrays at once"
t0=$(vm_now)
fills=
for k in 0 1 2; do
        vm-pattern fill "/dev/md$k" "$seed" >"/tmp/fill-md$k" 2>&1 &
        fills="$fills $k:$!"
done
for f in $fills; do
        wait "${f#*:}" || { cat "/tmp/fill-md${f%:*}"; vm_fail "vm-pattern fill /dev/md${f%:*} failed"; }
done
vm_log "filled in $(vm_since "$t0")s"
sync

k=0
for name in unsupervised mdadm reshaped; do
        case ,${BENCH_RUNS:-unsupervised,mdadm,reshaped}, in
        *,$name,*) bench_run $name md$k $k ;;
        esac
        k=$((k + 1))
done

# The table. Floor model: qemu throttles each disk on its own to bps
# bytes/s of reads plus writes (bps-total), and the disks work in
# parallel, so a run cannot end before its busiest disk has moved its
# bytes: floor = max over disks of (read + written) / bps (no CPU time,
# perfect overlap). A safe in-place reshape must in addition read every
# section once more from the members (the backup read through md touches
# data chunks only: array_bytes / members per member) and write it to the
# backup disk: safe floor = max(max over members of (unsupervised bytes +
# array_bytes / members), array_bytes) / bps.
awk -v bps="$bps" -v array="$array_bytes" -v members="$members" '
function mib(b) { return b / 1048576 }
function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
BEGIN { bps += 0; array += 0; members += 0 }
$1 == "run" {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        n++; name[n] = v["name"]; wall[v["name"]] = v["wall"]; cpu[v["name"]] = v["cpu_busy_pct"]
        lag[v["name"]] = v["lag"]; stall[v["name"]] = v["stall_pct"]; hwm[v["name"]] = v["hwm_kb"]
}
$1 == "disk" {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        r = v["run"]; b = v["read"] + v["written"]
        if (v["role"] == "member") {
                mr[r] += v["read"]; mw[r] += v["written"]
                if (r == "unsupervised" && b + array / members > safe_member)
                        safe_member = b + array / members
        } else { br[r] += v["read"]; bw[r] += v["written"] }
        if (b / bps > floor[r]) floor[r] = b / bps
}
END {
        base = wall["unsupervised"]
        md = wall["mdadm"]
        safe = (safe_member > array ? safe_member : array) / bps
        printf "bench: raid5 0.90, %d members, chunk 64K -> 128K, array %.1f MiB; every disk throttled to %.1f MiB/s (bps-total)\n",
                members, mib(array), mib(bps)
        printf "bench: floor = max over disks of (read + written) / bandwidth (disks in parallel, no CPU time)\n"
        printf "bench: %-12s %8s %6s %9s %9s %9s %9s %8s %6s %6s %9s %8s %5s\n", "run", "wall_s",
                "x_base", "memb_rd", "memb_wr", "bkup_rd", "bkup_wr", "floor_s", "/floor", "stall%",
                "lag_MiB", "rss_KiB", "cpu%"
        for (i = 1; i <= n; i++) {
                r = name[i]
                printf "bench: %-12s %8.1f %6s %9.1f %9.1f %9.1f %9.1f %8.1f %6.2f %6.1f %9.1f %8s %5.1f\n",
                        r, wall[r], ratio(wall[r], base), mib(mr[r]), mib(mw[r]), mib(br[r]), mib(bw[r]),
                        floor[r], wall[r] / floor[r], stall[r], mib(lag[r]), hwm[r], cpu[r]
        }
        printf "bench: (byte columns in MiB, summed over the %d members / the backup disk; the unsupervised lag is a lower bound: sync_max=max)\n", members
        if (base > 0)
                printf "bench: safe floor = max(busiest member: unsupervised bytes + array/%d backup read, backup disk: array written) / bandwidth = %.1f s (%.2f x unsupervised wall, %.2f x its floor)\n",
                        members, safe, safe / base, safe / floor["unsupervised"]
        if ("reshaped" in wall)
                printf "bench: reshaped: %.2f x its own floor, %s x the safe floor, %s x mdadm, lag %.1f MiB\n",
                        wall["reshaped"] / floor["reshaped"], ratio(wall["reshaped"], safe),
                        ratio(wall["reshaped"], md), mib(lag["reshaped"])
}' "$results" | tee "$VM_OUT/bench-table.txt"

for name in unsupervised mdadm reshaped; do
        grep -q "^run name=$name " "$results" || continue
        busy=$(sed -n "s/^run name=$name .*cpu_busy_pct=\([0-9.]*\).*/\1/p" "$results")
        if [ "$(awk -v b="$busy" 'BEGIN { print (b + 0 > 85) }')" = 1 ]; then
                vm_log "WARNING: run $name kept the guest CPUs ${busy}% busy: CPU-bound, not I/O-bound; lower the bandwidth"
        fi
done
vm_log "bench done: every reshaped array verified"
