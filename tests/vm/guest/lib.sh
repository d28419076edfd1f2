# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers for scenario scripts, sourced in the guest with  . "$VM_LIB"
# POSIX sh: scenarios run under busybox ash (busybox mode) or dash (systemd
# mode). See tests/vm/README.md.

# Seconds since boot, two decimals.
vm_now() {
        cut -d ' ' -f 1 /proc/uptime
}

# vm_since T0: seconds since T0 (a vm_now reading), to a tenth.
vm_since() {
        awk -v a="$(vm_now)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'
}

vm_log() {
        echo "[$(vm_now)] $*"
}

vm_fail() {
        echo "[$(vm_now)] FAIL: $*"
        exit 1
}

# Runs a command, echoing it; fails the scenario when it fails.
vm_run() {
        echo "[$(vm_now)] + $*"
        "$@" || vm_fail "exit status $?: $*"
}

# The Nth (0-based) data disk.
vm_disk() {
        d=$(echo $VM_DISKS | cut -d ' ' -f "$(($1 + 1))")
        [ -n "$d" ] || vm_fail "no disk $1: the header asked for $VM_DISK_COUNT"
        echo "$d"
}

# The first N data disks, space-separated.
vm_disks() {
        vm_first "$1" $VM_DISKS
}

# vm_first N WORD...: the first N WORDs; fails when there are fewer.
vm_first() {
        _n=$1
        shift
        [ $# -ge "$_n" ] || vm_fail "only $# devices, $_n wanted"
        _out=
        while [ "$_n" -gt 0 ]; do
                _out="${_out:+$_out }$1"
                shift
                _n=$((_n - 1))
        done
        echo "$_out"
}

# Cuts the power now: the kernel reboots without syncing (sysrq b), the
# runner sees the qemu exit and boots the same disks again with VM_BOOT+1.
# What qemu already wrote to the disk images survives, nothing else. The
# marker file tells the runner this was on purpose; the kernel log line
# (printed synchronously, unlike our buffered stdout) shows it on the
# console.
vm_power_cut() {
        : >"$VM_OUT/power-cut.$VM_BOOT"
        echo "@@vm: power-cut@@" >/dev/kmsg
        echo b >/proc/sysrq-trigger
        sleep 60
        vm_fail "still running after the power cut"
}

# systemd mode: waits until boot has finished; fails unless it is "running".
vm_wait_booted() {
        state=$(systemctl is-system-running --wait 2>&1)
        [ "$state" = running ] && return 0
        systemctl --failed --no-pager 2>&1
        vm_fail "system is '$state' after boot, not 'running'"
}

md_attr() {
        cat "/sys/block/$1/md/$2"
}

# md_progress MD: the kernel's sync_completed in per-member sectors, 0 before
# the reshape has begun ("none" or "delayed").
md_progress() {
        _p=$(md_attr "$1" sync_completed | cut -d ' ' -f 1)
        case $_p in none|delayed) _p=0 ;; esac
        echo "$_p"
}

md_set() {
        echo "$3" >"/sys/block/$1/md/$2" || vm_fail "cannot write '$3' to /sys/block/$1/md/$2"
}

# Lets resync/reshape run at full speed (md throttles it to
# speed_limit_min when it sees other I/O, which under emulation is always).
md_fast() {
        echo 2000000 >/proc/sys/dev/raid/speed_limit_max
        echo 1000000 >/proc/sys/dev/raid/speed_limit_min
        if [ -n "${1:-}" ]; then
                md_set "$1" sync_speed_max 2000000
                md_set "$1" sync_speed_min 1000000
        fi
}

# Waits until the array runs no resync/recovery/reshape: sync_action idle
# and reshape_position none. Fails after $2 seconds (default 600).
md_wait_idle() {
        limit=${2:-600}
        start=$(vm_now)
        while :; do
                action=$(md_attr "$1" sync_action)
                position=$(md_attr "$1" reshape_position)
                [ "$action" = idle ] && [ "$position" = none ] && return 0
                if [ "$(awk -v a="$(vm_now)" -v b="$start" -v l="$limit" 'BEGIN { print (a - b > l) }')" = 1 ]; then
                        cat /proc/mdstat
                        vm_fail "$1 still busy after ${limit}s (sync_action=$action reshape_position=$position)"
                fi
                sleep 0.2
        done
}

# Size of a block device in bytes.
vm_size_bytes() {
        blockdev --getsize64 "$1"
}

# vm_load_raid10 KO KIND: loads raid10 from KO in place of whatever is
# loaded; KIND "stock" must be Debian's in-tree module, "patched" the
# out-of-tree build of kernel/patches (taint O).
vm_load_raid10() {
        if [ -d /sys/module/raid10 ]; then
                vm_run rmmod raid10
        fi
        vm_run insmod "$1"
        _taint=$(cat /sys/module/raid10/taint)
        case "$2:$_taint" in
        stock:*O*) vm_fail "raid10 from $1 is out of tree (taint '$_taint')" ;;
        patched:*O*) ;;
        patched:*) vm_fail "raid10 from $1 is not the out-of-tree build (taint '$_taint')" ;;
        esac
        vm_log "raid10 loaded from $1 (taint '$_taint')"
}

# vm_raid10_verified MD FIRST SEED: waits for MD's raid10 reshape (chunk
# 64K -> 128K, data moved to a 1 MiB offset) to end, checks both on member
# FIRST, verifies pattern SEED, then stops MD and wipes the members.
vm_raid10_verified() {
        md_wait_idle "$1" 300
        _chunk=$(md_attr "$1" chunk_size)
        [ "$_chunk" = 131072 ] || vm_fail "chunk_size is '$_chunk' after the reshape, not 131072"
        _offset=$(md_attr "$1" "dev-${2#/dev/}/offset")
        [ "$_offset" = 2048 ] || vm_fail "data offset of $2 is '$_offset' after the reshape, not 2048"
        vm_timed vm-pattern verify "/dev/$1" "$3"
        vm_run mdadm --stop "/dev/$1"
        vm_run mdadm --zero-superblock $VM_DISKS
}

# vm_array_filled LEVEL DISKS CHUNK_KIB SEED [DATA_DISKS]: creates /dev/md0,
# raid LEVEL with 0.90 metadata (so mdadm needs a backup file for every
# reshape) on the first DISKS disks, 255 MiB of each, chunk CHUNK_KIB, at
# full speed; with DATA_DISKS, reduces the array to what that many data
# disks hold, as before a shrink; fills it with pattern SEED and syncs.
# Sets $size (the array's bytes).
vm_array_filled() {
        md_fast
        vm_run mdadm --create /dev/md0 --run --quiet --level="$1" --raid-devices="$2" --chunk="$3" \
                --metadata=0.90 --size=$((255 * 1024)) --assume-clean $(vm_disks "$2")
        md_fast md0
        if [ -n "${5:-}" ]; then
                vm_run mdadm --grow /dev/md0 --array-size=$(($5 * 255 * 1024))
                [ "$(vm_size_bytes /dev/md0)" = $(($5 * 255 * 1024 * 1024)) ] ||
                        vm_fail "array size $(vm_size_bytes /dev/md0) after --array-size, not $(($5 * 255 * 1024 * 1024))"
        fi
        size=$(vm_size_bytes /dev/md0)
        vm_timed vm-pattern fill /dev/md0 "$4"
        sync
}

# Prints how long the command took and fails the scenario when it fails.
vm_timed() {
        t0=$(vm_now)
        echo "[$t0] + $*"
        "$@" || vm_fail "exit status $?: $*"
        vm_log "took $(vm_since "$t0")s: $1"
}

# vm_probe_risk MD CSV PROBE_TXT ARRAY_BYTES [AFTER_ROW]
#
# Re-reads a vm-probe CSV and measures, per sample, the old data the kernel
# may have overwritten beyond its checkpoint that no backup section held,
# counting only what the kernel's own rule (raid5.c reshape_request: a
# checkpoint before overwriting old data when readpos is past writepos)
# does not protect: the whole array for same-size reshapes, the first
# (grow) or last (shrink) few units otherwise. The front is the larger of
# the sync_max bound and the observed progress (after a take-over the
# kernel resumes from its in-memory front, beyond sync_max). Geometry comes
# from the probe's summary and /sys/block/MD/md/component_size; ARRAY_BYTES
# is the array size whose old contents matter (before a grow, the reduced
# size before a shrink).
#
# Without AFTER_ROW: passes when no sample has any such lag.
# With AFTER_ROW (the number of CSV lines when the supervisor was started,
# 0 if unknown): the take-over is the first sample after it at which
# sync_max turns from "max" into a number; with @ROW, the first sample
# after ROW, a line counted once the take-over had happened (the
# numbers of a take-over that backs up nothing may come and go between
# two samples). From there on, lag is allowed
# only before the supervisor's first backup section appears and while the
# kernel is held at its checkpoint (what it rewrote before the take-over,
# the exposure); any other lag fails. Prints a "risk:" line with the
# figures.
vm_probe_risk() {
        summary=$(grep '^probe: end=' "$3") || { echo "risk: no probe summary in $3"; return 1; }
        nd=$(echo "$summary" | sed -n 's/.* data_disks=\([0-9]*\) (was \([0-9]*\)).*/\1/p')
        od=$(echo "$summary" | sed -n 's/.* data_disks=\([0-9]*\) (was \([0-9]*\)).*/\2/p')
        unit=$(echo "$summary" | sed -n 's/.* unit=\([0-9]*\) sectors.*/\1/p')
        dir=$(echo "$summary" | sed -n 's/.* direction=\([a-z]*\).*/\1/p')
        comp=$(md_attr "$1" component_size)
        [ -n "$nd" ] && [ -n "$od" ] && [ -n "$unit" ] && [ -n "$dir" ] ||
                { echo "risk: cannot read the geometry from: $summary"; return 1; }
        awk -F, -v nd="$nd" -v od="$od" -v u="$unit" -v back="$([ "$dir" = backwards ] && echo 1 || echo 0)" \
                -v end="$(( comp * 2 / unit * unit ))" -v arr="$(( $4 / 512 ))" \
                -v after="$(echo "${5:-}" | tr -d @)" -v after_done="$(case ${5:-} in @*) echo 1 ;; *) echo 0 ;; esac)" \
                -v completed="$(echo "$summary" | grep -c ' end=completed ')" \
                -v logged="$([ -n "${VM_RISK_LOG:-}" ] && sed -n 's/.* backed up array sectors \([0-9]*-[0-9]*\) into slot .*/\1/p' "$VM_RISK_LOG" | tr '\n' ' ')" \
                -v with_log="$([ -n "${VM_RISK_LOG:-}" ] && echo 1 || echo 0)" '
        function min(a, b) { return a < b ? a : b }
        function max(a, b) { return a > b ? a : b }
        function overlap(lo, hi, s, l) { return max(0, min(hi, s + l) - max(lo, s + 0)) }
        function num(s) { return s ~ /^[0-9]+$/ }
        BEGIN {
                # Forwards: units starting below Z are critical (the kernel
                # does not checkpoint before overwriting their old data).
                # Backwards: units ending at or below MZ are.
                Z = end
                if (nd > od) Z = min(end, (int(2 * u * od / (nd - od) / u) + 1) * u)
                MZ = 0
                if (od > nd) MZ = int(2 * u * od / (od - nd) / u) * u
                takeover = 0; backup_row = 0; front_seen = 0; lag_before = 0; lag_after = 0
                exposure = 0; prev_max = 0
                # The array sectors whose old rows the critical units
                # overwrite: the first rows of a grow, the last of a
                # shrink (new rows below MZ hold array sectors below
                # MZ * nd). A reshape that ends between two samples
                # shows no lag there, so with the log of the supervisor
                # (VM_RISK_LOG) every piece of this range must have been
                # in a backup section: one a sample saw, or one the log
                # says was backed up (a small last window can live
                # between two samples).
                crit = 0
                if (nd > od) crit = min(Z * od, arr)
                if (od > nd) crit = min(MZ * nd, arr)
                pieces = int((crit + u - 1) / u)
                n = split(logged, rl, " ")
                for (i = 1; i <= n; i++) {
                        split(rl[i], ab, "-")
                        cover(ab[1] + 0, ab[2] - ab[1])
                }
        }
        function cover(s, l,    k, a, b) {
                for (k = 0; k < pieces; k++) {
                        a = k * u; b = min(a + u, crit)
                        if (s <= a && s + l >= b) covered[k] = 1
                }
        }
        NR == 1 { next }
        {
                row = NR - 1
                if (!num($6)) next
                # +0 everywhere: busybox awk compares field strings as strings.
                C = $6 + 0
                split($3, sc, " ")
                # While frozen, mdstat shows the end of the range, not a position.
                prog = max((num(sc[1]) ? sc[1] : 0) + 0, ($2 == "reshape" ? $4 : 0) + 0)
                F = prog
                bound = -1
                if (num($5)) { bound = int(($5 + u - 1) / u) * u; F = max(F, bound + 0) }
                F = min(F, end)
                if (!back) {
                        cp = int(C / nd)
                        lo = max(cp * od, C); hi = min(F, Z) * od
                } else {
                        cp = end - int(C / nd)
                        lo = (end - F) * od; hi = (end - F < MZ) ? min(MZ * od, C) : lo
                }
                hi = min(hi, arr)
                lag = 0
                # A frozen kernel rewrites nothing (the take-over stores
                # its new sync_max before the restart and the backup).
                if ($2 != "frozen" && hi > lo) {
                        lag = hi - lo - overlap(lo, hi, $10, $11) - overlap(lo, hi, $12, $13)
                        # Two sections never overlap each other; clamp anyway.
                        lag = max(lag, 0)
                }
                if (num($11) && $11 > 0) cover($10 + 0, $11 + 0)
                if (num($13) && $13 > 0) cover($12 + 0, $13 + 0)
                if (after == "") { lag_after = max(lag_after, lag); next }
                if (!takeover && row > after && (after_done || (num($5) && prev_max))) {
                        takeover = row; t_takeover = $1; hdr = $10 "," $11 "," $12 "," $13
                }
                prev_max = ($5 == "max")
                if (!takeover) { lag_before = max(lag_before, lag); next }
                # A take-over at checkpoint 0 restarts the kernel one unit
                # on; the first report of md_do_sync, 0, says nothing of where it
                # is (a kernel that had begun skips to its front and reports
                # that next): such samples are no front yet.
                if (!front_seen && $2 == "reshape" && sc[1] == "0" && C == 0) next
                if (!front_seen && $2 == "reshape") { front_seen = 1; front_takeover = prog }
                if (!backup_row && ($11 > 0 || $13 > 0) && $10 "," $11 "," $12 "," $13 != hdr) {
                        backup_row = row; t_backup = $1
                }
                # What the kernel rewrote before the take-over stays exposed
                # until the first backup, while the kernel is held at its
                # checkpoint or below its own front (sync_max under where it
                # stands: it rewrites nothing new; the checkpoint may still
                # read 0 until md writes the front out after the resume);
                # any other lag counts against the supervisor.
                if (lag > 0 && !backup_row && bound >= 0 && (bound <= cp || bound <= prog)) exposure = max(exposure, lag)
                else lag_after = max(lag_after, lag)
        }
        END {
                if (after == "") {
                        printf "risk: lag_max=%.0f bytes (critical units: %s)\n", lag_after * 512,
                               nd == od ? "all" : back ? "offsets below " MZ : "offsets below " Z
                        missed = 0
                        for (k = 0; k < pieces; k++) if (!covered[k]) missed++
                        if (with_log && completed && missed) {
                                printf "risk: FAIL %d of the %d units of array sectors 0-%d (the old rows the critical units overwrite) were never in a backup section\n", missed, pieces, crit
                                exit 1
                        }
                        if (pieces) printf "risk: array sectors 0-%d (the old rows of the critical units) were backed up\n", crit
                        exit lag_after > 0
                }
                if (!takeover) { print "risk: FAIL no take-over seen (sync_max never went from max to a number)"; exit 1 }
                if (!backup_row) t_backup = "none"
                printf "risk: takeover_t=%ss front=%.1f%% lag_before=%.0f bytes exposure=%.0f bytes first_backup_t=%s lag_after=%.0f bytes\n",
                       t_takeover, 100 * front_takeover / end, lag_before * 512, exposure * 512,
                       t_backup, lag_after * 512
                exit lag_after > 0
        }' "$2"
}

# Prints the kernel stack of every thread of every process named $1 (where
# a hung program waits in the kernel).
vm_stacks() {
        for pid in $(pidof "$1"); do
                for task in /proc/"$pid"/task/*; do
                        echo "--- $1 pid $pid thread ${task##*/} ($(cat "$task"/wchan 2>/dev/null)):"
                        cat "$task"/stack 2>/dev/null
                done
        done
}

# --- power cuts at a chosen point of a reshape -------------------------

# "PERCENT DONE TOTAL" of MD's running reshape from /proc/mdstat (the
# kernel's live front, KiB per member), or nothing.
md_reshape_front() {
        sed -n "/^$1 :/,/^\$/s/.*reshape = *\([0-9.]*\)% (\([0-9]*\)\/\([0-9]*\)).*/\1 \2 \3/p" /proc/mdstat
}

# MD's reshape state on one line.
md_snapshot() {
        s="front=$(md_reshape_front "$1" | tr ' ' /)"
        for a in array_state sync_action sync_max sync_completed reshape_position suspend_lo suspend_hi; do
                s="$s $a=$(md_attr "$1" $a | tr ' ' _)"
        done
        echo "$s"
}

# vm_power_cut_at MD PERCENT: waits (up to 300 s) until MD's reshape front
# reaches PERCENT, writes what it saw to $VM_OUT/cut.$VM_BOOT.txt (straight
# to the host: the console pipe may lose its last lines) and cuts the
# power. Fails when the reshape ends first. PERCENT may have decimals.
# With VM_CUT_SPEED_KIB set, the kernel is slowed to that many KiB/s from
# 3% before the point on, so that a cut can land inside a few units (a
# grow's first, a shrink's last). PERCENT "raise:P" instead cuts as soon
# as the supervisor has raised sync_max past P%, while the kernel rewrites
# the new window beyond its checkpoint (md's throttle lets it burst through
# a window in well under a second): what it tore there only the backup
# holds.
vm_power_cut_at() {
        case $2 in
        ended)
                vm_cut_after_end "$1"
                return ;;
        readahead:*)
                vm_cut_in_read_ahead "$1" "${2#readahead:}"
                return ;;
        raise:*)
                lw_wait_front "${2#raise:}"
                lw_wait_raise
                # With md held to a crawl (LW_CREEP_KIB), a moment for it
                # to step into the window.
                sleep "${VM_CUT_RAISE_DELAY:-0}"
                vm_cut_now "cut right after sync_max was raised from $raised_from past ${2#raise:}%: sync_max=$(md_attr "$1" sync_max) sync_completed=$(md_attr "$1" sync_completed | tr ' ' _)"
                return ;;
        esac
        vm_wait_front "$1" "$2"
        vm_cut_now "cut at $2%: $(md_snapshot "$1")"
}

# vm_cut_after_end MD: the cut after the reshape ended and before its
# supervisor cleaned up (backup, record): from 97% on the supervisor is
# stopped (SIGSTOP) and the kernel let on to the end; once no member's
# superblock records a reshape, the power goes. What the next boot finds
# is what a cut between the kernel's last superblock write and the
# supervisor's clean-up leaves.
vm_cut_after_end() {
        vm_wait_front "$1" 97
        _sup=$(pidof reshaped) || vm_fail "no reshaped runs to stop before the end"
        # shellcheck disable=SC2086
        kill -STOP $_sup
        md_set "$1" sync_max max
        _n=0
        while mdadm --examine "$(vm_disk 0)" | grep -q "Reshape pos'n"; do
                _n=$((_n + 1))
                [ $_n -lt 600 ] || vm_fail "the reshape of $1 did not end within 60 s: $(md_snapshot "$1")"
                sleep 0.1
        done
        vm_cut_now "cut after the reshape ended, its supervisor (pid $_sup) stopped before its clean-up: reshape_position=$(md_attr "$1" reshape_position), record: $(ls "${RESHAPED_STATE_DIR:-/var/lib/reshaped}" | tr '\n' ' ')"
}

# vm_cut_in_read_ahead MD PERCENT: past PERCENT, the cut as soon as the
# supervisor logs a read-ahead (its reader thread is then reading the
# next window from the members while the loop writes the one before into
# the backup). The supervisor's log: crash_log (boot 1), else this boot's
# restore log.
vm_cut_in_read_ahead() {
        _log=$VM_OUT/restore.$VM_BOOT.log
        [ "$VM_BOOT" = 1 ] && _log=${crash_log:-$VM_OUT/start.log}
        vm_wait_front "$1" "$2"
        _seen=$(grep -c ': read-ahead slot=' "$_log")
        _n=0
        until [ "$(grep -c ': read-ahead slot=' "$_log")" -gt "$_seen" ]; do
                _n=$((_n + 1))
                [ $_n -lt 3000 ] || vm_fail "no read-ahead in 30 s past $2%: $(md_snapshot "$1")"
                sleep 0.01
        done
        vm_cut_now "cut with a read-ahead in flight past $2% ($(grep ': read-ahead slot=' "$_log" | tail -n 1 | cut -c1-100)); last line: $(tail -n 1 "$_log" | cut -c1-100); $(md_snapshot "$1")"
}

# vm_wait_front MD PERCENT: waits (up to 300 s) until MD's reshape front
# reaches PERCENT (VM_CUT_SPEED_KIB: see vm_power_cut_at); fails when the
# reshape ends first.
vm_wait_front() {
        _comp=$(md_attr "$1" component_size)
        want=$(awk -v c="$_comp" -v p="$2" 'BEGIN { printf "%d", c * p / 100 }')
        _slow=$((want - _comp * 3 / 100))
        n=0
        seen=no
        while :; do
                set -- "$1" "$2" $(md_reshape_front "$1") x x x
                if [ -n "${VM_CUT_SPEED_KIB:-}" ] && [ "$_slow" != done ] &&
                        { [ "$_slow" -le 0 ] || { [ "$3" != x ] && [ "$4" -ge "$_slow" ]; }; }; then
                        md_set "$1" sync_speed_min 1
                        md_set "$1" sync_speed_max "$VM_CUT_SPEED_KIB"
                        _slow=done
                fi
                [ "$3" != x ] && [ "$4" -ge "$want" ] && break
                if [ "$(md_attr "$1" reshape_position)" != none ]; then
                        seen=yes
                elif [ $seen = yes ]; then
                        vm_fail "the reshape of $1 ended before $2%"
                fi
                n=$((n + 1))
                [ $n -lt 6000 ] || vm_fail "the reshape of $1 did not reach $2% in 300 s: $(md_snapshot "$1")"
                sleep 0.05
        done
}

# vm_cut_now WHAT: records what the cut hit in $VM_OUT/cut.$VM_BOOT.txt
# (straight to the host, and to the kernel log) and cuts the power.
vm_cut_now() {
        echo "[$(vm_now)] boot $VM_BOOT: $1" >"$VM_OUT/cut.$VM_BOOT.txt"
        cat "$VM_OUT/cut.$VM_BOOT.txt" >/dev/kmsg
        vm_power_cut
}

# vm_systemctl_runs_reshaped [OPTION...]: for the busybox guest, which has
# no systemd. mdadm (--grow, or --assemble of a reshaping array) hands the
# reshape on with `systemctl restart mdadm-grow-continue@mdX.service`;
# this installs a systemctl that does what that unit does with reshaped's
# drop-in: runs `reshaped OPTION... supervise /dev/mdX` in the background,
# its output (with seconds since boot) in $VM_OUT/supervise.$VM_BOOT.log
# and "exit status N" in $VM_OUT/supervise.$VM_BOOT.status. Any other
# request fails, as with no unit of that name.
vm_systemctl_runs_reshaped() {
        cat >/usr/bin/systemctl <<EOF
#!/bin/sh
echo "[\$(cut -d ' ' -f 1 /proc/uptime)] systemctl \$*" >>"\$VM_OUT/systemctl.\$VM_BOOT.log"
case "\$1 \$2" in
"restart mdadm-grow-continue@"*".service")
        dev=\${2#mdadm-grow-continue@}
        dev=/dev/\${dev%.service}
        { /opt/vm/bin/reshaped $* supervise "\$dev" 2>&1
          echo "exit status \$?" >"\$VM_OUT/supervise.\$VM_BOOT.status"; } </dev/null |
                while IFS= read -r line; do
                        echo "[\$(cut -d ' ' -f 1 /proc/uptime)] \$line"
                done >"\$VM_OUT/supervise.\$VM_BOOT.log" 2>&1 &
        exit 0 ;;
esac
exit 1
EOF
        chmod 0755 /usr/bin/systemctl
}

# vm_wait_supervise_log PATTERN SECONDS: waits for a line matching PATTERN
# in the log of vm_systemctl_runs_reshaped's supervise; fails after SECONDS.
vm_wait_supervise_log() {
        n=0
        until grep -q "$1" "$VM_OUT/supervise.$VM_BOOT.log" 2>/dev/null; do
                n=$((n + 1))
                if [ $n -ge $(($2 * 20)) ]; then
                        cat "$VM_OUT/supervise.$VM_BOOT.log" "$VM_OUT/systemctl.$VM_BOOT.log" 2>/dev/null
                        vm_fail "reshaped supervise logged no '$1' in $2 s"
                fi
                sleep 0.05
        done
}

# vm_assemble_restoring MD BACKUP DEVICE...: after a power cut,
# `mdadm --assemble /dev/MD --backup-file=BACKUP DEVICE...`, again with
# MDADM_GROW_ALLOW_OLD=1 when mdadm asks for it. When mdadm refuses the
# backup, says so in $VM_OUT/refused.txt (for the scenario to fail on at
# its end) and assembles with --invalid-backup, so that the data can still
# be compared. mdadm's output goes to $VM_OUT/assemble.$VM_BOOT.txt.
vm_assemble_restoring() {
        md=$1 bf=$2
        shift 2
        out=$VM_OUT/assemble.$VM_BOOT.txt
        allow_old=no
        vm_log "+ mdadm --assemble /dev/$md --backup-file=$bf $*"
        mdadm --assemble "/dev/$md" --backup-file="$bf" "$@" >"$out" 2>&1
        st=$?
        cat "$out"
        if grep -q MDADM_GROW_ALLOW_OLD "$out"; then
                allow_old=yes
                mdadm --stop "/dev/$md"
                vm_log "+ MDADM_GROW_ALLOW_OLD=1 mdadm --assemble /dev/$md --backup-file=$bf $*"
                MDADM_GROW_ALLOW_OLD=1 mdadm --assemble "/dev/$md" --backup-file="$bf" "$@" >"$out" 2>&1
                st=$?
                cat "$out"
        fi
        vm_log "mdadm --assemble: exit status $st, MDADM_GROW_ALLOW_OLD needed: $allow_old"
        md_assembled "$md" $st && return 0
        echo "boot $VM_BOOT: mdadm --assemble --backup-file exited with $st: $(tr '\n' ' ' <"$out")" \
                >>"$VM_OUT/refused.txt"
        mdadm --stop "/dev/$md"
        vm_log "+ mdadm --assemble --invalid-backup /dev/$md --backup-file=$bf $*"
        mdadm --assemble --invalid-backup "/dev/$md" --backup-file="$bf" "$@" >"$out" 2>&1
        st=$?
        cat "$out"
        md_assembled "$md" $st || vm_fail "mdadm --assemble --invalid-backup failed too (exit status $st)"
}

# md_assembled MD STATUS: whether mdadm --assemble, which exited with
# STATUS, left MD running. mdadm 4.2 crashes (strncmp on NULL) after it has
# started the array and forked its own monitor to continue a reshape.
md_assembled() {
        [ "$2" = 0 ] && return 0
        case $(cat "/sys/block/$1/md/array_state" 2>/dev/null) in
        ''|clear|inactive) return 1 ;;
        esac
        vm_log "mdadm --assemble exited with $2, but /dev/$1 runs: $(md_snapshot "$1")"
}

# vm_takeover SPEED BACKUP GROW-ARGS...: `mdadm --grow /dev/md0 GROW-ARGS
# --backup-file=BACKUP` with MDADM_NO_SYSTEMCTL=1 (the busybox guest's
# hand-off: mdadm forks its own monitor), kills that monitor as soon as
# mdadm returns and runs `reshaped -v supervise` instead, vm-probe
# watching from before (files $VM_OUT/probe.csv, probe.txt). SPEED "slow"
# holds the kernel at md's lowest speed until the take-over, so that it
# happens inside a grow's first, critical units. Fails the scenario unless
# supervise takes over and exits 0 with the reshape ended. Sets
# takeover_wall (seconds), takeover_row (the probe's CSV line once
# supervise has logged the take-over; pass it to vm_probe_risk as @ROW)
# and takeover (the take-over line).
vm_takeover() {
        _speed=$1 _backup=$2
        shift 2
        vm-probe --md md0 --csv "$VM_OUT/probe.csv" --backup "$_backup" >"$VM_OUT/probe.txt" 2>&1 &
        _probe=$!
        if [ "$_speed" = slow ]; then
                md_set md0 sync_speed_min 1
                md_set md0 sync_speed_max 1
        fi
        _t0=$(vm_now)
        MDADM_NO_SYSTEMCTL=1 vm_run mdadm --grow /dev/md0 "$@" --backup-file="$_backup"
        _pids=$(pidof mdadm) || vm_fail "mdadm forked no monitor of its own"
        vm_run kill -KILL $_pids
        vm_log "killed mdadm's monitor ($_pids) at $(md_attr md0 sync_completed) member sectors;" \
                "sync_max=$(md_attr md0 sync_max) direction=$(md_attr md0 reshape_direction)"

        { reshaped -v supervise /dev/md0 --backup-file "$_backup"; echo "reshaped: exit status $?"; } 2>&1 |
                while IFS= read -r _line; do echo "[$(vm_now)] $_line"; done >"$VM_OUT/reshaped.log" &
        _sup=$!
        _n=0
        while ! grep -q 'took over at' "$VM_OUT/reshaped.log" && [ $_n -lt 300 ]; do
                sleep 0.1
                _n=$((_n + 1))
        done
        takeover=$(grep 'took over at' "$VM_OUT/reshaped.log") || {
                cat "$VM_OUT/reshaped.log"
                vm_fail "reshaped logged no take-over within 30 s"
        }
        # Counted once the take-over has happened: its short numeric
        # sync_max steps (freeze, restart, the rest of a split stripe) may
        # fall between two probe samples.
        takeover_row=$(wc -l <"$VM_OUT/probe.csv" 2>/dev/null) || takeover_row=0
        vm_log "took over; probe CSV at line $takeover_row"
        md_fast md0
        # Bounded: a supervisor that hangs shows its log instead of the runner's timeout.
        ( md_wait_idle md0 150 ) || {
                cat "$VM_OUT/reshaped.log"
                vm_stacks reshaped
                vm_fail "the reshape did not end"
        }
        wait "$_sup"
        takeover_wall=$(vm_since "$_t0")
        wait "$_probe" || vm_fail "probe failed: $(cat "$VM_OUT/probe.txt")"
        grep -v ': \(suspend\|backup\|set-sync-max\|forget\|release\|resume\) slot=\|backed up array sectors' \
                "$VM_OUT/reshaped.log"
        cat "$VM_OUT/probe.txt"
        grep -q 'reshaped: exit status 0$' "$VM_OUT/reshaped.log" || vm_fail "reshaped supervise failed"
}

# vm_install_dropin UNIT: installs reshaped's drop-in for mdadm's hand-off
# unit as `meson install` generated it (the runner pointed its ExecStart at
# the guest's binary) and fails unless systemd shows it for UNIT
# (mdadm-grow-continue@MD.service).
vm_install_dropin() {
        _shipped=/opt/vm/installed/systemd/mdadm-grow-continue@.service.d/reshaped.conf
        _dir=/etc/systemd/system/mdadm-grow-continue@.service.d

        [ -f "$_shipped" ] || vm_fail "$_shipped is missing: the runner installs the build's units for systemd guests"
        mkdir -p "$_dir"
        cp "$_shipped" "$_dir/reshaped.conf"
        grep -qx 'ExecStart=/opt/vm/bin/reshaped supervise /dev/%I' "$_dir/reshaped.conf" ||
                vm_fail "the installed drop-in has no 'ExecStart=/opt/vm/bin/reshaped supervise /dev/%I'"
        vm_run systemctl daemon-reload
        systemctl cat "$1" | grep -qx 'ExecStart=/opt/vm/bin/reshaped supervise /dev/%I' ||
                vm_fail "systemctl cat $1 does not show the drop-in's ExecStart"
}

# vm_unit_ended_ok UNIT SECONDS: waits (SECONDS at most) until UNIT is
# inactive or failed, then fails (with its journal) unless it ended with
# Result=success and exit status 0.
vm_unit_ended_ok() {
        _n=0
        until case $(systemctl show -P ActiveState "$1") in inactive|failed) true ;; *) false ;; esac ||
                [ $_n -ge $(($2 * 10)) ]; do
                sleep 0.1
                _n=$((_n + 1))
        done
        _result=$(systemctl show -P Result "$1")
        _status=$(systemctl show -P ExecMainStatus "$1")
        vm_log "$1: ActiveState=$(systemctl show -P ActiveState "$1") Result=$_result ExecMainStatus=$_status"
        [ "$_result" = success ] && [ "$_status" = 0 ] || {
                journalctl -b -u "$1" --no-pager -o cat | tail -n 40
                vm_fail "$1 did not end successfully"
        }
}

# vm_recovery_in_order JOURNAL: fails unless the journal text of a restore
# (reshaped-recover.service's, say) shows, in this order, the backup
# verified, the array assembled with the reshape held, the backup written
# back and emptied, and the supervision begun.
vm_recovery_in_order() {
        _v=$(grep -n 'CRC32C verified' "$1" | head -n 1 | cut -d: -f1)
        _a=$(grep -n 'assembled, reshape frozen with sync_max at' "$1" | head -n 1 | cut -d: -f1)
        _e=$(grep -n 'emptied (resume position' "$1" | head -n 1 | cut -d: -f1)
        _s=$(grep -n 'supervising the reshape from' "$1" | head -n 1 | cut -d: -f1)
        [ -n "$_v" ] && [ -n "$_a" ] && [ -n "$_e" ] && [ -n "$_s" ] &&
                [ "$_v" -lt "$_a" ] && [ "$_a" -lt "$_e" ] && [ "$_e" -lt "$_s" ] ||
                vm_fail "the restore did not verify, assemble, write back and supervise in that order (lines $_v, $_a, $_e, $_s of $1)"
}

# vm_handoff SPEED MD BACKUP GROW-ARGS...: `mdadm --grow /dev/MD GROW-ARGS
# --backup-file=BACKUP` with reshaped's shipped drop-in installed (its
# ExecStart pointed at the guest's binary), so that mdadm's hand-off,
# `systemctl restart mdadm-grow-continue@MD.service`, runs `reshaped
# supervise`; vm-probe watches from before (its files: $VM_OUT/probe.csv,
# probe.txt). Waits for the reshape and the service to end, and fails the
# scenario unless the service ran the drop-in, mdadm forked no monitor of
# its own, the service ended successfully, and the journal holds
# reshaped's structured fields and its take-over report. SPEED "slow"
# holds the kernel at md's lowest speed until mdadm returns (the service
# has then taken over: systemctl waits for it to be ready), so that the
# take-over happens inside a grow's first, critical units. Sets, as
# vm_takeover does, takeover_wall (seconds), takeover_row (the probe's CSV
# line when mdadm returned, after the take-over) and takeover (the
# take-over line). Call it after vm_wait_booted.
vm_handoff() {
        _speed=$1 _md=$2 _backup=$3
        shift 3
        _unit=mdadm-grow-continue@$_md.service
        vm_install_dropin "$_unit"

        vm-probe --md "$_md" --csv "$VM_OUT/probe.csv" --backup "$_backup" >"$VM_OUT/probe.txt" 2>&1 &
        _probe=$!
        if [ "$_speed" = slow ]; then
                md_set "$_md" sync_speed_min 1
                md_set "$_md" sync_speed_max 1
        fi
        _t0=$(vm_now)
        vm_timed mdadm --grow "/dev/$_md" "$@" --backup-file="$_backup"
        takeover_row=$(wc -l <"$VM_OUT/probe.csv" 2>/dev/null) || takeover_row=0
        md_fast "$_md"
        _pids=$(pidof mdadm) && vm_fail "mdadm forked its own monitor ($_pids) instead of handing off to $_unit"
        systemctl status "$_unit" --no-pager >"$VM_OUT/status.txt" 2>&1
        cat "$VM_OUT/status.txt"
        grep -q 'Drop-In:' "$VM_OUT/status.txt" && grep -q 'reshaped.conf' "$VM_OUT/status.txt" ||
                vm_fail "systemctl status $_unit shows no Drop-In reshaped.conf"
        grep -q "/opt/vm/bin/reshaped supervise /dev/$_md" "$VM_OUT/status.txt" ||
                vm_fail "$_unit does not run reshaped supervise /dev/$_md"

        ( md_wait_idle "$_md" 150 ) || {
                journalctl -u "$_unit" --no-pager -o cat
                vm_stacks reshaped
                vm_fail "the reshape did not end"
        }
        takeover_wall=$(vm_since "$_t0")
        wait "$_probe" || vm_fail "probe failed: $(cat "$VM_OUT/probe.txt")"
        cat "$VM_OUT/probe.txt"
        # reshaped exits once it has seen the end; the service then goes inactive.
        vm_unit_ended_ok "$_unit" 30

        # As mdadm's monitor does at the end: nothing left behind that would
        # make the next mdadm --grow fail or point at an old file.
        [ ! -e "/run/mdadm/backup_file-$_md" ] && [ ! -L "/run/mdadm/backup_file-$_md" ] ||
                vm_fail "/run/mdadm/backup_file-$_md is left after the reshape"
        [ ! -e "$_backup" ] || vm_fail "the backup $_backup is left after the reshape"
        journalctl -u "$_unit" --no-pager -o cat
        journalctl -u "$_unit" --no-pager -o verbose >"$VM_OUT/journal-verbose.txt"
        for _field in MESSAGE_ID "RESHAPE_DEVICE=$_md" RESHAPE_PERCENT; do
                grep -q "^ *$_field" "$VM_OUT/journal-verbose.txt" ||
                        vm_fail "the journal of $_unit has no $_field field"
        done
        vm_log "journal fields: $(grep -c '^ *MESSAGE_ID=' "$VM_OUT/journal-verbose.txt") MESSAGE_IDs ($(sed -n 's/^ *MESSAGE_ID=//p' "$VM_OUT/journal-verbose.txt" | sort -u | tr '\n' ' ')), $(grep -c '^ *RESHAPE_PERCENT=' "$VM_OUT/journal-verbose.txt") progress records, last $(sed -n 's/^ *RESHAPE_PERCENT=//p' "$VM_OUT/journal-verbose.txt" | tail -n 1)%"
        takeover=$(journalctl -u "$_unit" --no-pager -o cat | grep 'took over at') ||
                vm_fail "reshaped logged no take-over"
}

# vm_takeover_verify WHAT SEED ROW [VERIFY-ARGS...]: after vm_handoff or
# vm_takeover, fails the scenario unless every byte of /dev/md0 matches
# pattern SEED (vm-pattern verify VERIFY-ARGS) and, from the take-over on,
# the kernel never overwrote data no backup held (vm_probe_risk ... ROW,
# see there); then logs the PASS line for WHAT with its figures.
vm_takeover_verify() {
        _what=$1 _seed=$2 _row=$3
        shift 3
        vm_timed vm-pattern verify "$@" /dev/md0 "$_seed"
        _risk=$(vm_probe_risk md0 "$VM_OUT/probe.csv" "$VM_OUT/probe.txt" "$size" "$_row")
        _ok=$?
        echo "$_risk"
        [ $_ok = 0 ] || vm_fail "after the take-over the kernel could overwrite data no backup held"
        _stall=$(sed -n 's/^probe: .* stall=\([^ ]* ([^)]*)\).*/\1/p' "$VM_OUT/probe.txt")
        vm_log "PASS: $_what verified ($size bytes); reshape wall ${takeover_wall}s, stall $_stall;" \
                "reshaped: ${takeover#*md0: }"
}

# vm_probed_start BACKUP ARGS...: runs `reshaped start /dev/md0
# --backup-file BACKUP ARGS...` under the probe ($VM_OUT/probe.csv and
# probe.txt, shown) and waits for the reshape to end; sets wall (seconds).
vm_probed_start() {
        _backup=$1
        shift
        vm-probe --md md0 --csv "$VM_OUT/probe.csv" --backup "$_backup" >"$VM_OUT/probe.txt" 2>&1 &
        _probe=$!
        _t0=$(vm_now)
        vm_run reshaped start /dev/md0 --backup-file "$_backup" "$@"
        md_wait_idle md0 300
        wall=$(vm_since "$_t0")
        wait "$_probe" || vm_fail "probe failed: $(cat "$VM_OUT/probe.txt")"
        cat "$VM_OUT/probe.txt"
}

# vm_probed_protected: fails unless the probe of vm_probed_start saw the
# kernel held within the backup all along (lag 0, nothing reshaped without
# a backup, no critical unit unheld: vm_probe_risk over the array's $size
# bytes); sets lag and stall (as the probe prints it).
vm_probed_protected() {
        lag=$(sed -n 's/^probe: .*lag_max=\([0-9]*\) bytes.*/\1/p' "$VM_OUT/probe.txt")
        _unprot=$(sed -n 's/^probe: .*unprotected_total=\([0-9]*\) bytes.*/\1/p' "$VM_OUT/probe.txt")
        stall=$(sed -n 's/^probe: .* stall=\([^ ]* ([^)]*)\).*/\1/p' "$VM_OUT/probe.txt")
        [ -n "$lag" ] && [ -n "$_unprot" ] || vm_fail "no lag figures from the probe"
        [ "$lag" = 0 ] || vm_fail "the kernel ran $lag bytes beyond the backup"
        [ "$_unprot" = 0 ] || vm_fail "$_unprot bytes were reshaped without a backup"
        vm_probe_risk md0 "$VM_OUT/probe.csv" "$VM_OUT/probe.txt" "$size" ||
                vm_fail "the kernel could overwrite data no backup held (see above)"
}

# vm_check_cut FIRST_LOG BACKUP: after a power cut, shows what the boot
# before left (its cut record, the daemon's last lines: FIRST_LOG after boot
# 1, the restore's log after later ones, the reshape position on disk),
# fails if the kernel ran with sync_max=max at the cut (but for a grow past
# its first units, where raid5 guards itself), and checks that
# `reshaped inspect` verifies BACKUP.
vm_check_cut() {
        _prev=$((VM_BOOT - 1))
        cat "$VM_OUT/cut.$_prev.txt" || vm_fail "boot $_prev left no record of its cut"
        # A grow past its first units runs free by design: raid5 guards it.
        # So does a shrink's last window (VM_CRASH_FINAL_MAX=1): backed up
        # to the end of the reshape, it is released with sync_max=max.
        if [ "${VM_CRASH_GROWS:-0}" = 0 ] && [ "${VM_CRASH_FINAL_MAX:-0}" = 0 ] &&
                grep -q 'sync_max=max' "$VM_OUT/cut.$_prev.txt"; then
                vm_fail "the kernel ran with sync_max=max at the cut of boot $_prev"
        fi
        echo "--- the daemon's last lines before the cut:"
        if [ $_prev = 1 ]; then tail -n 6 "$1"; else tail -n 6 "$VM_OUT/restore.$_prev.log"; fi
        echo "---"
        vm_log "on disk: reshape position $(mdadm --examine "$(vm_disk 0)" | sed -n "s/^ *Reshape pos'n : //p")"
        reshaped inspect "$2"
        _st=$?
        [ $_st = 0 ] || vm_fail "reshaped inspect $2: exit status $_st after the cut of boot $_prev"
        vm_log "reshaped inspect: exit status 0"
}

# vm_matrix_instants "CUTS": the cut points of vm_crash_start for the table.
vm_matrix_instants() {
        for _c in $1; do
                case $_c in
                backup) printf 'first window after restore' ;;
                writeback) printf "during restore's write-back" ;;
                resumed) printf '0.3 s after restore resumed' ;;
                raise:*) printf 'right after a sync_max raise past %s%%' "${_c#raise:}" ;;
                ended) printf 'after the end, before the clean-up' ;;
                readahead:*) printf 'a read-ahead in flight past %s%%' "${_c#readahead:}" ;;
                *) printf '%s%%' "$_c" ;;
                esac
                [ "$_c" = "$(echo $1 | awk '{ print $NF }')" ] || printf ', '
        done
}

# vm_crash_devs N: the first N devices of a crash case: its data disks,
# or what VM_CRASH_DEVS lists (the lost-cache model's dm devices).
vm_crash_devs() {
        # shellcheck disable=SC2086
        vm_first "$1" ${VM_CRASH_DEVS:-$VM_DISKS}
}

# vm_crash_degrade DISKS: with VM_CRASH_DEGRADED=1, fails, removes and
# wipes the last of md0's DISKS members, so the reshape runs degraded.
vm_crash_degrade() {
        [ "${VM_CRASH_DEGRADED:-0}" = 1 ] || return 0
        _gone=$(vm_crash_devs "$1" | awk '{ print $NF }')
        vm_run mdadm /dev/md0 --fail "$_gone"
        vm_run mdadm /dev/md0 --remove "$_gone"
        vm_run mdadm --zero-superblock "$_gone"
        vm_log "degraded: $(md_attr md0 degraded) member(s) missing"
}

# vm_crash_begin BACKUP: starts the reshape of a crash case in the
# background: `reshaped start VM_CRASH_CHANGE` (its log $VM_OUT/start.log),
# or with VM_CRASH_GROW set, `mdadm --grow VM_CRASH_GROW --backup-file
# BACKUP` taken over at once by reshaped (vm_systemctl_runs_reshaped: log
# $VM_OUT/supervise.1.log). Sets crash_log to the daemon's log.
vm_crash_begin() {
        if [ -n "${VM_CRASH_GROW:-}" ]; then
                vm_systemctl_runs_reshaped -v
                crash_log=$VM_OUT/supervise.$VM_BOOT.log
                # shellcheck disable=SC2086
                MDADM_NO_SYSTEMCTL=1 vm_run mdadm --grow /dev/md0 $VM_CRASH_GROW --backup-file="$1"
                _monitor=$(pidof mdadm) || vm_fail "mdadm --grow left no monitor of its own"
                kill -KILL $_monitor
                vm_log "killed mdadm's monitor ($_monitor): $(md_snapshot md0)"
                vm_run systemctl restart mdadm-grow-continue@md0.service
                # While the take-over freezes the reshape, /proc/mdstat shows
                # no true front: the cut points count from its end.
                vm_wait_supervise_log 'supervising the reshape from' 60
                return 0
        fi
        crash_log=$VM_OUT/start.log
        vm_log "+ reshaped -v start /dev/md0 --backup-file $1 ${VM_CRASH_CHANGE:---chunk 128K} --max-window 8M"
        # shellcheck disable=SC2086
        { reshaped -v start /dev/md0 --backup-file "$1" ${VM_CRASH_CHANGE:---chunk 128K} --max-window 8M 2>&1
          echo "exit status $?" >"$VM_OUT/start.status"; } |
                while IFS= read -r line; do echo "[$(vm_now)] $line"; done >"$crash_log" &
}

# vm_crash_array DISKS "CREATE ARGS" SEED: the array of a crash case:
# /dev/md0 on the first DISKS devices (vm_crash_devs) (`mdadm --create CREATE ARGS`, chunk
# 64K), VM_CRASH_SPARES more disks added as spares, reduced to what
# VM_CRASH_ARRAY_DISKS data disks hold when set, its size in
# $VM_OUT/array.txt, filled with pattern SEED and synced.
vm_crash_array() {
        # shellcheck disable=SC2086
        vm_run mdadm --create /dev/md0 --run --quiet --chunk=64 --assume-clean $2 \
                --raid-devices="$1" $(vm_crash_devs "$1")
        md_fast md0
        if [ "${VM_CRASH_SPARES:-0}" -gt 0 ]; then
                # shellcheck disable=SC2046
                vm_run mdadm /dev/md0 --add $(vm_crash_devs $(($1 + VM_CRASH_SPARES)) | cut -d ' ' -f "$(($1 + 1))-")
        fi
        if [ -n "${VM_CRASH_ARRAY_DISKS:-}" ]; then
                vm_run mdadm --grow /dev/md0 \
                        --array-size="$(($(md_attr md0 component_size) / 64 * 64 * VM_CRASH_ARRAY_DISKS))"
        fi
        echo "size_bytes=$(vm_size_bytes /dev/md0)" >"$VM_OUT/array.txt"
        vm_timed vm-pattern fill /dev/md0 "$3"
        sync
}

# vm_crash_start DISKS "CREATE ARGS" SEED "CUTS": the power-cut test of a
# reshape under `reshaped start` (--max-window 8M, backup on the scratch
# disk). Boot 1 creates /dev/md0 on the first DISKS disks with
# `mdadm --create CREATE ARGS` (level, metadata, size), fills it with
# pattern SEED, starts the reshape and cuts the power when the kernel's
# front reaches the first of CUTS (percent). Every later boot checks the
# cut (vm_check_cut) and runs `reshaped restore`: after the first cut with
# neither --backup-file nor members (from reshaped's record and the
# superblocks' UUID), after the others with both; it cuts again at the
# next point, and the boot after the last lets the reshape finish: restore
# exits 0, the array has the new shape and the same size, every byte
# verified.
# The change is VM_CRASH_CHANGE (`reshaped start` options; default
# --chunk 128K), the shape it ends in VM_CRASH_EXPECT (md attributes,
# "name=value ..."; default chunk_size=131072). VM_CRASH_ARRAY_DISKS=N
# first reduces the array to what N data disks hold (before a shrink);
# VM_CRASH_SPARES=N adds the next N disks as spares (before a grow, with
# VM_CRASH_GROWS=1, or a level change);
# VM_CRASH_DEGRADED=1 fails, removes and wipes the last member after the
# fill, so the reshape runs degraded.
vm_crash_start() {
        _members=$(($1 + ${VM_CRASH_SPARES:-0}))
        _level=$(echo "$2" | sed -n 's/.*--level=\([0-9]*\).*/raid\1/p')
        _meta=$(echo "$2" | sed -n 's/.*--metadata=\([0-9.]*\).*/\1/p')
        VM_MATRIX=${VM_MATRIX:-"$_level on $1$([ "${VM_CRASH_DEGRADED:-0}" = 1 ] && echo " (degraded)"), start ${VM_CRASH_CHANGE:---chunk 128K}|${_meta:-1.2}|${VM_CRASH_MODEL:-qemu killed}|$(vm_matrix_instants "$4")|reshaped|reshaped restore"}
        VM_CRASH_CHANGE=${VM_CRASH_CHANGE:---chunk 128K}
        VM_CRASH_EXPECT=${VM_CRASH_EXPECT:-chunk_size=131072}
        _backup=$VM_SCRATCH/md0.backup
        _ncuts=$(echo $4 | wc -w)
        md_fast
        if [ "$VM_BOOT" = 1 ]; then
                vm_log "cut points: $4 (percent); boot $((_ncuts + 1)) finishes"
                vm_crash_array "$1" "$2" "$3"
                vm_crash_degrade "$1"
                vm_crash_begin "$_backup"
                vm_power_cut_at md0 "$(echo $4 | cut -d ' ' -f 1)"
        fi

        vm_check_cut "$VM_OUT/start.log" "$_backup"

        _t0=$(vm_now)
        if [ "$VM_BOOT" = 2 ]; then
                vm_restore_bg --max-window 8M /dev/md0
        else
                # shellcheck disable=SC2046
                vm_restore_bg --max-window 8M /dev/md0 --backup-file "$_backup" \
                        $(vm_disks $((_members - ${VM_CRASH_DEGRADED:-0})))
        fi
        if [ "$VM_BOOT" -le "$_ncuts" ]; then
                vm_restore_cut "$_t0" "$(echo $4 | cut -d ' ' -f "$VM_BOOT")"
        fi
        vm_restore_verified "$_t0" "$3"
        vm_crash_clean "$_backup"
        vm_log "PASS: $_ncuts power cuts at $4 percent ($VM_CRASH_CHANGE), each restored by reshaped restore; every byte verified"
}

# vm_crash_clean BACKUP: after the reshape, nothing of it is left: neither
# the backup file nor a record in the state directory.
vm_crash_clean() {
        [ ! -e "$1" ] || vm_fail "the backup $1 is left after the reshape ended"
        _left=$(ls "${RESHAPED_STATE_DIR:-/var/lib/reshaped}" 2>/dev/null | tr '\n' ' ')
        [ -z "$_left" ] || vm_fail "records left after the reshape ended: $_left"
        vm_log "nothing left: no backup file, no record"
}

# vm_restore_cut T0 INSTANT: cuts the power during the restore that
# vm_restore_bg started at T0 (it shows what restore wrote back first).
# INSTANT is a percent of the reshape's front, or
#   writeback  as soon as restore has assembled the array and begins to
#              write the backup back (the cut file says whether it had
#              logged the end of the write-back by then);
#   resumed    300 ms after restore let the kernel go on (supervising);
#   backup     right after the supervisor's first durable window (a
#              shrink's last units, slowed from 98% on with
#              VM_CUT_SPEED_KIB, or it is over within a poll);
vm_restore_cut() {
        if [ "$2" = writeback ]; then
                vm_wait_restore_log 'assembled, reshape frozen' 60
                _done=no
                grep -q 'wrote back\|emptied\|nothing to write back' "$VM_OUT/restore.$VM_BOOT.log" && _done=yes
                vm_cut_now "cut during restore's write-back (its end logged: $_done): $(md_snapshot md0)"
        fi
        vm_wait_restore_log 'supervising the reshape from' 60
        vm_log "supervising $(vm_since "$1") s after restore began: $(md_snapshot md0)"
        grep -E 'member|backup|section|write back|wrote back|nothing to|assembled' "$VM_OUT/restore.$VM_BOOT.log"
        case $2 in
        resumed)
                sleep 0.3
                vm_cut_now "cut 0.3 s after restore resumed the reshape: $(md_snapshot md0)"
                ;;
        backup)
                if [ -n "${VM_CUT_SPEED_KIB:-}" ]; then
                        _n=0
                        until set -- "$1" "$2" $(md_reshape_front md0) x x x
                              [ "$3" = x ] || [ "$4" -ge $(($(md_attr md0 component_size) * 98 / 100)) ]; do
                                _n=$((_n + 1))
                                [ $_n -lt 3000 ] || vm_fail "the reshape did not reach 98% in 150 s: $(md_snapshot md0)"
                                sleep 0.05
                        done
                        md_set md0 sync_speed_min 1
                        md_set md0 sync_speed_max "$VM_CUT_SPEED_KIB"
                fi
                vm_wait_restore_log 'backed up array sectors' 120
                vm_cut_now "cut after the first window: $(md_snapshot md0)"
                ;;
        esac
        vm_power_cut_at md0 "$2"
}

# vm_restore_verified T0 SEED: waits for the restore vm_restore_bg started
# at T0 and the reshape to end; fails unless restore exited 0, the array
# has the shape VM_CRASH_EXPECT names (md attributes "name=value ...",
# default chunk_size=131072), kept the size boot 1 wrote to
# $VM_OUT/array.txt, and every byte matches pattern SEED.
vm_restore_verified() {
        vm_wait_restore_end 300
        md_wait_idle md0 60
        vm_log "reshape finished $(vm_since "$1") s after restore began"
        [ "$restore_status" = "exit status 0" ] || vm_fail "reshaped restore ended with $restore_status"
        for _kv in ${VM_CRASH_EXPECT:-chunk_size=131072}; do
                [ "$(md_attr md0 "${_kv%%=*}")" = "${_kv#*=}" ] ||
                        vm_fail "${_kv%%=*} is $(md_attr md0 "${_kv%%=*}"), not ${_kv#*=}"
        done
        _size=$(sed -n 's/^size_bytes=//p' "$VM_OUT/array.txt")
        _now=$(vm_size_bytes /dev/md0)
        # A grow adds capacity; everything else keeps the size.
        if [ "${VM_CRASH_GROWS:-0}" = 1 ]; then
                [ "$_now" -gt "$_size" ] || vm_fail "the array did not grow: $_size -> $_now bytes"
        else
                [ "$_now" = "$_size" ] || vm_fail "the array size changed: $_size -> $_now bytes"
        fi
        vm_matrix_verify "$2" --length "$_size"
}

# vm_matrix_verify SEED [VERIFY-ARGS...]: compares /dev/md0 with pattern
# SEED, writes the crash matrix row of this scenario ($VM_OUT/matrix.txt,
# read by tests/vm/crash-matrix) and fails the scenario on any wrong byte.
# The row describes the case from VM_MATRIX ("kind|metadata|model|instants|
# supervisor|recovered by"; unset: the scenario is no matrix case).
vm_matrix_verify() {
        _seed=$1
        shift
        _t=$(vm_now)
        echo "[$_t] + vm-pattern verify $* /dev/md0 $_seed"
        _out=$(vm-pattern verify "$@" /dev/md0 "$_seed" 2>&1)
        _st=$?
        echo "$_out"
        vm_log "took $(vm_since "$_t")s: vm-pattern"
        _bytes=$(echo "$_out" | sed -n 's/.* bytes=\([0-9]*\).*/\1/p; s/.* bad_blocks_4k=[0-9]* of \([0-9]*\).*/\1 4k/p' | head -n 1)
        _bad=$(echo "$_out" | sed -n 's/.* bad_blocks_4k=\([0-9]*\).*/\1/p' | head -n 1)
        case $_bytes in *" 4k") _bytes=$((${_bytes% 4k} * 4096)) ;; esac
        if [ -n "${VM_MATRIX:-}" ]; then
                echo "$VM_SCENARIO|$VM_MATRIX|${_bytes:-?}|$(( ${_bad:-0} * 4096 ))" >>"$VM_OUT/matrix.txt"
        fi
        [ $_st = 0 ] || [ "${VM_MATRIX_LOSS_OK:-0}" = 1 ] ||
                vm_fail "exit status $_st: vm-pattern verify $* /dev/md0 $_seed"
}

# vm_crash_handoff DISKS "CREATE ARGS" SEED CUT "GROW ARGS": power cuts
# after a take-over. Boot 1 makes the array (vm_crash_array), starts the
# reshape with MDADM_NO_SYSTEMCTL=1 mdadm --grow GROW ARGS --backup-file,
# kills mdadm's own monitor at once and runs what mdadm's hand-off unit
# runs with reshaped's drop-in (vm_systemctl_runs_reshaped: `reshaped
# supervise`, with mdadm's backup file); the power is cut right after the
# supervisor's first durable window. Boot 2 runs `reshaped restore` (the
# backup path from reshaped's record) and cuts again at CUT percent; boot 3
# lets restore finish: exit 0, the shape VM_CRASH_EXPECT names, every byte
# verified.
vm_crash_handoff() {
        _backup=$VM_SCRATCH/md0.backup
        md_fast
        vm_systemctl_runs_reshaped -v
        if [ "$VM_BOOT" = 1 ]; then
                vm_crash_array "$1" "$2" "$3"
                _t0=$(vm_now)
                # shellcheck disable=SC2086
                MDADM_NO_SYSTEMCTL=1 vm_run mdadm --grow /dev/md0 $5 --backup-file="$_backup"
                _monitor=$(pidof mdadm) || vm_fail "mdadm --grow left no monitor of its own"
                kill -KILL $_monitor
                vm_log "killed mdadm's monitor ($_monitor) $(vm_since "$_t0") s after mdadm --grow began: $(md_snapshot md0)"
                # What the drop-in runs, by the same path mdadm's --grow would take.
                vm_run systemctl restart mdadm-grow-continue@md0.service
                vm_wait_supervise_log 'backed up array sectors' 60
                echo "[$(vm_now)] boot 1: cut after the first window: $(md_snapshot md0)" >"$VM_OUT/cut.1.txt"
                cat "$VM_OUT/cut.1.txt" >/dev/kmsg
                vm_power_cut
        fi

        vm_check_cut "$VM_OUT/supervise.1.log" "$_backup"
        _t0=$(vm_now)
        # shellcheck disable=SC2046
        vm_restore_bg /dev/md0 $(vm_disks $(($1 + ${VM_CRASH_SPARES:-0})))
        if [ "$VM_BOOT" = 2 ]; then
                vm_restore_cut "$_t0" "$4"
        fi
        vm_restore_verified "$_t0" "$3"
        vm_log "PASS: mdadm --grow $5 taken over, power cuts after the first window and at $4%, each restored by reshaped restore; every byte verified"
}

# vm_crash_mdadm DISKS "CREATE ARGS" SEED CUT "GROW ARGS": the baseline of
# the crash matrix, mdadm's own monitor on the case vm_crash_start runs
# under reshaped (VM_CRASH_SPARES and VM_CRASH_ARRAY_DISKS as there). Boot
# 1: `mdadm --grow GROW ARGS --backup-file`, mdadm forking its own monitor
# (MDADM_NO_SYSTEMCTL=1), power cut when the front reaches CUT percent.
# Boot 2: mdadm's own recovery, `mdadm --assemble --backup-file`; when it
# refuses, what mdadm then offers, `--invalid-backup`. Whatever that leaves
# is compared with the pattern once the reshape has ended: the row reports
# the bytes wrong and the scenario passes (mdadm losing data is a result).
vm_crash_mdadm() {
        _backup=$VM_SCRATCH/md0.backup
        _members=$(($1 + ${VM_CRASH_SPARES:-0}))
        _level=$(echo "$2" | sed -n 's/.*--level=\([0-9]*\).*/raid\1/p')
        _meta=$(echo "$2" | sed -n 's/.*--metadata=\([0-9.]*\).*/\1/p')
        md_fast
        if [ "$VM_BOOT" = 1 ]; then
                vm_crash_array "$1" "$2" "$3"
                # shellcheck disable=SC2086
                MDADM_NO_SYSTEMCTL=1 vm_run mdadm --grow /dev/md0 $5 --backup-file="$_backup"
                vm_power_cut_at md0 "$4"
        fi
        cat "$VM_OUT/cut.1.txt"
        _rec="mdadm --assemble --backup-file"
        # shellcheck disable=SC2046
        MDADM_NO_SYSTEMCTL=1 mdadm --assemble /dev/md0 --backup-file="$_backup" \
                $(vm_disks "$_members") >"$VM_OUT/assemble.txt" 2>&1
        _st=$?
        # mdadm 4.2 may crash after it started the array (its own monitor's
        # continuation): the array it left is what is compared then.
        if [ $_st != 0 ] && vm_md_running md0; then
                cat "$VM_OUT/assemble.txt"
                _rec="mdadm --assemble --backup-file (exit $_st, the array left running)"
        elif [ $_st != 0 ]; then
                cat "$VM_OUT/assemble.txt"
                _rec="mdadm --assemble --invalid-backup (--backup-file: exit $_st)"
                mdadm --stop /dev/md0 >/dev/null 2>&1
                # shellcheck disable=SC2046
                MDADM_NO_SYSTEMCTL=1 mdadm --assemble /dev/md0 --backup-file="$_backup" \
                        --invalid-backup $(vm_disks "$_members") >>"$VM_OUT/assemble.txt" 2>&1
                _st=$?
                if [ $_st != 0 ] && vm_md_running md0; then
                        _rec="$_rec, exit $_st, the array left running"
                elif [ $_st != 0 ]; then
                        cat "$VM_OUT/assemble.txt"
                        echo "$VM_SCENARIO|$_level on $1, mdadm --grow $5|${_meta:-1.2}|${VM_CRASH_MODEL:-qemu killed}|$4%|mdadm|not recovered: mdadm --assemble exit $_st, --invalid-backup too|-|-" \
                                >>"$VM_OUT/matrix.txt"
                        vm_log "PASS: mdadm's monitor, power cut at $4% ($5): mdadm could not bring the array back (exit $_st)"
                        return 0
                fi
        fi
        cat "$VM_OUT/assemble.txt"
        md_fast md0
        # md runs an assembled array read-auto (start_ro=1), and a reshape
        # does not move until the first write, while reads of the old stripe
        # it splits wait for it: what an admin does next is make it writable.
        if [ "$(md_attr md0 reshape_position)" != none ] && [ "$(md_attr md0 array_state)" = read-auto ]; then
                vm_run mdadm --readwrite /dev/md0
                _rec="$_rec, then mdadm --readwrite"
        fi
        # mdadm may leave the reshape where it stands (no monitor continued
        # it): a result too; the array is compared as it is.
        _n=0
        while [ "$(md_attr md0 reshape_position)" != none ] && [ $_n -lt 1200 ]; do sleep 0.1; _n=$((_n + 1)); done
        [ "$(md_attr md0 reshape_position)" = none ] ||
                _rec="$_rec; the reshape stayed at $(md_attr md0 reshape_position) ($(md_attr md0 sync_action))"
        _n=0
        while pidof mdadm >/dev/null && [ $_n -lt 300 ]; do sleep 0.1; _n=$((_n + 1)); done
        _size=$(sed -n 's/^size_bytes=//p' "$VM_OUT/array.txt")
        VM_MATRIX="$_level on $1, mdadm --grow $5|${_meta:-1.2}|${VM_CRASH_MODEL:-qemu killed}|$4%|mdadm|$_rec"
        VM_MATRIX_LOSS_OK=1 vm_matrix_verify "$3" --length "$_size"
        vm_log "PASS: mdadm's monitor, power cut at $4% ($5), recovered by $_rec; see the bytes wrong above"
}

# vm_md_running MD: whether MD is an active array (assembled and run).
vm_md_running() {
        case $(cat "/sys/block/$1/md/array_state" 2>/dev/null) in
        ""|clear|inactive) return 1 ;;
        esac
        return 0
}

# vm_restore_bg ARGS...: runs `reshaped -v restore ARGS...` in the
# background, its output (with seconds since boot) in
# $VM_OUT/restore.$VM_BOOT.log and "exit status N" in
# $VM_OUT/restore.$VM_BOOT.status.
vm_restore_bg() {
        vm_log "+ reshaped -v restore $*"
        { reshaped -v restore "$@" 2>&1
          echo "exit status $?" >"$VM_OUT/restore.$VM_BOOT.status"; } </dev/null |
                while IFS= read -r line; do echo "[$(vm_now)] $line"; done \
                >"$VM_OUT/restore.$VM_BOOT.log" 2>&1 &
}

# vm_wait_restore_log PATTERN SECONDS: waits for a line matching PATTERN in
# the log of vm_restore_bg; fails after SECONDS or when restore ended first.
vm_wait_restore_log() {
        n=0
        until grep -q "$1" "$VM_OUT/restore.$VM_BOOT.log" 2>/dev/null; do
                n=$((n + 1))
                if [ $n -ge $(($2 * 20)) ] || [ -f "$VM_OUT/restore.$VM_BOOT.status" ]; then
                        cat "$VM_OUT/restore.$VM_BOOT.log" "$VM_OUT/restore.$VM_BOOT.status" 2>/dev/null
                        vm_fail "reshaped restore logged no '$1' in $2 s"
                fi
                sleep 0.05
        done
}

# vm_wait_restore_end SECONDS: waits until vm_restore_bg's restore exits;
# prints its log and sets $restore_status to its "exit status N" line.
vm_wait_restore_end() {
        n=0
        until [ -f "$VM_OUT/restore.$VM_BOOT.status" ]; do
                n=$((n + 1))
                [ $n -lt $(($1 * 10)) ] || vm_fail "reshaped restore did not end in $1 s"
                sleep 0.1
        done
        cat "$VM_OUT/restore.$VM_BOOT.log"
        restore_status=$(cat "$VM_OUT/restore.$VM_BOOT.status")
}

# --- a filesystem in use on the array (vm-fswriter) ----------------------
#
# The writer's files: $VM_OUT/writer.NAME.txt (its output: progress, the
# "run:" summary, a STALL line when an operation blocked longer than
# $live_stall_ms) and writer.NAME.status ("exit status N"). Its tree and
# manifest live on the filesystem under test, at $live_mnt/tree and
# $live_mnt/manifest.

live_mnt=/mnt/live
live_stall_ms=${live_stall_ms:-15000}

# vm_live_mkfs FSTYPE DEV: makes (with e2fsprogs, not busybox's mke2fs) an ext4 or xfs filesystem on DEV and
# mounts it at $live_mnt.
vm_live_mkfs() {
        case $1 in
        ext4) vm_timed /usr/sbin/mke2fs -q -F -t ext4 -E lazy_itable_init=0,lazy_journal_init=0 "$2" ;;
        xfs) vm_timed mkfs.xfs -q -f "$2" ;;
        *) vm_fail "vm_live_mkfs: no filesystem '$1'" ;;
        esac
        mkdir -p "$live_mnt"
        vm_run mount -t "$1" "$2" "$live_mnt"
}

# vm_live_writer_start NAME SEED: starts vm-fswriter in the background until
# vm_live_writer_stop NAME.
vm_live_writer_start() {
        rm -f "/tmp/writer-stop.$1" "$VM_OUT/writer.$1.status"
        vm_log "+ vm-fswriter run $live_mnt/tree --seed $2 --until-file /tmp/writer-stop.$1 --stall-ms $live_stall_ms"
        { vm-fswriter run "$live_mnt/tree" --seed "$2" --manifest "$live_mnt/manifest" \
                --until-file "/tmp/writer-stop.$1" --stall-ms "$live_stall_ms" 2>&1
          echo "exit status $?" >"$VM_OUT/writer.$1.status"; } </dev/null >"$VM_OUT/writer.$1.txt" &
        live_writer=$1
}

# vm_live_dump: what every party of a hang waits on (the writer, reshaped,
# md's threads, the kernel's hung-task reports).
vm_live_dump() {
        echo "--- writer ${live_writer:-}:"
        tail -n 30 "$VM_OUT/writer.${live_writer:-none}.txt" 2>/dev/null
        vm_stacks vm-fswriter
        vm_stacks reshaped
        for t in /proc/[0-9]*; do
                case $(cat "$t/comm" 2>/dev/null) in
                md*_raid*|md*_reshape|jbd2*|kworker/*flush*|xfsaild*)
                        echo "--- $(cat "$t/comm") (${t#/proc/}):"
                        cat "$t/stack" 2>/dev/null ;;
                esac
        done
        md_snapshot md0
        dmesg | grep -A 20 'blocked for more than' | tail -n 60
        # A deadlock against the suspended range would also hang the
        # guest's last sync, and the runner would wait for the timeout:
        # lift the suspension (in the background, should that block too).
        if [ "$(md_attr md0 suspend_hi 2>/dev/null)" != 0 ]; then
                vm_log "lifting md0's suspended range so that the guest can sync and end"
                ( echo 0 >/sys/block/md0/md/suspend_hi ) &
        fi
}

# vm_live_stalled NAME: whether the writer reported a stall.
vm_live_stalled() {
        grep -q 'STALL' "$VM_OUT/writer.$1.txt" 2>/dev/null
}

# vm_live_wait_idle MD SECONDS: waits for MD's reshape to begin (it may be
# starting yet) and end while the writer runs; fails (showing what
# everyone waits on) when the writer reports a stall or the reshape is
# still busy after SECONDS.
vm_live_wait_idle() {
        _t0=$(vm_now)
        while [ "$(md_attr "$1" reshape_position)" = none ] &&
                [ "$(awk -v a="$(vm_since "$_t0")" 'BEGIN { print (a < 60) }')" = 1 ]; do
                sleep 0.1
        done
        while :; do
                if vm_live_stalled "$live_writer"; then
                        vm_live_dump
                        vm_fail "the writer stalled during the reshape: $(grep STALL "$VM_OUT/writer.$live_writer.txt" | head -n 1)"
                fi
                [ "$(md_attr "$1" sync_action)" = idle ] && [ "$(md_attr "$1" reshape_position)" = none ] && return 0
                if [ "$(awk -v a="$(vm_since "$_t0")" -v l="$2" 'BEGIN { print (a > l) }')" = 1 ]; then
                        vm_live_dump
                        vm_fail "$1 still reshaping after $2 s with the writer running"
                fi
                sleep 0.5
        done
}

# vm_live_writer_stop NAME: stops the writer and waits (60 s at most) for
# it; fails on a stall, an error or a writer that does not end. Sets
# live_rate (MiB/s written), live_ops (operations/s) and live_latency
# (its slowest operation, seconds).
vm_live_writer_stop() {
        : >"/tmp/writer-stop.$1"
        _n=0
        until [ -f "$VM_OUT/writer.$1.status" ]; do
                if vm_live_stalled "$1" || [ $_n -ge 600 ]; then
                        live_writer=$1
                        vm_live_dump
                        vm_fail "the writer $1 $(vm_live_stalled "$1" && echo stalled || echo 'did not end in 60 s')"
                fi
                _n=$((_n + 1))
                sleep 0.1
        done
        _sum=$(grep '^vm-fswriter: run:' "$VM_OUT/writer.$1.txt")
        if [ "$(cat "$VM_OUT/writer.$1.status")" != "exit status 0" ] || [ -z "$_sum" ]; then
                cat "$VM_OUT/writer.$1.txt"
                vm_fail "the writer $1 ended with $(cat "$VM_OUT/writer.$1.status")"
        fi
        echo "$_sum"
        live_rate=$(echo "$_sum" | sed -n 's/.* MiB_per_s=\([0-9.]*\).*/\1/p')
        live_ops=$(echo "$_sum" | sed -n 's/.* ops_per_s=\([0-9.]*\).*/\1/p')
        live_latency=$(echo "$_sum" | sed -n 's/.* max_latency_s=\([0-9.]*\).*/\1/p')
}

# vm_live_ballast SEED MIB: a file of MIB MiB at $live_mnt/ballast holding
# pattern SEED, synced: with it most of the filesystem holds data, so a
# window left torn after a crash (not written back, or written back
# wrong) lands in data that vm_live_check compares, not in free space.
vm_live_ballast() {
        echo "$1" >"$live_mnt/ballast.seed"
        vm_run truncate -s "${2}M" "$live_mnt/ballast"
        vm_timed vm-pattern fill "$live_mnt/ballast" "$1"
        vm_run sync
}

# vm_live_writers_survived: after a power cut, fails when a writer of an
# earlier boot reported a stall or a read-back mismatch, or ended with an
# error before the cut (a writer the cut stopped left no status).
vm_live_writers_survived() {
        for _w in "$VM_OUT"/writer.*.txt; do
                _name=${_w##*/writer.}
                _name=${_name%.txt}
                grep -h 'STALL\|MISMATCH' "$_w" && vm_fail "the writer $_name failed before the cut"
                _st=$VM_OUT/writer.$_name.status
                [ ! -f "$_st" ] || [ "$(cat "$_st")" = "exit status 0" ] ||
                        vm_fail "the writer $_name ended with $(cat "$_st") before the cut: $(tail -n 3 "$_w")"
        done
}

# vm_live_idle SEED SECONDS: the writer alone on the idle array for SECONDS;
# sets idle_rate, idle_ops and idle_latency.
vm_live_idle() {
        vm_live_writer_start idle "$1"
        sleep "$2"
        vm_live_writer_stop idle
        idle_rate=$live_rate idle_ops=$live_ops idle_latency=$live_latency
}

# vm_supervised_mdadm_stop SEED BACKUP: a raid5 (1.2, 4 x 127 MiB) filled
# with pattern SEED, its chunk changed to 128K under `reshaped start` with
# BACKUP, and stopped with `mdadm --stop` at a quarter. Fails unless the
# stop succeeds within 2 s, reshaped leaves within 2 s more with exit 3 and
# says how to continue, the backup verifies and the array is stopped.
vm_supervised_mdadm_stop() {
        md_fast
        vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
                --metadata=1.2 --size=$((127 * 1024)) --assume-clean $(vm_disks 4)
        md_fast md0
        vm_timed vm-pattern fill /dev/md0 "$1"
        sync

        reshaped -v start /dev/md0 --backup-file "$2" --chunk 128K --max-window 8M \
                >"$VM_OUT/start.txt" 2>&1 &
        pid=$!
        total=$(($(md_attr md0 component_size) * 2))
        while [ "$(md_progress md0)" -lt $((total / 4)) ]; do
                kill -0 "$pid" 2>/dev/null || vm_fail "reshaped ended before the stop point: $(tail -n 5 "$VM_OUT/start.txt")"
                sleep 0.05
        done
        vm_log "mdadm --stop at $(md_progress md0) of $total sectors per member: $(md_snapshot md0)"
        t0=$(vm_now)
        n=0
        until mdadm --stop /dev/md0 >"$VM_OUT/stop.txt" 2>&1; do
                n=$((n + 1))
                within_2s=$(awk -v a="$(vm_now)" -v b="$t0" 'BEGIN { print (a - b < 2) }')
                [ "$within_2s" = 1 ] || vm_fail "mdadm --stop still fails after 2 s: $(cat "$VM_OUT/stop.txt"); reshaped: $(tail -n 5 "$VM_OUT/start.txt")"
                sleep 0.1
        done
        vm_log "mdadm --stop succeeded after $(vm_since "$t0") s ($n retries)"
        n=0
        while kill -0 "$pid" 2>/dev/null; do
                n=$((n + 1))
                [ $n -lt 40 ] || vm_fail "reshaped still runs 2 s after the array stopped: $(tail -n 5 "$VM_OUT/start.txt")"
                sleep 0.05
        done
        status=0
        wait "$pid" || status=$?
        vm_log "reshaped left $(vm_since "$t0") s after the stop began, exit status $status"
        tail -n 8 "$VM_OUT/start.txt"
        [ "$status" = 3 ] || vm_fail "reshaped exited $status after mdadm --stop, not 3 (stopped, held safely)"
        # Seen stopped, or (when the array went after the supervisor had
        # held the kernel) frozen by someone else and held safely.
        grep -q "the array was stopped (mdadm --stop) at .*Continue with: reshaped restore /dev/md0 --backup-file $2" "$VM_OUT/start.txt" ||
                grep -q "stopping: someone else froze the reshape. Stopped safely\|stopping: someone else froze the reshape; .* holds array sectors" "$VM_OUT/start.txt" ||
                vm_fail "reshaped did not say that the array was stopped and how to continue"
        reshaped inspect "$2" >"$VM_OUT/inspect.txt" 2>&1 ||
                vm_fail "the backup left behind does not verify: $(cat "$VM_OUT/inspect.txt")"
        [ ! -e /sys/block/md0/md/array_state ] || [ "$(md_attr md0 array_state)" = clear ] ||
                [ "$(md_attr md0 array_state)" = inactive ] || vm_fail "md0 still runs: $(md_snapshot md0)"
}

# vm_live_reshape FS DISKS "CREATE ARGS" SEED "START ARGS" "EXPECT" LABEL: a
# reshape of an array in use. /dev/md0 on the first DISKS disks (`mdadm
# --create CREATE ARGS`, chunk 64K), VM_LIVE_SPARES more added as spares,
# cut to VM_LIVE_ARRAY_KIB (when set) with `mdadm --grow --array-size`,
# filesystem FS on it, vm-fswriter run on the idle array (20 s, the
# baseline), then through `reshaped start START ARGS --max-window 8M` with
# vm-probe watching. Fails when the writer stalls longer than
# $live_stall_ms, when the kernel ran beyond the backup (for a grow: could
# overwrite data in its first units no backup held), when reshaped does
# not exit 0, when the array lacks the md attributes EXPECT names
# ("name=value ..."), or when fsck or the writer's manifest finds anything.
vm_live_reshape() {
        _backup=$VM_SCRATCH/md0.backup
        md_fast
        # shellcheck disable=SC2086
        vm_run mdadm --create /dev/md0 --run --quiet --chunk=64 --assume-clean $3 \
                --raid-devices="$2" $(vm_disks "$2")
        md_fast md0
        if [ "${VM_LIVE_SPARES:-0}" -gt 0 ]; then
                # shellcheck disable=SC2046
                vm_run mdadm /dev/md0 --add $(vm_disks $(($2 + VM_LIVE_SPARES)) | cut -d ' ' -f $(($2 + 1))-)
        fi
        # A shrink: the array first cut to what the remaining data disks
        # hold (an admin shrinks the filesystem, then the array), and the
        # filesystem made on what is left.
        [ -z "${VM_LIVE_ARRAY_KIB:-}" ] || vm_run mdadm --grow /dev/md0 --array-size="${VM_LIVE_ARRAY_KIB}K"
        size=$(vm_size_bytes /dev/md0)
        vm_live_mkfs "$1" /dev/md0
        vm_live_idle "$4" 20

        vm-probe --md md0 --csv "$VM_OUT/probe.csv" --backup "$_backup" >"$VM_OUT/probe.txt" 2>&1 &
        _probe=$!
        vm_live_writer_start reshape "$4"
        sleep 2
        _t0=$(vm_now)
        vm_log "+ reshaped -v start /dev/md0 --backup-file $_backup $5 --max-window 8M"
        # shellcheck disable=SC2086
        { reshaped -v start /dev/md0 --backup-file "$_backup" $5 --max-window 8M 2>&1
          echo "exit status $?" >"$VM_OUT/start.status"; } </dev/null >"$VM_OUT/start.log" &
        vm_live_wait_idle md0 300
        _wall=$(vm_since "$_t0")
        vm_live_writer_stop reshape
        wait "$_probe" || vm_fail "probe failed: $(cat "$VM_OUT/probe.txt")"
        cat "$VM_OUT/probe.txt"
        _n=0
        until [ -f "$VM_OUT/start.status" ] || [ $_n -ge 100 ]; do sleep 0.1; _n=$((_n + 1)); done
        grep -v 'slot=\|backed up array sectors' "$VM_OUT/start.log" | tail -n 15
        [ "$(cat "$VM_OUT/start.status" 2>/dev/null)" = "exit status 0" ] ||
                vm_fail "reshaped start ended with '$(cat "$VM_OUT/start.status" 2>/dev/null)'"
        for _kv in $6; do
                [ "$(md_attr md0 "${_kv%%=*}")" = "${_kv#*=}" ] ||
                        vm_fail "${_kv%%=*} is $(md_attr md0 "${_kv%%=*}"), not ${_kv#*=}"
        done
        # Past a grow's first units md guards itself with sync_max at max:
        # lag and unprotected_total count that stretch, the risk check not.
        if grep -q 'the number of data disks changes' "$VM_OUT/probe.txt"; then
                lag="n/a (the data disks change)"
                VM_RISK_LOG=$VM_OUT/start.log vm_probe_risk md0 "$VM_OUT/probe.csv" "$VM_OUT/probe.txt" "$size" ||
                        vm_fail "the kernel could overwrite data no backup held (see above)"
        else
                vm_probed_protected
        fi
        vm_live_check "$1" /dev/md0
        vm_live_report "$1, $7 (${_wall}s)"
        vm_log "PASS: $1 in use through $7: no stall over ${live_stall_ms} ms, lag $lag, fsck clean, manifest verified"
}

# vm_live_verify: every file the manifest says was fsynced holds what was
# fsynced (an operation cut short may have either outcome).
vm_live_verify() {
        vm_timed vm-fswriter verify "$live_mnt/tree" --manifest "$live_mnt/manifest" --stall-ms "$live_stall_ms"
}

# vm_live_check FSTYPE DEV: unmounts, checks the filesystem read-only
# (e2fsck -fn, xfs_repair -n: both exit non-zero on any problem), mounts it
# again and verifies the manifest and the ballast (vm_live_ballast).
vm_live_check() {
        vm_run umount "$live_mnt"
        case $1 in
        ext4) vm_timed /usr/sbin/e2fsck -fn "$2" ;;
        xfs) vm_timed xfs_repair -n "$2" ;;
        esac
        vm_run mount -t "$1" "$2" "$live_mnt"
        vm_live_verify
        if [ -f "$live_mnt/ballast.seed" ]; then
                vm_timed vm-pattern verify "$live_mnt/ballast" "$(cat "$live_mnt/ballast.seed")"
        fi
}

# vm_live_report WHAT: the writer's throughput during the reshape against
# the idle array's.
vm_live_report() {
        # After a power cut the idle figures come from boot 1's summary.
        if [ -z "${idle_rate:-}" ]; then
                _sum=$(grep '^vm-fswriter: run:' "$VM_OUT/writer.idle.txt")
                idle_rate=$(echo "$_sum" | sed -n 's/.* MiB_per_s=\([0-9.]*\).*/\1/p')
                idle_ops=$(echo "$_sum" | sed -n 's/.* ops_per_s=\([0-9.]*\).*/\1/p')
                idle_latency=$(echo "$_sum" | sed -n 's/.* max_latency_s=\([0-9.]*\).*/\1/p')
        fi
        vm_log "THROUGHPUT $1: idle ${idle_rate} MiB/s ${idle_ops} ops/s (slowest op ${idle_latency} s);" \
                "during the reshape ${live_rate} MiB/s ${live_ops} ops/s (slowest op ${live_latency} s);" \
                "$(awk -v a="$live_rate" -v b="$idle_rate" 'BEGIN { printf "%.0f", (b > 0 ? 100 * a / b : 0) }')% of idle"
}

# vm_live_handoff FS DISKS "CREATE ARGS" SPARES SEED "GROW ARGS" "EXPECT"
# LABEL: a reshape of an array in use, handed from mdadm to reshaped. In
# the systemd guest: /dev/md0 on the first DISKS disks (`mdadm --create
# CREATE ARGS`, chunk 64K), SPARES more added as spares, filesystem FS on
# it, vm-fswriter run on the idle array (20 s, the baseline), then
# `mdadm --grow GROW ARGS --backup-file` routed by the shipped drop-in to
# `reshaped supervise` (vm_handoff: the service, its journal, nothing
# left behind). Fails when the writer stalls longer than $live_stall_ms,
# when after the take-over the kernel could overwrite data no backup held
# (vm_probe_risk), when the array lacks the md attributes EXPECT names
# ("name=value ..."), or when fsck or the writer's manifest finds anything.
vm_live_handoff() {
        _backup=$VM_SCRATCH/md0.backup
        vm_wait_booted
        md_fast
        # shellcheck disable=SC2086
        vm_run mdadm --create /dev/md0 --run --quiet --chunk=64 --assume-clean $3 \
                --raid-devices="$2" $(vm_disks "$2")
        md_fast md0
        if [ "$4" -gt 0 ]; then
                # shellcheck disable=SC2046
                vm_run mdadm /dev/md0 --add $(vm_disks $(($2 + $4)) | cut -d ' ' -f $(($2 + 1))-)
        fi
        size=$(vm_size_bytes /dev/md0)
        vm_live_mkfs "$1" /dev/md0
        vm_live_idle "$5" 20

        vm_live_writer_start reshape "$5"
        # A hand-off that deadlocks ends in vm_handoff's bounded wait: show the writer then.
        trap '[ $? = 0 ] || vm_live_dump' EXIT
        sleep 2
        # shellcheck disable=SC2086
        vm_handoff fast md0 "$_backup" $6
        vm_live_stalled reshape && vm_fail "the writer stalled: $(grep STALL "$VM_OUT/writer.reshape.txt" | head -n 1)"
        vm_live_writer_stop reshape
        trap - EXIT
        for _kv in $7; do
                [ "$(md_attr md0 "${_kv%%=*}")" = "${_kv#*=}" ] ||
                        vm_fail "${_kv%%=*} is $(md_attr md0 "${_kv%%=*}"), not ${_kv#*=}"
        done
        # The take-over freezes the reshape and restarts it with sync_max
        # one unit past a checkpoint of 0; a kernel that had begun reports
        # its front and parks there at once, but the probe cannot tell that
        # sample from an unbegun kernel let into the unit. Count from the
        # first report of the front after the freeze (the rows before are
        # mdadm's unprotected run).
        _row=$(awk -F, 'NR > 1 && $2 == "frozen" { f = 1 } f && $2 == "reshape" && $3 ~ /^[1-9]/ { print NR - 1; exit }' "$VM_OUT/probe.csv")
        [ -n "$_row" ] || vm_fail "the probe saw no take-over (no freeze followed by a reported front)"
        _risk=$(vm_probe_risk md0 "$VM_OUT/probe.csv" "$VM_OUT/probe.txt" "$size" "@$_row")
        _ok=$?
        echo "$_risk"
        [ $_ok = 0 ] || vm_fail "after the take-over the kernel could overwrite data no backup held"
        vm_live_check "$1" /dev/md0
        vm_live_report "$1, $8 handed to reshaped supervise (${takeover_wall}s)"
        vm_log "PASS: $1 in use through $8 handed off: no stall over ${live_stall_ms} ms, fsck clean, manifest verified"
}

# vm_takeover_unbegun SEED DIRTY: supervise-takeover-unbegun and its
# dirty variant. Sets up a reshape parked at 0, frozen, with sync_max=max
# (nothing rewritten) on a raid5 filled with pattern SEED, and takes it
# over with `reshaped supervise`; with DIRTY=1 the array's first page is
# first rewritten through the page cache and left dirty, as a mounted
# filesystem's superblock is, which makes a non-blocking read of it fail
# with EAGAIN although the kernel has not begun. Fails unless the take-over
# starts from an untouched reshape, the kernel never ran beyond the backup
# (probe, from the first sample), and every byte matches the pattern.
vm_takeover_unbegun() {
        seed=$1
        backup=$VM_SCRATCH/md0.backup
        export RESHAPED_STATE_DIR=$VM_SCRATCH/state

        md_fast
        vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
                --metadata=0.90 --size=$((127 * 1024)) --assume-clean $(vm_disks 4)
        md_fast md0
        size=$(vm_size_bytes /dev/md0)
        vm_timed vm-pattern fill /dev/md0 "$seed"
        sync

        if [ "$2" = 1 ]; then
                # Same bytes back, through the page cache; kept dirty for
                # the take-over (no writeback before 10 minutes; and the
                # last close of a block device writes its pages back, so
                # fd 7 holds it open until the reshape is over).
                echo 60000 >/proc/sys/vm/dirty_expire_centisecs
                exec 7</dev/md0
                dd if=/dev/md0 of=/tmp/page0 bs=4096 count=1 iflag=direct 2>/dev/null ||
                        vm_fail "cannot read the first page of md0"
                dd if=/tmp/page0 of=/dev/md0 bs=4096 count=1 conv=notrunc 2>/dev/null ||
                        vm_fail "cannot rewrite the first page of md0"
                # /proc/meminfo's counters catch up within a second.
                sleep 2
                awk '/^Dirty:/ { exit !($2 + 0 > 0) }' /proc/meminfo || vm_fail "the first page is not dirty: $(grep ^Dirty /proc/meminfo)"
        fi
        # Set up the reshape parked at 0, freeze it, then lift sync_max: frozen,
        # nothing rewritten, sync_max=max.
        md_set md0 sync_action frozen
        md_set md0 chunk_size 131072
        md_set md0 sync_min 0
        md_set md0 sync_max 0
        md_set md0 sync_action reshape
        md_set md0 sync_action frozen
        md_set md0 sync_max max
        vm_log "set up: sync_action=$(md_attr md0 sync_action) sync_max=$(md_attr md0 sync_max) reshape_position=$(md_attr md0 reshape_position)"
        [ "$(md_attr md0 reshape_position)" = 0 ] || vm_fail "the reshape moved before the take-over"

        vm-probe --md md0 --csv "$VM_OUT/probe.csv" --backup "$backup" >"$VM_OUT/probe.txt" 2>&1 &
        probe=$!
        reshaped supervise /dev/md0 --backup-file "$backup" >"$VM_OUT/supervise.txt" 2>&1 || {
                cat "$VM_OUT/supervise.txt"
                vm_fail "reshaped supervise failed"
        }
        cat "$VM_OUT/supervise.txt"
        wait "$probe" || vm_fail "probe failed: $(cat "$VM_OUT/probe.txt")"
        cat "$VM_OUT/probe.txt"
        grep -q 'before this point the kernel reshaped 0 B with nothing' "$VM_OUT/supervise.txt" ||
                vm_fail "the take-over did not start from an untouched reshape"
        md_wait_idle md0 300
        [ "$2" = 1 ] && exec 7<&-
        [ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
        vm_timed vm-pattern verify /dev/md0 "$seed"
        risk=$(vm_probe_risk md0 "$VM_OUT/probe.csv" "$VM_OUT/probe.txt" "$size")
        ok=$?
        echo "$risk"
        [ $ok = 0 ] || vm_fail "the kernel could overwrite data no backup held"
        vm_log "PASS: untouched reshape$([ "$2" = 1 ] && echo " (first page dirty)") taken over from its first unit, every byte verified, protection lag 0"
}

# The lost-cache crash model (dm-log-writes): lw_* functions.
. "${VM_LIB%/*}/lib-logwrites.sh"

# vm_level_array METADATA LEVEL DISKS SEED: /dev/md0, raid LEVEL with
# METADATA (0.90 or 1.2) on the first DISKS disks, 127 MiB of each, chunk
# 64K, filled with pattern SEED and synced; sets $size (the array's bytes).
vm_level_array() {
        md_fast
        vm_run mdadm --create /dev/md0 --run --quiet --level="$2" --raid-devices="$3" --chunk=64 \
                --metadata="$1" --size=$((127 * 1024)) --assume-clean $(vm_disks "$3")
        md_fast md0
        size=$(vm_size_bytes /dev/md0)
        vm_timed vm-pattern fill /dev/md0 "$4"
        sync
}

# vm_level_end WHAT LEVEL RAID_DISKS LAYOUT SPARES SEED BACKUP: after a level
# change of /dev/md0 has ended (under whichever monitor), fails unless md0
# is LEVEL (raid5, raid6) on RAID_DISKS disks in md's LAYOUT number with
# SPARES spares, its size is $size, every byte matches pattern SEED, a
# `check` counts no mismatch, the superblocks say LEVEL too, and nothing
# is left: no reshaped or mdadm process, no BACKUP, no
# /run/mdadm/backup_file-md0, nothing in reshaped's state directory.
vm_level_end() {
        _what=$1 _level=$2 _disks=$3 _layout=$4 _spares=$5 _seed=$6 _backup=$7
        _got="$(md_attr md0 level) $(md_attr md0 raid_disks) $(md_attr md0 layout)"
        _spare_n=$(mdadm --detail /dev/md0 | sed -n 's/^ *Spare Devices : *//p')
        vm_log "$_what: level raid_disks layout = $_got, spares ${_spare_n:-?}"
        [ "$_got" = "$_level $_disks $_layout" ] ||
                vm_fail "$_what: md0 is '$_got' (level raid_disks layout), not '$_level $_disks $_layout'"
        [ "$_spare_n" = "$_spares" ] || vm_fail "$_what: md0 has ${_spare_n:-no} spares, not $_spares"
        _sb=$(mdadm --examine "$(vm_disk 0)" | sed -n 's/^ *Raid Level : *//p')
        [ "$_sb" = "$_level" ] || vm_fail "$_what: the superblock of $(vm_disk 0) says level '$_sb', not $_level"
        [ "$(vm_size_bytes /dev/md0)" = "$size" ] ||
                vm_fail "$_what: the array size changed: $size -> $(vm_size_bytes /dev/md0)"
        vm_timed vm-pattern verify /dev/md0 "$_seed"
        # mdadm --grow --continue leaves md0's own speed limits low (the
        # stock hand-off's check crawled at 67K/sec).
        md_fast md0
        md_set md0 sync_action check
        sleep 0.5
        md_wait_idle md0 120
        _mm=$(md_attr md0 mismatch_cnt)
        [ "$_mm" = 0 ] || vm_fail "$_what: a check counted mismatch_cnt=$_mm"
        _pids=$(pidof reshaped) && vm_fail "$_what: reshaped is still running ($_pids)"
        _pids=$(pidof mdadm) && vm_fail "$_what: mdadm is still running ($_pids)"
        [ ! -e "$_backup" ] || vm_fail "$_what: the backup $_backup is left"
        [ ! -e /run/mdadm/backup_file-md0 ] && [ ! -L /run/mdadm/backup_file-md0 ] ||
                vm_fail "$_what: /run/mdadm/backup_file-md0 is left"
        _state=${RESHAPED_STATE_DIR:-/var/lib/reshaped}
        [ -z "$(ls -A "$_state" 2>/dev/null)" ] || vm_fail "$_what: $_state holds $(ls -A "$_state" | tr '\n' ' ')"
        vm_log "$_what: every byte verified, mismatch_cnt 0, nothing left behind"
}
