# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers for scenario scripts, sourced in the guest with  . "$VM_LIB"
# POSIX sh: scenarios run under busybox ash (busybox mode) or dash (systemd
# mode). See tests/vm/README.md.

# Seconds since boot, two decimals.
vm_now() {
        cut -d ' ' -f 1 /proc/uptime
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
        n=$1
        out=
        for d in $VM_DISKS; do
                [ "$n" -gt 0 ] || break
                out="${out:+$out }$d"
                n=$((n - 1))
        done
        [ "$n" -eq 0 ] || vm_fail "only $VM_DISK_COUNT disks, $1 wanted"
        echo "$out"
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

# Prints how long the command took and fails the scenario when it fails.
vm_timed() {
        t0=$(vm_now)
        echo "[$t0] + $*"
        "$@" || vm_fail "exit status $?: $*"
        vm_log "took $(awk -v a="$(vm_now)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')s: $1"
}
