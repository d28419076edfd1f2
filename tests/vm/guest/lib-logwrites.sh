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
