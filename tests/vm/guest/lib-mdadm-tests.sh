# SPDX-License-Identifier: GPL-2.0-or-later
#
# mdadm's own reshape tests (tests/07changelevelintr, 07reshape5intr,
# 07changelevels in mdadm's source), re-stated for the systemd guest
# (issue 11): the same arrays, the same mdadm commands in the same order,
# each reshape stopped mid-way with `mdadm --stop` and continued, and the
# upstream checks (geometry, `mismatch_cnt` 0 after a check) plus what
# upstream does not check: every byte of the array against its pattern,
# the service's state, no monitor process and no file left behind.
#
# Sourced by scenarios after lib.sh, with
#   UP_META     0.90 or 1.2 (the metadata of every array created)
#   UP_MONITOR  reshaped: reshaped's drop-in routes mdadm's hand-off
#               (mdadm-grow-continue@md0) to `reshaped supervise`;
#               mdadm: the stock unit runs mdadm's own monitor (the
#               baseline). `tests/vm/mdadm-tests` runs every combination.
# A test prints one "mdadm-tests: " line per reshape step and a final
# "mdadm-tests: PASS TEST ..." line, which tests/vm/mdadm-tests tabulates.

up_unit=mdadm-grow-continue@md0.service
up_backup=
up_step=0
up_bytes=0

# up_begin: the guest booted, the monitor chosen.
up_begin() {
        case "$UP_META:$UP_MONITOR" in
        0.90:reshaped|0.90:mdadm|1.2:reshaped|1.2:mdadm) ;;
        *) vm_fail "UP_META=$UP_META UP_MONITOR=$UP_MONITOR: want 0.90 or 1.2, and reshaped or mdadm" ;;
        esac
        vm_wait_booted
        up_backup=$VM_SCRATCH/md0.backup
        if [ "$UP_MONITOR" = reshaped ]; then
                vm_install_dropin "$up_unit"
        else
                systemctl cat "$up_unit" | grep -q '^ExecStart=/sbin/mdadm --grow --continue' ||
                        vm_fail "$up_unit does not run mdadm's own monitor"
        fi
        md_fast
}

# up_create LEVEL N CHUNK_KIB SIZE_KIB DEV...: mdadm --create, as the
# upstream test does, and its initial sync waited for (disks reused from
# an earlier array are not zero, so --assume-clean would leave parity
# that a check counts).
up_create() {
        _level=$1 _n=$2 _chunk=$3 _kib=$4
        shift 4
        vm_run mdadm --create /dev/md0 --run --quiet --metadata="$UP_META" --level="$_level" \
                --raid-devices="$_n" ${_chunk:+--chunk="$_chunk"} --size="$_kib" "$@"
        md_fast md0
        md_wait_idle md0 120
}

# up_fill SEED: writes pattern SEED over the whole array.
up_fill() {
        vm_timed vm-pattern fill /dev/md0 "$1"
        sync
}

# up_verify SEED BYTES: the first BYTES of the array hold pattern SEED.
up_verify() {
        vm_timed vm-pattern verify --length "$2" /dev/md0 "$1"
        up_bytes=$((up_bytes + $2))
}

# up_geometry LEVEL RAID_DISKS [CHUNK_BYTES [LAYOUT]]: upstream's checkgeo.
up_geometry() {
        _want="$1 $2${3:+ $3}${4:+ $4}"
        _got="$(md_attr md0 level) $(md_attr md0 raid_disks)"
        [ -z "${3:-}" ] || _got="$_got $(md_attr md0 chunk_size)"
        [ -z "${4:-}" ] || _got="$_got $(md_attr md0 layout)"
        [ "$_got" = "$_want" ] || vm_fail "step $up_step: md0 is '$_got' (level raid_disks chunk layout), not '$_want'"
}

# Upstream's "check reshape".
up_reshaping() {
        grep -q reshape /proc/mdstat || {
                cat /proc/mdstat
                vm_fail "step $up_step: $1: /proc/mdstat shows no reshape"
        }
}

# The process the hand-off unit runs now, or nothing.
up_unit_comm() {
        _pid=$(systemctl show -P MainPID "$up_unit")
        [ "${_pid:-0}" -gt 0 ] && cat "/proc/$_pid/comm" 2>/dev/null
}

# up_monitor_runs WHEN: the hand-off unit runs the chosen monitor, and no
# other monitor runs (mdadm forks its own when the hand-off fails).
up_monitor_runs() {
        _n=0
        while [ "$(up_unit_comm)" != "$UP_MONITOR" ]; do
                _n=$((_n + 1))
                [ $_n -lt 50 ] || {
                        systemctl status "$up_unit" --no-pager
                        vm_fail "step $up_step: $1: $up_unit runs '$(up_unit_comm)', not $UP_MONITOR"
                }
                sleep 0.1
        done
        if [ "$UP_MONITOR" = reshaped ]; then
                _pids=$(pidof mdadm) && vm_fail "step $up_step: $1: mdadm runs a monitor of its own ($_pids)"
        fi
        return 0
}

# No monitor process is left and the unit ended well (reshaped's clean
# stop is exit status 3, which its drop-in counts as success).
up_monitor_gone() {
        _n=0
        while pidof reshaped >/dev/null || pidof mdadm >/dev/null ||
                case $(systemctl show -P ActiveState "$up_unit") in inactive|failed) false ;; *) true ;; esac; do
                _n=$((_n + 1))
                [ $_n -lt 100 ] || vm_fail "step $up_step: $1: still running after 10 s: reshaped '$(pidof reshaped)', mdadm '$(pidof mdadm)', $up_unit $(systemctl show -P ActiveState "$up_unit")"
                sleep 0.1
        done
        _result=$(systemctl show -P Result "$up_unit")
        [ "$_result" = success ] || {
                journalctl -b -u "$up_unit" --no-pager -o cat | tail -n 30
                vm_fail "step $up_step: $1: $up_unit ended with Result=$_result"
        }
}

# Nothing of the reshape is left: backup, mdadm's record of it, ours.
up_nothing_left() {
        [ ! -e "$up_backup" ] || vm_fail "step $up_step: the backup $up_backup is left after the reshape"
        [ ! -e /run/mdadm/backup_file-md0 ] && [ ! -L /run/mdadm/backup_file-md0 ] ||
                vm_fail "step $up_step: /run/mdadm/backup_file-md0 is left after the reshape"
        _state=${RESHAPED_STATE_DIR:-/var/lib/reshaped}
        [ -z "$(ls -A "$_state" 2>/dev/null)" ] ||
                vm_fail "step $up_step: $_state holds $(ls -A "$_state" | tr '\n' ' ') after the reshape"
}

# up_stop: `mdadm --stop` mid-reshape, as upstream's restart() does; with
# reshaped supervising, it must succeed within 2 s (reshaped holds the
# array open only while it reads) and reshaped be gone soon after.
up_stop() {
        up_reshaping "before mdadm --stop"
        _t0=$(vm_now)
        _n=0
        until mdadm --stop /dev/md0 >"$VM_OUT/stop.txt" 2>&1; do
                _n=$((_n + 1))
                [ "$(awk -v a="$(vm_now)" -v b="$_t0" 'BEGIN { print (a - b < 2) }')" = 1 ] ||
                        vm_fail "step $up_step: mdadm --stop still fails after 2 s: $(cat "$VM_OUT/stop.txt")"
                sleep 0.1
        done
        up_stop_s=$(vm_since "$_t0")
        up_monitor_gone "after mdadm --stop"
        vm_log "step $up_step: mdadm --stop took $up_stop_s s ($_n retries), the monitor ended"
}

# up_continue HOW DEV...: continues the stopped reshape: "assemble" is
# upstream's `mdadm --assemble --backup-file` (its hand-off starts the
# unit again), "restore" is `reshaped restore --backup-file`, which
# assembles and supervises by itself (reshaped only).
up_continue() {
        _how=$1
        shift
        case $_how in
        assemble)
                vm_run mdadm --assemble /dev/md0 --backup-file="$up_backup" "$@"
                up_reshaping "after mdadm --assemble"
                md_fast md0
                up_monitor_runs "after mdadm --assemble"
                ;;
        restore)
                [ "$UP_MONITOR" = reshaped ] || vm_fail "reshaped restore continues only reshaped's reshapes"
                reshaped restore /dev/md0 --backup-file "$up_backup" "$@" >"$VM_OUT/restore.$up_step.txt" 2>&1 &
                up_restore_pid=$!
                _n=0
                until grep -q 'supervising the reshape from' "$VM_OUT/restore.$up_step.txt"; do
                        kill -0 "$up_restore_pid" 2>/dev/null || break
                        _n=$((_n + 1))
                        [ $_n -lt 600 ] || vm_fail "step $up_step: reshaped restore did not begin to supervise in 60 s"
                        sleep 0.1
                done
                md_fast md0
                ;;
        *) vm_fail "up_continue: '$_how' is neither assemble nor restore" ;;
        esac
}

# up_finish HOW: waits for the reshape to end under whoever continued it
# and for the monitor to leave.
up_finish() {
        md_fast md0
        md_wait_idle md0 300
        if [ "$1" = restore ]; then
                _status=0
                wait "$up_restore_pid" || _status=$?
                tail -n 3 "$VM_OUT/restore.$up_step.txt"
                [ "$_status" = 0 ] || vm_fail "step $up_step: reshaped restore exited $_status: $(tail -n 5 "$VM_OUT/restore.$up_step.txt")"
        fi
        up_monitor_gone "at the end of the reshape"
        up_nothing_left
}

# up_check: upstream's check of parity after each reshape.
up_check() {
        md_fast md0
        md_set md0 sync_action check
        sleep 0.5
        md_wait_idle md0 120
        _mm=$(md_attr md0 mismatch_cnt)
        [ "$_mm" = 0 ] || vm_fail "step $up_step: a check counted mismatch_cnt=$_mm"
}

# up_throttle_begin, up_throttle_end: hold md0's reshape to 1 MB/s in
# between, so that mdadm --stop lands mid-way. mdadm's own monitor raises
# md0's sync_speed_min to 200000 for the whole of a same-size reshape
# (Grow.c, child_monitor), and md does not throttle below its minimum: a
# loop puts the limits back every 50 ms, as an admin's limit would stand.
up_throttle_begin() {
        (
                while :; do
                        echo 1000 >/sys/block/md0/md/sync_speed_min
                        echo 1000 >/sys/block/md0/md/sync_speed_max
                        sleep 0.05
                done
        ) 2>/dev/null &
        up_throttle=$!
}

up_throttle_end() {
        kill "$up_throttle"
        wait "$up_throttle" 2>/dev/null
        return 0
}

# up_reshape WHAT HOW SEED BYTES DEVS GROW-ARGS...: one upstream reshape
# step: `mdadm --grow /dev/md0 GROW-ARGS --backup-file`, the kernel slowed
# so that it is mid-way when `mdadm --stop` comes, continued HOW over DEVS
# (the members, one string), then checked: parity, and the first BYTES
# (the smaller of the sizes before and after) against pattern SEED.
up_reshape() {
        _what=$1 _how=$2 _seed=$3 _bytes=$4 _devs=$5
        shift 5
        up_step=$((up_step + 1))
        vm_log "step $up_step: $_what: mdadm --grow $* ($(md_attr md0 level) on $(md_attr md0 raid_disks), chunk $(md_attr md0 chunk_size), layout $(md_attr md0 layout))"
        up_throttle_begin
        _t0=$(vm_now)
        vm_run mdadm --grow /dev/md0 "$@" --backup-file="$up_backup"
        up_monitor_runs "after mdadm --grow"
        up_reshaping "after mdadm --grow"
        sleep 1
        vm_log "step $up_step: stopping at $(md_snapshot md0)"
        up_stop
        up_throttle_end
        # shellcheck disable=SC2086
        up_continue "$_how" $_devs
        up_finish "$_how"
        _wall=$(vm_since "$_t0")
        up_check
        up_verify "$_seed" "$_bytes"
        echo "mdadm-tests: step $up_step|$_what|$UP_META|$UP_MONITOR|mdadm --stop after 1 s ($up_stop_s s)|$_how|$_wall s|$_bytes bytes verified"
}

# up_pass TEST: the closing line.
up_pass() {
        echo "mdadm-tests: PASS $1|$UP_META|$UP_MONITOR|$up_step steps|$up_bytes bytes verified"
        vm_log "PASS: $1 ($UP_META, $UP_MONITOR): $up_step reshapes stopped and continued, $up_bytes bytes verified, nothing left behind"
}

# 07changelevelintr: "test that we can stop and restart a level change":
# raid5 on 5, chunk 256K -> 128K, layout -> right-symmetric, shrink to 4
# with chunk 64K, shrink to 2 with chunk 256K; each restarted. Upstream's
# devices are 20 MB; here 24 MiB, so the sizes scale: the array cut to
# what 3 and then 1 data disks hold before each shrink.
up_changelevelintr() {
        _kib=$((24 * 1024))
        up_begin
        _devs=$(vm_disks 5)
        # shellcheck disable=SC2086
        up_create 5 5 256 "$_kib" $_devs
        up_geometry raid5 5 $((256 * 1024)) 2
        up_fill 7101
        _all=$((4 * _kib * 1024))
        up_reshape "chunk 256K -> 128K" assemble 7101 "$_all" "$_devs" -c 128
        up_geometry raid5 5 $((128 * 1024)) 2
        up_reshape "layout left-symmetric -> right-symmetric" restore 7101 "$_all" "$_devs" --layout rs
        up_geometry raid5 5 $((128 * 1024)) 3
        vm_run mdadm --grow /dev/md0 --array-size=$((3 * _kib))
        up_reshape "shrink 5 -> 4, chunk 128K -> 64K" assemble 7101 $((3 * _kib * 1024)) "$_devs" --raid-disks 4 -c 64
        up_geometry raid5 4 $((64 * 1024)) 3
        _devs=$(vm_disks 4)
        vm_run mdadm --grow /dev/md0 --array-size="$_kib"
        up_reshape "shrink 4 -> 2, chunk 64K -> 256K" restore 7101 $((_kib * 1024)) "$_devs" -n 2 -c 256
        up_geometry raid5 2 $((256 * 1024)) 3
        up_pass 07changelevelintr
}

# 07reshape5intr: "test interrupting and restarting raid5 reshape": for
# 2..5 disks (chunk 1024K, 1024K, 512K, 256K), raid5 plus a spare, grown
# by the spare, stopped, assembled again, then checked. Upstream
# recreates the array for each size from random data; here each size is a
# fresh array with a fresh pattern.
up_reshape5intr() {
        _kib=$((24 * 1024))
        up_begin
        for _disks in 2 3 4 5; do
                case $_disks in 2|3) _chunk=1024 ;; 4) _chunk=512 ;; 5) _chunk=256 ;; esac
                _devs=$(vm_disks "$_disks")
                # shellcheck disable=SC2086
                up_create 5 "$_disks" "$_chunk" "$_kib" $_devs
                vm_run mdadm /dev/md0 --add "$(vm_disk 5)"
                _bytes=$(vm_size_bytes /dev/md0)
                up_fill $((7200 + _disks))
                _how=assemble
                [ "$UP_MONITOR" = mdadm ] || [ $((_disks % 2)) = 0 ] || _how=restore
                up_reshape "grow $_disks -> $((_disks + 1))" "$_how" $((7200 + _disks)) "$_bytes" \
                        "$_devs $(vm_disk 5)" -n $((_disks + 1))
                up_geometry raid5 $((_disks + 1)) $((_chunk * 1024))
                vm_run mdadm --stop /dev/md0
                # shellcheck disable=SC2046
                vm_run mdadm --zero-superblock $(vm_disks 6)
        done
        up_pass 07reshape5intr
}

# 07changelevels: "Create a RAID1, convert to RAID5, add a disk, add
# another disk, convert to RAID6, back to RAID5 and ultimately to RAID1"
# (its last step, to raid1, it never takes), then a degraded raid6 shrunk.
# Upstream checks the data after each step (dotest) and writes new data;
# here a new pattern after each step. Upstream stops none of these; here
# each reshape is stopped and continued, by turns with mdadm and reshaped.
up_changelevels() {
        _kib=$((24 * 1024))
        _c32=$((32 * 1024))
        up_begin
        # shellcheck disable=SC2046
        up_create 1 2 "" "$_kib" $(vm_disks 2)
        vm_run mdadm /dev/md0 --add "$(vm_disk 2)"
        up_fill 7301
        up_verify 7301 $((_kib * 1024))

        _devs=$(vm_disks 3)
        _how2=restore
        [ "$UP_MONITOR" = reshaped ] || _how2=assemble
        up_reshape "raid1 -> raid5, grow 2 -> 3" assemble 7301 $((_kib * 1024)) "$_devs" -l5 -n3
        up_geometry raid5 3
        up_fill 7302

        vm_run mdadm /dev/md0 --add "$(vm_disk 3)" "$(vm_disk 4)"
        _devs=$(vm_disks 5)
        up_reshape "grow 3 -> 4, chunk -> 32K" "$_how2" 7302 $((2 * _kib * 1024)) "$_devs" -n4 --chunk 32
        up_geometry raid5 4 $_c32
        up_fill 7303

        up_reshape "raid5 -> raid6" assemble 7303 $((3 * _kib * 1024)) "$_devs" -l6
        up_geometry raid6 5 $_c32
        up_fill 7304

        vm_run mdadm --grow /dev/md0 --array-size=$((2 * _kib))
        up_reshape "raid6 shrink 5 -> 4" "$_how2" 7304 $((2 * _kib * 1024)) "$_devs" -n4
        up_geometry raid6 4 $_c32
        up_fill 7305

        up_reshape "raid6 -> raid5" assemble 7305 $((2 * _kib * 1024)) "$_devs" -l5
        up_geometry raid5 3 $_c32
        up_fill 7306

        vm_run mdadm --grow /dev/md0 --array-size="$_kib"
        up_reshape "raid5 shrink 3 -> 2" "$_how2" 7306 $((_kib * 1024)) "$_devs" -n2
        up_geometry raid5 2 $_c32
        vm_run mdadm --stop /dev/md0
        # shellcheck disable=SC2046
        vm_run mdadm --zero-superblock $(vm_disks 5)

        # "now repeat that last few steps only with a degraded array."
        # shellcheck disable=SC2046
        up_create 6 5 512 "$_kib" $(vm_disks 5)
        up_fill 7307
        vm_run mdadm /dev/md0 --fail "$(vm_disk 0)"
        vm_run mdadm --grow /dev/md0 --array-size=$((2 * _kib))
        up_reshape "degraded raid6 shrink 5 -> 4" assemble 7307 $((2 * _kib * 1024)) \
                "$(vm_disk 1) $(vm_disk 2) $(vm_disk 3) $(vm_disk 4)" -n4
        up_geometry raid6 4 $((512 * 1024))
        up_pass 07changelevels
}
