# SPDX-License-Identifier: GPL-2.0-or-later
#
# The lost-cache crash model, sourced by lib.sh. See tests/vm/README.md
# ("Lost disk caches").
#
# Each disk under test sits behind dm-log-writes, which keeps, on a log
# disk of its own, every write in the order it became durable: plain
# writes just before the first flush issued after they completed, FUA
# writes as they complete. The cut freezes the devices (dm suspend: no
# I/O completes on them from then on, as on a disk that lost power) and
# closes each log (a table reload: the old target's destructor waits for
# its log writes, appends the completed but unflushed writes and the mark
# "dm-log-writes-end"); then the power goes as in vm_power_cut. The next
# boot rebuilds each disk from zero and its log up to the last FLUSH/FUA
# entry (vm-logwrites-replay), onto a disk of its own: the state a disk
# whose volatile cache was lost at the cut holds. The disks themselves
# still hold every write they had accepted: today's model, at the same
# instant.
#
# Logging starts on zeroed disks, so the replay needs nothing but the log;
# the log disks are sparse images as large as the data disks, so what a
# scenario writes (fill included) must stay below that.

# lw_wrap NAME DATA LOG: /dev/mapper/NAME, DATA behind dm-log-writes
# logging to LOG. DATA must be all zeroes (a fresh image).
lw_wrap() {
        _sz=$(blockdev --getsz "$2") || vm_fail "cannot size $2"
        vm_run dmsetup create "$1" --noudevsync --table "0 $_sz log-writes $2 $3"
        # No udev in the busybox guest: dmsetup makes the node.
        dmsetup mknodes "$1" >/dev/null 2>&1
        [ -b "/dev/mapper/$1" ] || vm_fail "no /dev/mapper/$1 after dmsetup create"
}

# lw_status NAME: "ENTRIES HIGHEST_SECTOR[ logging_disabled]" of NAME's log.
lw_status() {
        dmsetup status "$1" | cut -d ' ' -f 4-
}

# lw_freeze NAME...: suspends each NAME in turn (waits for its I/O in
# flight; what arrives later is held, never completed).
lw_freeze() {
        for _n in "$@"; do
                dmsetup suspend --nolockfs --noudevsync "$_n" || vm_fail "dmsetup suspend $_n failed"
        done
}

# lw_close NAME...: for frozen devices: fails if a log lost entries (the
# log disk ran full or a log write failed), then replaces each table with
# "error", which destroys the log-writes target and so closes its log;
# the held I/O then fails. Logs each log's final status.
lw_close() {
        for _n in "$@"; do
                _st=$(lw_status "$_n")
                case $_st in
                *logging_disabled*) vm_fail "the log of $_n stopped logging ($_st): its log disk is too small or failed" ;;
                esac
                _sz=$(dmsetup table "$_n" | cut -d ' ' -f 2)
                dmsetup reload "$_n" --noudevsync --table "0 $_sz error" || vm_fail "dmsetup reload $_n failed"
                dmsetup resume "$_n" --noudevsync || vm_fail "dmsetup resume $_n failed"
                echo "[$(vm_now)] log of $_n closed: entries and highest sector before the close: $_st"
        done
}

# lw_cut WHAT NAME...: freezes the NAMEs (in this order; already frozen
# ones are skipped by dm), records WHAT and md0's state in
# $VM_OUT/cut.$VM_BOOT.txt, closes the logs and cuts the power.
lw_cut() {
        _what=$1
        shift
        lw_freeze "$@"
        echo "[$(vm_now)] boot $VM_BOOT: lost-cache cut $_what: $(md_snapshot md0 2>/dev/null)" >"$VM_OUT/cut.$VM_BOOT.txt"
        lw_close "$@" >>"$VM_OUT/cut.$VM_BOOT.txt"
        cat "$VM_OUT/cut.$VM_BOOT.txt"
        cat "$VM_OUT/cut.$VM_BOOT.txt" >/dev/kmsg
        vm_power_cut
}

# lw_replay LOG TARGET: TARGET zeroed, then LOG applied up to its last
# FLUSH/FUA entry (vm-logwrites-replay --zero). Fails on any error, a log
# that was not closed included.
lw_replay() {
        vm_run vm-logwrites-replay --zero "$1" "$2"
}

# --- a crash case under the lost-cache model -----------------------------

# lw_wait_front PERCENT: until md0's reshape front reaches PERCENT (150 s
# at most); from 5% before it on, md runs at LW_SLOW_KIB (default 1000
# KB/s, its lowest), so that a window takes the kernel seconds and an
# instant inside one can be caught.
# (md measures its speed over the last seconds, so it first stands still.)
lw_wait_front() {
        _comp=$(md_attr md0 component_size)
        _want=$((_comp * $1 / 100))
        _slow=$((_comp * ($1 - 5) / 100))
        _n=0
        until set -- "$1" $(md_reshape_front md0) x x x; [ "$2" != x ] && [ "$3" -ge "$_want" ]; do
                if [ "$_slow" != done ] && { [ "$_slow" -le 0 ] || { [ "$2" != x ] && [ "$3" -ge "$_slow" ]; }; }; then
                        md_set md0 sync_speed_min "${LW_SLOW_KIB:-1000}"
                        md_set md0 sync_speed_max "${LW_SLOW_KIB:-1000}"
                        _slow=done
                fi
                _n=$((_n + 1))
                [ $_n -lt 3000 ] || vm_fail "the reshape did not reach $_want KiB in 150 s: $(md_snapshot md0)"
                sleep 0.05
        done
        [ "$_slow" = done ] || { md_set md0 sync_speed_min "${LW_SLOW_KIB:-1000}"; md_set md0 sync_speed_max "${LW_SLOW_KIB:-1000}"; }
}

# lw_wait_raise: until the supervisor raises md0's sync_max (lets the
# kernel into the next window); sets raised_from to the value before. A
# take-over's first limit (sync_max from max to a number) is no raise.
lw_wait_raise() {
        _n=0
        until raised_from=$(md_attr md0 sync_max); [ "$raised_from" != max ]; do
                _n=$((_n + 1))
                [ $_n -lt 3000 ] || vm_fail "sync_max stayed at max for 30 s: $(md_snapshot md0)"
                sleep 0.01
        done
        _n=0
        _creep=${LW_CREEP_KIB:-}
        until _sm=$(md_attr md0 sync_max); [ "$_sm" != "$raised_from" ]; do
                # md measures its speed over the last half minute: after a
                # hold at sync_max it bursts through a short window (a
                # shrink's last) unless its limit is set far below what it
                # ran at while it is held.
                if [ -n "$_creep" ] && [ "$(md_progress md0)" -ge "$raised_from" ]; then
                        md_set md0 sync_speed_min 1
                        md_set md0 sync_speed_max "$_creep"
                        _creep=
                fi
                [ "$(md_attr md0 reshape_position)" != none ] ||
                        vm_fail "the reshape ended before sync_max was raised from $raised_from"
                _n=$((_n + 1))
                [ $_n -lt 3000 ] || vm_fail "sync_max stayed at $raised_from for 30 s: $(md_snapshot md0)"
                sleep 0.01
        done
        [ "$_sm" = max ] && [ "${VM_CRASH_FINAL_MAX:-0}" = 0 ] &&
                vm_fail "sync_max went to max (the last window was released; the instant was missed)"
        return 0
}

# lw_instant INSTANT MEMBER...: waits for INSTANT of the reshape running
# on md0 (backup disk lw-bk, members MEMBER...) and cuts the power there
# under the lost-cache model (lw_cut). INSTANT is one of
#   raise P    past P%, right after reshaped raises sync_max: the backup
#              disk loses power at once; the members run on until the
#              kernel is 256 KiB per member into the window, an
#              application's fsync of /dev/md0 makes their writes durable,
#              then they lose power too. A supervisor that let the kernel
#              in before the window's backup header was flushed loses what
#              the kernel rewrote of it.
#   window P   past P%, after a raise, as soon as the backup disk's log
#              shows the next window's first writes (its data, before its
#              header): the backup disk loses power; the members run on
#              into the raised window as above.
#   P          every disk loses power when the kernel's front is at P%.
# LW_CREEP_KIB: md's speed limit from the moment the kernel is parked
# at the sync_max the raise lifts (raise and window).
lw_instant() {
        _inst=$1
        shift
        case $_inst in
        "raise "*|"window "*)
                lw_wait_front "${_inst#* }"
                lw_wait_raise
                if [ "${_inst%% *}" = window ]; then
                        _e0=$(lw_status lw-bk | cut -d ' ' -f 1)
                        _n=0
                        until _e=$(lw_status lw-bk | cut -d ' ' -f 1); [ "$_e" -ge $((_e0 + 2)) ]; do
                                _n=$((_n + 1))
                                [ $_n -lt 1000 ] || vm_fail "no backup write reached the backup disk in 10 s after the raise"
                                sleep 0.01
                        done
                fi
                lw_freeze lw-bk
                _at=$(md_snapshot md0)
                vm_log "backup disk frozen ($(lw_status lw-bk)) after sync_max rose from $raised_from: $_at"
                _n=0
                until _front=$(md_reshape_front md0 | cut -d ' ' -f 2); [ -n "$_front" ] &&
                        [ "$_front" -gt $((raised_from / 2 + 256)) ]; do
                        _n=$((_n + 1))
                        [ $_n -lt 1000 ] || break
                        sleep 0.01
                done
                vm_log "front at ${_front:-?} KiB per member (the window began at $((raised_from / 2))); fsync of /dev/md0"
                vm_run sync /dev/md0
                lw_cut "($_inst), backup disk frozen at: $_at" "$@" lw-bk
                ;;
        *)
                lw_wait_front "$_inst"
                lw_cut "at $_inst%" lw-bk "$@"
                ;;
        esac
}

# lw_recover MODEL MOUNT BACKUP_DEV SEED MEMBER...: mounts BACKUP_DEV,
# runs `reshaped restore` of /dev/md0 from the MEMBERs with the backup and
# record on it, waits for the end and checks the shape (VM_CRASH_EXPECT),
# the size and every byte (vm_matrix_verify: a row of the crash matrix
# under MODEL). Result lines "MODEL: ..." go to $VM_OUT/result.MODEL.txt;
# sets ok_MODEL=1 when everything passed. When restore refuses, it counts
# the loss: mdadm --assemble --invalid-backup, the reshape to its end, the
# compare (its row says so).
lw_recover() {
        _model=$1 _mnt=$2 _bdev=$3 _seed=$4
        shift 4
        _res=$VM_OUT/result.$_model.txt
        _size=$(sed -n 's/^size_bytes=//p' "$VM_OUT/array.txt")
        : >"$_res"
        vm_log "--- recovery under the $_model model"
        mkdir -p "$_mnt"
        vm_run mount -t ext4 "$_bdev" "$_mnt"
        export RESHAPED_STATE_DIR=$_mnt/state
        vm_log "on disk: reshape position $(mdadm --examine "$1" | sed -n "s/^ *Reshape pos'n : //p")"
        reshaped inspect "$_mnt/md0.backup"
        echo "$_model: reshaped inspect: exit status $?" | tee -a "$_res"
        rm -f "$VM_OUT/restore.$VM_BOOT.status"
        vm_restore_bg --max-window 8M /dev/md0 --backup-file "$_mnt/md0.backup" "$@"
        vm_wait_restore_end 300
        mv "$VM_OUT/restore.$VM_BOOT.log" "$VM_OUT/restore.$_model.log"
        mv "$VM_OUT/restore.$VM_BOOT.status" "$VM_OUT/restore.$_model.status"
        echo "$_model: reshaped restore: $restore_status" | tee -a "$_res"
        case $_model in
        lost_cache) _row="$lw_matrix|lost caches|$lw_instant_name|reshaped" ;;
        *) _row="$lw_matrix|qemu killed|$lw_instant_name|reshaped" ;;
        esac
        if [ -e /sys/block/md0/md ]; then
                md_wait_idle md0 120
                _ok=1
                for _kv in ${VM_CRASH_EXPECT:-chunk_size=131072}; do
                        _v=$(md_attr md0 "${_kv%%=*}")
                        echo "$_model: ${_kv%%=*}=$_v" | tee -a "$_res"
                        [ "$_v" = "${_kv#*=}" ] || _ok=0
                done
                _now=$(vm_size_bytes /dev/md0)
                echo "$_model: size $_size -> $_now bytes" | tee -a "$_res"
                if [ "${VM_CRASH_GROWS:-0}" = 1 ]; then [ "$_now" -gt "$_size" ] || _ok=0
                else [ "$_now" = "$_size" ] || _ok=0
                fi
                VM_MATRIX="$_row|reshaped restore" VM_MATRIX_LOSS_OK=1 vm_matrix_verify "$_seed" --length "$_size" \
                        >"$VM_OUT/verify.$_model.txt" 2>&1
                cat "$VM_OUT/verify.$_model.txt"
                sed "s/^/$_model: /" "$VM_OUT/verify.$_model.txt" | grep 'verify:' >>"$_res"
                vm_run mdadm --stop /dev/md0
                [ "$restore_status" = "exit status 0" ] && [ $_ok = 1 ] &&
                        grep -q "^$_model: verify: .* ok bytes=$_size " "$_res" && eval "ok_$_model=1"
        else
                echo "$_model: no array after restore; counting the loss with mdadm --assemble --invalid-backup" |
                        tee -a "$_res"
                MDADM_NO_SYSTEMCTL=1 MDADM_GROW_ALLOW_OLD=1 mdadm --assemble /dev/md0 --invalid-backup \
                        --backup-file="$_mnt/md0.backup" "$@" 2>&1
                mdadm --readwrite /dev/md0 2>/dev/null
                md_fast md0
                if ( md_wait_idle md0 120 ); then
                        VM_MATRIX="$_row|restore refused; mdadm --invalid-backup" VM_MATRIX_LOSS_OK=1 \
                                vm_matrix_verify "$_seed" --length "$_size" 2>&1 | sed "s/^/$_model: (invalid backup) /" |
                                tee -a "$_res"
                fi
                mdadm --stop /dev/md0
        fi
        vm_run umount "$_mnt"
}

# vm_crash_lost_cache DISKS "CREATE ARGS" SEED "INSTANT": a crash case
# (as vm_crash_start's: VM_CRASH_CHANGE, VM_CRASH_GROW, VM_CRASH_EXPECT,
# VM_CRASH_SPARES, VM_CRASH_GROWS, VM_CRASH_DEGRADED) with one power cut
# under the lost-cache model at INSTANT (lw_instant), recovered twice.
# With M = DISKS + VM_CRASH_SPARES members, the disks are: the members
# 0..M-1 and the backup disk M (ext4: backup and reshaped's record), each
# behind dm-log-writes; their logs M+1..2M+1; replays 2M+2..3M+2 (the
# header asks for 3 (M + 1) disks). Boot 1 makes and fills the array,
# starts the reshape (vm_crash_begin) and cuts at INSTANT. Boot 2 rebuilds
# every disk from its log up to its last flush and recovers that array
# with `reshaped restore`; then it recovers the original disks, which
# hold every write they had accepted (today's model, same instant). Both
# must come back whole: one crash matrix row each.
vm_crash_lost_cache() {
        _m=$(($1 + ${VM_CRASH_SPARES:-0}))
        _level=$(echo "$2" | sed -n 's/.*--level=\([0-9]*\).*/raid\1/p')
        _meta=$(echo "$2" | sed -n 's/.*--metadata=\([0-9.]*\).*/\1/p')
        _names=
        _i=0
        while [ $_i -lt $_m ]; do
                _names="${_names:+$_names }lw-m$_i"
                _i=$((_i + 1))
        done
        if [ -n "${VM_CRASH_GROW:-}" ]; then _how="mdadm --grow $VM_CRASH_GROW, taken over"
        else _how="start ${VM_CRASH_CHANGE:---chunk 128K}"
        fi
        lw_matrix="$_level on $1$([ "${VM_CRASH_DEGRADED:-0}" = 1 ] && echo " (degraded)"), $_how|${_meta:-1.2}"
        case $4 in
        "raise "*) lw_instant_name="right after a sync_max raise past ${4#* }%" ;;
        "window "*) lw_instant_name="backup of the next window under way (its data, not its header) past ${4#* }%" ;;
        *) lw_instant_name="$4%" ;;
        esac
        md_fast
        case $VM_BOOT in
        1)
                _i=0
                for _n in $_names; do
                        lw_wrap "$_n" "$(vm_disk $_i)" "$(vm_disk $((_m + 1 + _i)))"
                        _i=$((_i + 1))
                done
                lw_wrap lw-bk "$(vm_disk $_m)" "$(vm_disk $((2 * _m + 1)))"
                vm_run /usr/sbin/mke2fs -q -F -t ext4 /dev/mapper/lw-bk
                mkdir -p /mnt/bk
                vm_run mount -t ext4 /dev/mapper/lw-bk /mnt/bk
                export RESHAPED_STATE_DIR=/mnt/bk/state
                VM_CRASH_DEVS=$(for _n in $_names; do printf '/dev/mapper/%s ' "$_n"; done)
                vm_crash_array "$1" "$2" "$3"
                vm_crash_degrade "$1"
                vm_log "logs after the fill: $(for _n in $_names lw-bk; do printf '%s: %s; ' "$_n" "$(lw_status "$_n")"; done)"
                vm_crash_begin /mnt/bk/md0.backup
                # shellcheck disable=SC2086
                lw_instant "$4" $_names
                ;;
        2)
                cat "$VM_OUT/cut.1.txt"
                echo "--- the daemon's last lines before the cut:"
                tail -n 8 "$VM_OUT/start.log" "$VM_OUT/supervise.1.log" 2>/dev/null
                echo "---"
                _i=0
                while [ $_i -le $_m ]; do
                        lw_replay "$(vm_disk $((_m + 1 + _i)))" "$(vm_disk $((2 * _m + 2 + _i)))"
                        _i=$((_i + 1))
                done
                # The members restore is given: all but a degraded one.
                _keep=$((_m - ${VM_CRASH_DEGRADED:-0}))
                _lc= _wb=
                _i=0
                while [ $_i -lt $_m ]; do
                        if [ "${VM_CRASH_DEGRADED:-0}" != 1 ] || [ $_i != $(($1 - 1)) ]; then
                                _lc="$_lc $(vm_disk $((2 * _m + 2 + _i)))"
                                _wb="$_wb $(vm_disk $_i)"
                        fi
                        _i=$((_i + 1))
                done
                vm_log "recovering with $_keep member(s)"
                ok_lost_cache=0 ok_writeback=0
                # shellcheck disable=SC2086
                lw_recover lost_cache /mnt/lc "$(vm_disk $((3 * _m + 2)))" "$3" $_lc
                # shellcheck disable=SC2086
                lw_recover writeback /mnt/wb "$(vm_disk $_m)" "$3" $_wb
                cat "$VM_OUT/result.lost_cache.txt" "$VM_OUT/result.writeback.txt"
                [ $ok_lost_cache = 1 ] || vm_fail "under the lost-cache model the array did not come back whole"
                [ $ok_writeback = 1 ] || vm_fail "with every accepted write kept the array did not come back whole"
                vm_log "PASS: lost-cache and writeback models at the same cut ($4): restore exits 0, the new shape, every byte verified"
                ;;
        esac
}
