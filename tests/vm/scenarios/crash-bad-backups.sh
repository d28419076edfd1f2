# vm: mode=busybox disks=7 size=32M scratch=256M timeout=600 needs=reshaped
# `reshaped restore` handed bad backups after a real power cut. raid5
# (0.90, 4 x 24 MiB), chunk 64K -> 128K with `reshaped start`, the kernel
# throttled so that a moment can be caught from the live state. Boot 1
# first reshapes a small second array (md1, disks 5-7) to have the backup
# of another array, then, during md0's reshape, keeps a copy of md0's
# backup (taken while its header does not change) and cuts the power once
# the kernel has run past the end of that copy's newest section while its
# on-disk checkpoint is still at or behind it: the copy then verifies on
# its own and covers the checkpoint, but is one generation older than the
# real backup (the stale copy). Boot 2 hands restore, each in turn: the
# stale copy, a flipped bit in the header, a flipped bit in section data,
# the file truncated, an empty file, random bytes, a missing file and
# md1's backup. Each must exit non-zero with a message that names the
# reason and what to do, before anything is written: every member's
# sha256 the same, md0 not assembled. Then the right backup restores,
# the reshape finishes, and every byte of the array verifies.
. "$VM_LIB"
set -u

export RESHAPED_STATE_DIR=$VM_SCRATCH/state
backup=$VM_SCRATCH/md0.backup
stale=$VM_SCRATCH/stale.backup
other=$VM_SCRATCH/md1.backup
bad=$VM_SCRATCH/bad
seed=8118
data_disks=3
# Per member, KiB/s: the kernel takes ~0.7 s for a 4 MiB window, time for
# a copy of the backup between two commits.
speed=2000

# hdr_u64 FILE OFFSET: the little-endian u64 at OFFSET of FILE.
hdr_u64() {
        od -A n -t u8 -j "$2" -N 8 "$1" | tr -d ' '
}

# "LO HI": the array sectors FILE's sections span (0 0: none). mdadm's
# header: arraystart/length at 48/56 (slot 0) and 80/88 (slot 1).
sections_span() {
        _lo=0 _hi=0
        for _o in 48 80; do
                _s=$(hdr_u64 "$1" $_o)
                _l=$(hdr_u64 "$1" $((_o + 8)))
                [ "$_l" -gt 0 ] || continue
                { [ $_hi = 0 ] || [ "$_s" -lt $_lo ]; } && _lo=$_s
                [ $((_s + _l)) -gt $_hi ] && _hi=$((_s + _l))
        done
        echo "$_lo $_hi"
}

generation_of() {
        reshaped inspect "$1" | sed -n 's/.*, generation \([0-9]*\),.*/\1/p'
}

header_sum() {
        head -c 512 "$1" | md5sum
}

# take_copy FROM TO: copies a live backup (synced) when its header stays
# the same across the copy: the sections it names are then whole in the
# copy (a slot is rewritten only after a header has released it).
take_copy() {
        _h1=$(header_sum "$1")
        dd if="$1" of="$2" bs=1M conv=fsync 2>/dev/null || return 1
        [ "$_h1" = "$(header_sum "$1")" ] && [ "$_h1" = "$(header_sum "$2")" ]
}

# Sets $front to the kernel's live front in array sectors (mdstat: KiB
# per member), with builtins only: the moment to catch is short.
read_front() {
        front=0
        while read -r _l; do
                case $_l in
                *"reshape ="*)
                        _l=${_l#*\(}
                        front=$((${_l%%/*} * 2 * data_disks))
                        return
                        ;;
                esac
        done </proc/mdstat
}

sums() {
        for d in $(vm_disks 4); do sha256sum "$d" & done | sort
}

# flip FILE OFFSET: inverts the lowest bit of the byte at OFFSET.
flip() {
        _b=$(od -A n -t u1 -j "$2" -N 1 "$1" | tr -d ' ')
        printf "\\$(printf %03o $((_b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

md_fast
case $VM_BOOT in
1)
        # The other array: 3 x 4 MiB, its backup copied while reshaped
        # supervises it (at the end the supervisor removes the file).
        vm_run mdadm --create /dev/md1 --run --quiet --chunk=64 --assume-clean --level=5 \
                --metadata=0.90 --size=4096 --raid-devices=3 "$(vm_disk 4)" "$(vm_disk 5)" "$(vm_disk 6)"
        md_fast md1
        md_set md1 sync_speed_min 1000
        md_set md1 sync_speed_max 1000
        vm_timed vm-pattern fill /dev/md1 $((seed + 1))
        vm_log "+ reshaped start /dev/md1 --backup-file $VM_SCRATCH/md1.live --chunk 128K --max-window 4M"
        reshaped start /dev/md1 --backup-file "$VM_SCRATCH/md1.live" --chunk 128K --max-window 4M \
                >"$VM_OUT/start-md1.log" 2>&1 &
        md1_pid=$!
        n=0
        until [ -f "$VM_SCRATCH/md1.live" ] && [ "$(sections_span "$VM_SCRATCH/md1.live")" != "0 0" ] &&
              take_copy "$VM_SCRATCH/md1.live" "$other"; do
                n=$((n + 1))
                [ $n -lt 600 ] || vm_fail "md1's backup never held a section to copy"
                usleep 20000
        done
        wait $md1_pid || vm_fail "reshaped start /dev/md1: exit status $?"
        md_wait_idle md1 60
        vm_run mdadm --stop /dev/md1
        reshaped inspect "$other" >/dev/null || vm_fail "the copy of md1's backup does not verify"

        # shellcheck disable=SC2046
        vm_run mdadm --create /dev/md0 --run --quiet --chunk=64 --assume-clean --level=5 \
                --metadata=0.90 --size=$((24 * 1024)) --raid-devices=4 $(vm_disks 4)
        md_fast md0
        md_set md0 sync_speed_min $speed
        md_set md0 sync_speed_max $speed
        echo "size_bytes=$(vm_size_bytes /dev/md0)" >"$VM_OUT/array.txt"
        vm_timed vm-pattern fill /dev/md0 $seed
        : >"$stale"
        sync
        vm_log "+ reshaped -v start /dev/md0 --backup-file $backup --chunk 128K --max-window 4M"
        { reshaped -v start /dev/md0 --backup-file "$backup" --chunk 128K --max-window 4M 2>&1
          echo "exit status $?" >"$VM_OUT/start.status"; } |
                while IFS= read -r line; do echo "[$(vm_now)] $line"; done >"$VM_OUT/start.log" &

        # Past the first windows, keep a copy of the backup; wait, reading
        # sysfs without a fork, until sync_max is raised past the copy's
        # newest section (a window the copy lacks is then durable in the
        # real backup) with the checkpoint still inside the copy's
        # sections, and the kernel's front is beyond them: it is rewriting
        # that window, and a restore from the copy would write nothing of
        # it back. Cut then. A moment missed takes a new copy.
        from=$(($(md_attr md0 component_size) * 2 * data_disks * 15 / 100))
        state=copy armed=no
        copies=0
        while :; do
                if [ -f "$VM_OUT/start.status" ]; then
                        rm -f "$VM_OUT/cut.1.txt" "$VM_OUT/power-cut.1"
                        vm_fail "the reshape ended before a moment to cut ($copies copies): $(cat "$VM_OUT/start.status")"
                fi
                read -r pos </sys/block/md0/md/reshape_position
                case $pos in none) usleep 20000; continue ;; esac
                read_front
                if [ $state = copy ]; then
                        if [ "$front" -ge $from ] && take_copy "$backup" "$stale"; then
                                set -- $(sections_span "$stale")
                                copy_lo=$1 copy_end=$2 state=wait
                                copies=$((copies + 1))
                        fi
                        usleep 10000
                        continue
                fi
                read -r sync_max </sys/block/md0/md/sync_max
                if [ "$sync_max" = max ]; then
                        rm -f "$VM_OUT/cut.1.txt" "$VM_OUT/power-cut.1"
                        vm_fail "sync_max is max before the reshape's end"
                fi
                if [ "$pos" -gt $copy_end ] || [ "$pos" -lt $copy_lo ]; then
                        [ $armed = yes ] && rm -f "$VM_OUT/cut.1.txt" "$VM_OUT/power-cut.1"
                        armed=no state=copy
                        continue
                fi
                if [ $((sync_max * data_disks)) -le $copy_end ]; then
                        usleep 2000
                        continue
                fi
                # The files the runner and boot 2 need are written now, not
                # at the cut: writes to $VM_OUT are slow, the moment short.
                if [ $armed = no ]; then
                        echo "boot 1: cut once the kernel's front passes the copy's sections ($copy_lo-$copy_end) with the checkpoint at $pos, sync_max $sync_max (array sector $((sync_max * data_disks))); copy $copies" \
                                >"$VM_OUT/cut.1.txt"
                        : >"$VM_OUT/power-cut.1"
                        armed=yes
                fi
                [ "$front" -gt $copy_end ] || continue
                read -r pos2 </sys/block/md0/md/reshape_position
                [ "$pos2" = "$pos" ] || continue
                echo "@@vm: power-cut@@" >/dev/kmsg
                echo b >/proc/sysrq-trigger
                sleep 60
                vm_fail "still running after the power cut"
        done
        ;;
2)
        cat "$VM_OUT/cut.1.txt" || vm_fail "boot 1 left no record of its cut"
        grep -q 'sync_max max' "$VM_OUT/cut.1.txt" && vm_fail "the kernel ran with sync_max=max at the cut"
        echo "--- the daemon's last lines before the cut:"
        tail -n 4 "$VM_OUT/start.log"
        echo "---"
        pos=$(mdadm --examine "$(vm_disk 0)" | sed -n "s/^ *Reshape pos'n : \([0-9]*\).*/\1/p")
        pos=$((pos * 2))
        vm_log "on disk: reshape position array sector $pos"
        reshaped inspect "$backup" || vm_fail "reshaped inspect $backup: exit status $?"
        gen_cut=$(generation_of "$backup")
        vm_log "the stale copy verifies on its own:"
        reshaped inspect "$stale" || vm_fail "reshaped inspect $stale: exit status $?"
        ls -l "$RESHAPED_STATE_DIR"
        set -- $(sections_span "$stale")
        if [ "$pos" -ge "$1" ] && [ "$pos" -le "$2" ]; then
                vm_log "the stale copy's sections ($1-$2) hold the checkpoint $pos: restored from it, nothing beyond $2 would be written back, though the kernel rewrote beyond it"
        else
                vm_log "note: the checkpoint $pos moved out of the stale copy's sections ($1-$2) at the cut; the copy is older than the token all the same"
        fi

        mkdir -p "$bad"
        cp "$backup" "$bad/header-bit"
        flip "$bad/header-bit" 49
        cp "$backup" "$bad/data-bit"
        slot=0
        [ "$(hdr_u64 "$backup" 56)" -gt 0 ] || slot=1
        flip "$bad/data-bit" $((4096 + slot * $(hdr_u64 "$backup" 72) * 512 + 1000))
        head -c $(($(stat -c %s "$backup") / 2)) "$backup" >"$bad/truncated"
        : >"$bad/empty"
        head -c 1048576 /dev/urandom >"$bad/random"
        sync

        before=$(sums)
        echo "$before"
        # NAME FILE WANT...: restore from FILE must refuse with each WANT.
        refused() {
                _name=$1 _file=$2
                shift 2
                # shellcheck disable=SC2046
                vm_restore_bg /dev/md0 --backup-file "$_file" $(vm_disks 4)
                vm_wait_restore_end 120
                mv "$VM_OUT/restore.2.log" "$VM_OUT/restore.2-$_name.log"
                rm -f "$VM_OUT/restore.2.status"
                if [ "$restore_status" = "exit status 0" ]; then
                        md_wait_idle md0 120
                        vm-pattern verify /dev/md0 $seed
                        vm_fail "$_name: restore accepted $_file (exit status 0)"
                fi
                for _want in "$@" 'Nothing was changed'; do
                        grep -qF -- "$_want" "$VM_OUT/restore.2-$_name.log" ||
                                vm_fail "$_name: restore did not say: $_want"
                done
                grep -q 'will write back\|assembled' "$VM_OUT/restore.2-$_name.log" &&
                        vm_fail "$_name: restore went past verification"
                _state=$(cat /sys/block/md0/md/array_state 2>/dev/null || echo absent)
                case $_state in absent|clear|inactive) ;; *) vm_fail "$_name: md0 is $_state after the refusal" ;; esac
                grep -q '^md0 : active' /proc/mdstat && vm_fail "$_name: md0 is active after the refusal"
                _after=$(sums)
                [ "$_after" = "$before" ] || vm_fail "$_name: a member changed: $_after"
                vm_log "REFUSED $_name: $restore_status, md0 $_state, members unchanged: $(grep -o 'reshaped: md0: [^.]*' "$VM_OUT/restore.2-$_name.log" | tail -n 1)"
        }
        refused stale "$stale" 'is stale: its generation is' 'stale-generation' 'Find the newest backup' \
                '--ignore-generation-token'
        refused header-bit "$bad/header-bit" 'bad-header-crc' 'Find the right backup file'
        refused data-bit "$bad/data-bit" 'data-crc' 'Find the right backup file'
        refused truncated "$bad/truncated" 'does not verify' 'Find the right backup file'
        refused empty "$bad/empty" 'truncated-header' 'Find the right backup file'
        refused random "$bad/random" 'bad-magic' 'Find the right backup file'
        refused missing "$bad/missing" 'No such file' 'Pass the backup of this reshape with --backup-file'
        refused other-array "$other" 'belong to array' 'pass that array'"'"'s backup with --backup-file'

        # Slow enough to look at the new backup while it is supervised (the
        # supervisor removes it at the end).
        echo $speed >/proc/sys/dev/raid/speed_limit_min
        echo $speed >/proc/sys/dev/raid/speed_limit_max
        t0=$(vm_now)
        # shellcheck disable=SC2046
        vm_restore_bg --max-window 4M /dev/md0 --backup-file "$backup" $(vm_disks 4)
        vm_wait_restore_log 'supervising the reshape from' 60
        # The supervisor's new file goes on from the generations before it,
        # so that no copy of the old one can pass for newer.
        gen_new=$(generation_of "$backup")
        [ "$gen_new" -gt "$gen_cut" ] ||
                vm_fail "the new backup's generation $gen_new is not above the replaced one's ($gen_cut)"
        vm_log "the new backup's generation $gen_new continues from the replaced one's ($gen_cut)"
        md_fast md0
        vm_wait_restore_end 300
        [ "$restore_status" = "exit status 0" ] || vm_fail "reshaped restore ended with $restore_status"
        md_wait_idle md0 60
        vm_log "reshape finished $(vm_since "$t0") s after restore began"
        [ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
        size=$(sed -n 's/^size_bytes=//p' "$VM_OUT/array.txt")
        [ "$(vm_size_bytes /dev/md0)" = "$size" ] || vm_fail "the array size changed: $size -> $(vm_size_bytes /dev/md0)"
        vm_timed vm-pattern verify /dev/md0 $seed
        grep -o 'of which the generation token [0-9.]* ms' "$VM_OUT/start.log" "$VM_OUT/restore.2.log" |
                awk '{ v = $(NF - 1); n++; s += v; if (v > m) m = v } END { if (n) printf "token writes: %d, mean %.2f ms, max %.2f ms\n", n, s / n, m }'
        vm_log "PASS: 8 bad backups refused before anything was written; the right one restored; every byte verified"
        ;;
*)
        vm_fail "unexpected boot $VM_BOOT"
        ;;
esac
