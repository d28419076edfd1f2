# vm: mode=busybox disks=15 size=256M timeout=900 needs=reshaped
# A power cut under the lost-cache model (lib-logwrites.sh): raid5 (0.90,
# 4 x 39 MiB), chunk 64K -> 128K under `reshaped start`, every member
# (disks 0-3) and the backup disk (disk 4, ext4, which also holds
# reshaped's record) behind dm-log-writes, logs on disks 5-9.
#
# Boot 1 fills the array with the pattern and starts the reshape; from
# 25% md runs at its lowest speed (a window takes the kernel seconds).
# Past 30%, when reshaped next raises sync_max (lets the kernel into a
# window), the backup disk freezes (dm suspend: from then on nothing it
# is sent completes, as on a disk that lost power first); the members run
# on until the kernel is 256 KiB per member into the window, an
# application's fsync of /dev/md0 makes the members' writes so far
# durable, and then the members freeze and the power goes. A supervisor
# that let the kernel in before the window's backup header was durable
# (flushed) loses what the kernel had rewritten of it.
#
# Boot 2 rebuilds each disk from its log up to its last flush onto disks
# 10-14 (vm-logwrites-replay) and recovers that array: `reshaped restore`
# with the replayed backup, supervised to the end, every byte compared
# with the pattern. Then it recovers the original disks the same way:
# they hold every write they had accepted, today's model at the same
# instant. Both must verify.
. "$VM_LIB"
set -u

seed=5151
members="lw-m0 lw-m1 lw-m2 lw-m3"

# lost_cache_recover MODEL MOUNT BACKUP_DEV MEMBER...: mounts BACKUP_DEV,
# restores /dev/md0 from MEMBERs with the backup on it, waits for the end
# and verifies; prints "MODEL: ..." result lines, which also go to
# $VM_OUT/result.MODEL.txt; sets ok_MODEL to 1 when everything passed.
# When restore refuses, it measures what is lost: mdadm --assemble
# --invalid-backup, the reshape to its end, verify.
lost_cache_recover() {
        _model=$1 _mnt=$2 _bdev=$3
        shift 3
        _res=$VM_OUT/result.$_model.txt
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
        if [ -e /sys/block/md0/md ]; then
                md_wait_idle md0 120
                echo "$_model: chunk_size=$(md_attr md0 chunk_size)" | tee -a "$_res"
                vm-pattern verify /dev/md0 $seed 2>&1 | sed "s/^/$_model: /" | tee -a "$_res"
                vm_run mdadm --stop /dev/md0
        else
                # What refusing saved: the array as mdadm would start it
                # without a usable backup, finished and compared.
                echo "$_model: no array after restore; counting the loss with mdadm --assemble --invalid-backup" |
                        tee -a "$_res"
                MDADM_NO_SYSTEMCTL=1 MDADM_GROW_ALLOW_OLD=1 mdadm --assemble /dev/md0 --invalid-backup \
                        --backup-file="$_mnt/md0.backup" "$@" 2>&1
                mdadm --readwrite /dev/md0 2>/dev/null
                md_fast md0
                ( md_wait_idle md0 120 ) && vm-pattern verify /dev/md0 $seed 2>&1 | sed "s/^/$_model: (invalid backup) /" |
                        tee -a "$_res"
                mdadm --stop /dev/md0
        fi
        vm_run umount "$_mnt"
        grep -q "^$_model: reshaped restore: exit status 0$" "$_res" &&
                grep -q "^$_model: chunk_size=131072$" "$_res" &&
                grep -q "^$_model: verify: .* ok bytes=$(sed -n 's/^size_bytes=//p' "$VM_OUT/array.txt") " "$_res" &&
                eval "ok_$_model=1"
}

# wait_front PERCENT: until md0's reshape front reaches PERCENT.
wait_front() {
        _want=$(($(md_attr md0 component_size) * $1 / 100))
        _n=0
        until set -- $(md_reshape_front md0) x x x; [ "$1" != x ] && [ "$2" -ge "$_want" ]; do
                _n=$((_n + 1))
                [ $_n -lt 3000 ] || vm_fail "the reshape did not reach $_want KiB in 150 s: $(md_snapshot md0)"
                sleep 0.05
        done
}

md_fast
case $VM_BOOT in
1)
        for i in 0 1 2 3; do
                lw_wrap "lw-m$i" "$(vm_disk $i)" "$(vm_disk $((i + 5)))"
        done
        lw_wrap lw-bk "$(vm_disk 4)" "$(vm_disk 9)"
        vm_run /usr/sbin/mke2fs -q -F -t ext4 /dev/mapper/lw-bk
        mkdir -p /mnt/bk
        vm_run mount -t ext4 /dev/mapper/lw-bk /mnt/bk
        export RESHAPED_STATE_DIR=/mnt/bk/state
        backup=/mnt/bk/md0.backup
        # shellcheck disable=SC2046
        vm_run mdadm --create /dev/md0 --run --quiet --chunk=64 --assume-clean --level=5 \
                --metadata=0.90 --size=$((39 * 1024)) --raid-devices=4 $(for m in $members; do echo /dev/mapper/$m; done)
        md_fast md0
        echo "size_bytes=$(vm_size_bytes /dev/md0)" >"$VM_OUT/array.txt"
        vm_timed vm-pattern fill /dev/md0 $seed
        vm_run sync
        vm_log "logs after the fill: $(for m in $members lw-bk; do printf '%s: %s; ' $m "$(lw_status $m)"; done)"
        vm_log "+ reshaped -v start /dev/md0 --backup-file $backup --chunk 128K --max-window 8M"
        { reshaped -v start /dev/md0 --backup-file "$backup" --chunk 128K --max-window 8M 2>&1
          echo "exit status $?" >"$VM_OUT/start.status"; } |
                while IFS= read -r line; do echo "[$(vm_now)] $line"; done >"$VM_OUT/start.log" &

        # md's slowest speed from 25% on: a window then takes the kernel
        # seconds, and the cut lands inside one. (md measures its speed
        # over the last seconds, so it first stands still a while.)
        wait_front 25
        md_set md0 sync_speed_min 1000
        md_set md0 sync_speed_max 1000
        wait_front 30
        # The instant: reshaped raises sync_max into the next window (the
        # kernel may now overwrite it: its backup header must be durable).
        sm0=$(md_attr md0 sync_max)
        n=0
        until sm=$(md_attr md0 sync_max); [ "$sm" != "$sm0" ]; do
                n=$((n + 1))
                [ $n -lt 3000 ] || vm_fail "sync_max stayed at $sm0 for 30 s: $(md_snapshot md0)"
                sleep 0.01
        done
        lw_freeze lw-bk
        at_freeze=$(md_snapshot md0)
        vm_log "backup disk frozen when sync_max rose from $sm0: $at_freeze"
        [ "$sm" = max ] && vm_fail "sync_max went to max"
        # Until the kernel is 256 KiB per member into the new window (10 s
        # at most).
        n=0
        until front=$(md_reshape_front md0 | cut -d ' ' -f 2); [ -n "$front" ] && [ "$front" -gt $((sm0 / 2 + 256)) ]; do
                n=$((n + 1))
                [ $n -lt 1000 ] || break
                sleep 0.01
        done
        vm_log "front at ${front:-?} KiB per member (the window began at $((sm0 / 2))); fsync of /dev/md0"
        vm_run sync /dev/md0
        lw_cut "backup disk frozen at: $at_freeze" $members lw-bk
        ;;
2)
        cat "$VM_OUT/cut.1.txt"
        echo "--- the daemon's last lines before the cut:"
        tail -n 8 "$VM_OUT/start.log"
        echo "---"
        for i in 0 1 2 3 4; do
                lw_replay "$(vm_disk $((i + 5)))" "$(vm_disk $((i + 10)))"
        done
        ok_lost_cache=0 ok_writeback=0
        # shellcheck disable=SC2046
        lost_cache_recover lost_cache /mnt/lc "$(vm_disk 14)" $(vm_disk 10) $(vm_disk 11) $(vm_disk 12) $(vm_disk 13)
        # shellcheck disable=SC2046
        lost_cache_recover writeback /mnt/wb "$(vm_disk 4)" $(vm_disks 4)
        cat "$VM_OUT/result.lost_cache.txt" "$VM_OUT/result.writeback.txt"
        [ $ok_lost_cache = 1 ] || vm_fail "under the lost-cache model the array did not come back whole"
        [ $ok_writeback = 1 ] || vm_fail "with every accepted write kept the array did not come back whole"
        vm_log "PASS: lost-cache and writeback models at the same cut: restore exits 0, chunk 128K, every byte verified"
        ;;
esac
