# vm: mode=busybox disks=5 size=64M timeout=900 needs=reshaped
# reshaped backs windows up from the members in the old layout (never
# through /dev/mdX, whose page cache a mounted filesystem shares). Its map
# and its parity rebuild are checked here against md itself: for every
# raid4/5/6 layout md has, the whole array read from the members equals
# what md returns, whole, with one member failed, and for raid6 with two.
. "$VM_LIB"
set -u

command -v vm-member-read-check >/dev/null || vm_fail "vm-member-read-check is not in the guest"
checks=0

check() {
        out=$(vm-member-read-check md0) || vm_fail "$1: $out"
        vm_log "$1: $out"
        checks=$((checks + 1))
}

one() {
        level=$1 layout=$2 disks=$3 chunk=$4
        set -- $(vm_disks "$disks")
        lay=--layout=$layout
        [ "$level" = 4 ] && lay=
        vm_run mdadm --create /dev/md0 --run --quiet --level="$level" $lay \
                --raid-devices="$disks" --chunk="$chunk" --metadata=1.2 --size=$((16 * 1024)) \
                --assume-clean "$@"
        vm-pattern fill /dev/md0 "$level$disks" >/dev/null || vm_fail "fill failed"
        name="raid$level $layout $disks disks ${chunk}K"
        check "$name"
        vm_run mdadm /dev/md0 --fail "$2"
        check "$name, $2 failed"
        if [ "$level" = 6 ]; then
                vm_run mdadm /dev/md0 --fail "$4"
                check "$name, $2 and $4 failed"
        fi
        vm-pattern verify /dev/md0 "$level$disks" >/dev/null || vm_fail "$name: md itself reads wrong data"
        vm_run mdadm --stop /dev/md0
        for d in "$@"; do mdadm --zero-superblock "$d" 2>/dev/null; done
}

one 4 parity-last 4 64
for layout in left-asymmetric right-asymmetric left-symmetric right-symmetric parity-first parity-last; do
        one 5 "$layout" 4 64
done
one 5 left-symmetric 3 512
for layout in left-asymmetric right-asymmetric left-symmetric right-symmetric parity-first parity-last \
        ddf-zero-restart ddf-N-restart ddf-N-continue \
        left-asymmetric-6 right-asymmetric-6 left-symmetric-6 right-symmetric-6 parity-first-6; do
        one 6 "$layout" 5 64
done
vm_log "PASS: $checks reads from the members matched md"
