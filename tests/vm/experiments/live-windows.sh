# vm: mode=busybox disks=4 size=128M scratch=512M timeout=3000 needs=reshaped
# Measurement, not a test: what a reshape costs an application writing to
# the array, and how reshaped's window size changes that. For each run in
# LIVE_RUNS (below; "SPEED:HOW" words), a fresh raid5 (0.90, 4 x 127 MiB,
# chunk 64K) with ext4 mounted, vm-fswriter alone on it for 15 s (the
# idle figures), then the writer again while the chunk changes to 128K,
# until the reshape ends or for 60 s at most (the busy figures); md then
# runs fast to the end, and e2fsck and the writer's manifest check the
# filesystem.
#   SPEED  fast: md_fast (md never yields to other I/O, as the tests run);
#          debian: the kernel's defaults (speed_limit_min 1000 KB/s,
#          speed_limit_max 200000 KB/s), md yields to the application
#   HOW    kernel: sysfs, sync_max=max, no backup (no protection at all);
#          mdadm: mdadm --grow --backup-file, its own monitor;
#          NM: reshaped start --max-window NM (N MiB)
# Prints one row per run: the writer's MiB/s and operations/s busy and
# idle, busy as % of idle, its slowest operation (the longest an
# application waited), and the reshape's own speed while the writer ran
# (array MiB/s). Exits 0 when every run completed and verified, whatever
# it measured. Run: tests/vm/run tests/vm/experiments/live-windows.sh
# (the guest does not see the host's environment: edit LIVE_RUNS's
# default below to pick other runs).
. "$VM_LIB"
set -u

runs=${LIVE_RUNS:-"fast:kernel fast:64M debian:kernel debian:mdadm debian:8M debian:64M"}
seed=7500
busy_s=60
backup=$VM_SCRATCH/md0.backup
table=$VM_OUT/live-windows.txt
export RESHAPED_STATE_DIR=$VM_SCRATCH/state
printf '%-14s %9s %9s %7s %9s %9s %6s %10s %10s\n' run idle_MiBs busy_MiBs busy_% idle_ops busy_ops slow_s reshape_MiBs window >"$table"

speed() {
        case $1 in
        fast) md_fast ;;
        debian)
                echo 200000 >/proc/sys/dev/raid/speed_limit_max
                echo 1000 >/proc/sys/dev/raid/speed_limit_min ;;
        *) vm_fail "live-windows: no speed '$1' (fast, debian)" ;;
        esac
}

one_run() {
        _speed=${1%%:*} _how=${1#*:}
        md_fast
        vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
                --metadata=0.90 --size=$((127 * 1024)) --assume-clean $(vm_disks 4)
        vm_live_mkfs ext4 /dev/md0
        vm_live_idle "$seed" 15
        speed "$_speed"

        vm_live_writer_start busy "$seed"
        sleep 2
        _pid=
        case $_how in
        kernel)
                md_set md0 sync_action frozen
                md_set md0 chunk_size 131072
                md_set md0 sync_action reshape ;;
        mdadm)
                MDADM_NO_SYSTEMCTL=1 vm_run mdadm --grow /dev/md0 --chunk=128 --backup-file="$backup"
                _pid=$(pidof mdadm) || vm_fail "no mdadm monitor after mdadm --grow" ;;
        [0-9]*M)
                reshaped start /dev/md0 --backup-file "$backup" --chunk 128K --max-window "$_how" \
                        >"$VM_OUT/start.$1.log" 2>&1 &
                _pid=$! ;;
        *) vm_fail "live-windows: no run '$_how' (kernel, mdadm, NM)" ;;
        esac
        # reshaped start sets the reshape up in the background.
        _n=0
        while [ "$(md_attr md0 reshape_position)" = none ]; do
                _n=$((_n + 1))
                [ $_n -lt 300 ] || vm_fail "run $1: no reshape after 30 s: $(tail -n 3 "$VM_OUT/start.$1.log" 2>/dev/null)"
                sleep 0.1
        done
        # The writer runs until the reshape ends or for $busy_s at most;
        # the reshape's speed is its progress over that time.
        _t0=$(vm_now)
        _p=0
        while [ "$(md_attr md0 reshape_position)" != none ]; do
                _p=$(md_progress md0)
                [ "$(awk -v a="$(vm_since "$_t0")" -v l="$busy_s" 'BEGIN { print (a >= l) }')" = 1 ] && break
                sleep 0.5
        done
        _secs=$(vm_since "$_t0")
        [ "$(md_attr md0 reshape_position)" = none ] && _p=$(($(md_attr md0 component_size) * 2))
        vm_live_writer_stop busy
        # sectors per member over 3 data disks, in MiB/s of the array
        _reshape=$(awk -v b="$_p" -v t="$_secs" 'BEGIN { printf "%.2f", b * 512 * 3 / 1048576 / t }')
        md_fast md0
        md_wait_idle md0 600
        if [ -n "$_pid" ]; then
                _n=0
                while kill -0 "$_pid" 2>/dev/null && [ $_n -lt 300 ]; do sleep 0.1; _n=$((_n + 1)); done
                kill -0 "$_pid" 2>/dev/null && vm_fail "run $1: the supervisor ($_pid) did not end with the reshape"
        fi
        [ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "run $1: chunk_size is $(md_attr md0 chunk_size)"
        vm_live_check ext4 /dev/md0
        _pct=$(awk -v a="$live_rate" -v b="$idle_rate" 'BEGIN { printf "%.0f", (b > 0 ? 100 * a / b : 0) }')
        printf '%-14s %9s %9s %7s %9s %9s %6s %10s %10s\n' "$1" "$idle_rate" "$live_rate" "$_pct" \
                "$idle_ops" "$live_ops" "$live_latency" "$_reshape" "$_how" >>"$table"
        vm_log "ROW $(tail -n 1 "$table")"
        vm_run umount "$live_mnt"
        vm_run mdadm --stop /dev/md0
        # shellcheck disable=SC2046
        vm_run mdadm --zero-superblock $(vm_disks 4)
        rm -f "$backup"
}

for r in $runs; do
        one_run "$r"
done
cat "$table"
vm_log "DONE: $(($(wc -l <"$table") - 1)) runs"
