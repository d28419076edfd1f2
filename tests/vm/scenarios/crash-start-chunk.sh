# vm: mode=busybox disks=4 size=256M scratch=1G timeout=1500 needs=reshaped
# Power cuts during a reshape that reshaped supervises: raid5 (0.90
# metadata, 4 x 255 MiB), chunk 64K -> 128K with `reshaped start`. The
# power is cut once per boot at each point of $cuts (percent of the
# reshape, the kernel's live front in /proc/mdstat): early (inside the
# first window), middle, late (inside the last window). After each cut the
# backup file must verify (`reshaped inspect`, exit 0), `mdadm --assemble
# --backup-file` restores what it needs, and mdadm's hand-off to
# mdadm-grow-continue@md0.service runs what reshaped's drop-in runs,
# `reshaped supervise /dev/md0` (a stand-in systemctl, the guest has no
# systemd), which takes over and goes on to the next cut. The boot after
# the last cut lets it finish: the chunk is 128K and every byte of the
# array matches the pattern.
. "$VM_LIB"
set -u

# Where to cut, in percent of the reshape; one boot each.
cuts="2 50 96"
seed=6006
backup=$VM_SCRATCH/md0.backup
# The busybox guest has no /var/lib; the scratch disk survives the cuts.
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

# "PERCENT DONE TOTAL" of the running reshape (KiB per member), or nothing.
reshape_front() {
        sed -n 's/.*reshape = *\([0-9.]*\)% (\([0-9]*\)\/\([0-9]*\)).*/\1 \2 \3/p' /proc/mdstat
}

# Prefixes every line read with the seconds since boot.
stamp_lines() {
        while IFS= read -r line; do
                echo "[$(cut -d ' ' -f 1 /proc/uptime)] $line"
        done
}

# Runs reshaped with debug output to $VM_OUT/$1.$VM_BOOT.log, in the
# background; its exit status goes to $VM_OUT/$1.$VM_BOOT.status.
run_daemon() {
        name=$1
        shift
        { reshaped -v "$@" 2>&1; echo "exit status $?" >"$VM_OUT/$name.$VM_BOOT.status"; } |
                stamp_lines >"$VM_OUT/$name.$VM_BOOT.log" &
}

# What the kernel and the daemon show now, on one line.
snapshot() {
        s=
        for a in array_state sync_action sync_max sync_completed reshape_position suspend_lo suspend_hi; do
                s="$s $a=$(md_attr md0 $a | tr ' ' _)"
        done
        echo "front=$(reshape_front | tr ' ' /)$s"
}

# Waits until the live front reaches $1 percent, writes what it saw to
# $VM_OUT/cut.BOOT.txt (straight to the host, unlike the console pipe) and
# cuts the power.
cut_power_at() {
        pct=$1
        total=$(($(md_attr md0 component_size)))
        want=$((total * pct / 100))
        n=0
        seen=no
        while :; do
                set -- $(reshape_front) x x x
                [ "$1" != x ] && [ "$2" -ge "$want" ] && break
                if [ "$(md_attr md0 reshape_position)" != none ]; then
                        seen=yes
                elif [ $seen = yes ]; then
                        vm_fail "the reshape ended before ${pct}%"
                fi
                n=$((n + 1))
                [ $n -lt 6000 ] || vm_fail "no ${pct}% after 300 s: $(snapshot)"
                sleep 0.05
        done
        echo "[$(vm_now)] boot $VM_BOOT: cut at ${pct}%: $(snapshot)" >"$VM_OUT/cut.$VM_BOOT.txt"
        cat "$VM_OUT/cut.$VM_BOOT.txt" >/dev/kmsg
        vm_power_cut
}

# mdadm --assemble hands a resumed reshape to systemd with `systemctl
# restart mdadm-grow-continue@md0.service`, or forks its own monitor when
# that fails. This systemctl does what the unit with reshaped's drop-in
# does: runs `reshaped supervise /dev/%I`.
install_systemctl() {
        cat >/usr/bin/systemctl <<EOF
#!/bin/sh
echo "[\$(cut -d ' ' -f 1 /proc/uptime)] systemctl \$*" >>"$VM_OUT/systemctl.$VM_BOOT.log"
case "\$1 \$2" in
"restart mdadm-grow-continue@"*".service")
        dev=\${2#mdadm-grow-continue@}
        dev=/dev/\${dev%.service}
        export RESHAPED_STATE_DIR="$RESHAPED_STATE_DIR"
        { /opt/vm/bin/reshaped -v supervise "\$dev" 2>&1
          echo "exit status \$?" >"$VM_OUT/supervise.$VM_BOOT.status"; } </dev/null |
                while IFS= read -r line; do
                        echo "[\$(cut -d ' ' -f 1 /proc/uptime)] \$line"
                done >"$VM_OUT/supervise.$VM_BOOT.log" 2>&1 &
        exit 0 ;;
esac
exit 1
EOF
        chmod 0755 /usr/bin/systemctl
}

# Waits up to $2 seconds for a line matching $1 in the supervise log.
wait_supervise_log() {
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

nth() {
        echo $2 | cut -d ' ' -f "$1"
}

md_fast
ncuts=$(echo $cuts | wc -w)
if [ "$VM_BOOT" = 1 ]; then
        vm_log "cut points: $cuts (percent); boot $((ncuts + 1)) finishes"
        vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
                --metadata=0.90 --size=$((255 * 1024)) --assume-clean $(vm_disks 4)
        md_fast md0
        echo "size_bytes=$(vm_size_bytes /dev/md0)" >"$VM_OUT/array.txt"
        vm_timed vm-pattern fill /dev/md0 "$seed"
        sync
        vm_log "+ reshaped -v start /dev/md0 --backup-file $backup --chunk 128K"
        run_daemon start start /dev/md0 --backup-file "$backup" --chunk 128K
        cut_power_at "$(nth 1 "$cuts")"
fi

prev=$((VM_BOOT - 1))
cat "$VM_OUT/cut.$prev.txt" || vm_fail "boot $prev left no record of its cut"
echo "--- the daemon's last lines before the cut (boot $prev):"
tail -n 12 "$VM_OUT/start.$prev.log" "$VM_OUT/supervise.$prev.log" 2>/dev/null
echo "---"
vm_log "on disk: reshape position $(mdadm --examine "$(vm_disk 0)" | sed -n "s/^ *Reshape pos'n : //p")"
ls -l "$VM_SCRATCH"

t0=$(vm_now)
reshaped inspect "$backup"
st=$?
[ $st = 0 ] || vm_fail "reshaped inspect $backup: exit status $st after the cut of boot $prev"
vm_log "reshaped inspect: exit status 0"

install_systemctl
allow_old=no
t0=$(vm_now)
vm_log "+ mdadm --assemble /dev/md0 --backup-file=$backup $(vm_disks 4)"
mdadm --assemble /dev/md0 --backup-file="$backup" $(vm_disks 4) >"$VM_OUT/assemble.$VM_BOOT.txt" 2>&1
st=$?
cat "$VM_OUT/assemble.$VM_BOOT.txt"
if grep -q MDADM_GROW_ALLOW_OLD "$VM_OUT/assemble.$VM_BOOT.txt"; then
        allow_old=yes
        mdadm --stop /dev/md0
        vm_log "+ MDADM_GROW_ALLOW_OLD=1 mdadm --assemble /dev/md0 --backup-file=$backup $(vm_disks 4)"
        MDADM_GROW_ALLOW_OLD=1 mdadm --assemble /dev/md0 --backup-file="$backup" $(vm_disks 4) \
                >"$VM_OUT/assemble.$VM_BOOT.txt" 2>&1
        st=$?
        cat "$VM_OUT/assemble.$VM_BOOT.txt"
fi
assembled=$(vm_now)
vm_log "mdadm --assemble: exit status $st in $(awk -v a="$assembled" -v b="$t0" 'BEGIN { printf "%.2f", a - b }') s, MDADM_GROW_ALLOW_OLD needed: $allow_old"
[ $st = 0 ] || vm_fail "mdadm --assemble failed with status $st"
vm_log "assembled: $(snapshot)"
case $(md_attr md0 array_state) in
read-auto|readonly) vm_run mdadm --readwrite /dev/md0 ;;
esac

wait_supervise_log 'supervising the reshape from' 30
sed -n 's/.*\(took over at .*\)/\1/p' "$VM_OUT/supervise.$VM_BOOT.log"
wait_supervise_log 'backed up array sectors' 60
first=$(sed -n 's/^\[\([0-9.]*\)\] .*backed up array sectors.*/\1/p' "$VM_OUT/supervise.$VM_BOOT.log" | head -n 1)
vm_log "first window durable $(awk -v a="$first" -v b="$assembled" 'BEGIN { printf "%.2f", a - b }') s after mdadm --assemble returned"

if [ "$VM_BOOT" -le "$ncuts" ]; then
        cut_power_at "$(nth "$VM_BOOT" "$cuts")"
fi

n=0
until [ -f "$VM_OUT/supervise.$VM_BOOT.status" ]; do
        n=$((n + 1))
        [ $n -lt 3000 ] || vm_fail "reshaped supervise did not end in 300 s: $(snapshot)"
        sleep 0.1
done
cat "$VM_OUT/supervise.$VM_BOOT.log"
status=$(cat "$VM_OUT/supervise.$VM_BOOT.status")
[ "$status" = "exit status 0" ] || vm_fail "reshaped supervise: $status"
md_wait_idle md0 60
vm_log "reshape finished $(awk -v a="$(vm_now)" -v b="$assembled" 'BEGIN { printf "%.1f", a - b }') s after mdadm --assemble"
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
size=$(sed -n 's/^size_bytes=//p' "$VM_OUT/array.txt")
[ "$(vm_size_bytes /dev/md0)" = "$size" ] || vm_fail "the array size changed: $size -> $(vm_size_bytes /dev/md0)"
vm_timed vm-pattern verify /dev/md0 "$seed"
vm_log "PASS: $ncuts power cuts at $cuts percent; every byte verified"
