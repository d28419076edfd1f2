# vm: mode=systemd disks=4 size=160M scratch=512M timeout=1800 needs=reshaped install=reshaped raid_speed=1000
# Measurement: a mounted xfs under vm-fswriter while `mdadm --grow
# --chunk=128 --backup-file` runs with md held at 1 MB/s until the
# reshape is supervised, then fast to the end. Runs (RUNS below): drop-in
# (the hand-off to `reshaped supervise`), mdadm (its own forked monitor,
# MDADM_NO_SYSTEMCTL=1), start (`reshaped start`, no hand-off). Each on a
# fresh array, on a machine with reshaped installed (install=reshaped, md
# at 1 MB/s from boot as in live-xfs-crash, where a read-back mismatch was
# seen once in this phase); each run first lets the writer run alone for
# 15 s. Per run the writer's verdict (a read-back MISMATCH is a
# filesystem's data gone wrong while running), xfs_repair -n and the
# manifest. Exits 0 when every run completed, whatever it found.
. "$VM_LIB"
set -u

runs=${RUNS:-"drop-in drop-in drop-in mdadm drop-in drop-in"}
seed=7600
backup=$VM_SCRATCH/md0.backup
table=$VM_OUT/handoff-slow.txt
: >"$table"
vm_wait_booted

i=0
for how in $runs; do
        i=$((i + 1))
        md_fast
        vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
                --metadata=1.2 --size=$((159 * 1024)) --assume-clean $(vm_disks 4)
        md_fast md0
        vm_live_mkfs xfs /dev/md0
        # As live-xfs-crash: the writer's first run on the idle array, its
        # second (reading back what the first wrote) through the reshape.
        vm_live_idle "$seed" 15
        vm_live_writer_start "run$i" "$seed"
        sleep 2
        echo 1000 >/proc/sys/dev/raid/speed_limit_min
        echo 1000 >/proc/sys/dev/raid/speed_limit_max
        t0=$(vm_now)
        case $how in
        drop-in)
                vm_run mdadm --grow /dev/md0 --chunk=128 --backup-file="$backup"
                n=0
                until journalctl -u mdadm-grow-continue@md0.service -o cat | grep -q 'supervising the reshape from'; do
                        n=$((n + 1)); [ $n -lt 600 ] || vm_fail "no take-over"; sleep 0.1
                done ;;
        mdadm)
                MDADM_NO_SYSTEMCTL=1 vm_run mdadm --grow /dev/md0 --chunk=128 --backup-file="$backup"
                sleep 2 ;;
        start)
                reshaped start /dev/md0 --backup-file "$backup" --chunk 128K >"$VM_OUT/start.$i.log" 2>&1 &
                sleep 2 ;;
        esac
        vm_log "run $i ($how): supervised after $(vm_since "$t0") s: $(md_snapshot md0)"
        md_fast md0
        md_wait_idle md0 300
        sleep 3
        : >"/tmp/writer-stop.run$i"
        n=0
        until [ -f "$VM_OUT/writer.run$i.status" ] || [ $n -ge 600 ]; do sleep 0.1; n=$((n + 1)); done
        verdict=$(grep -h 'MISMATCH\|STALL' "$VM_OUT/writer.run$i.txt" | head -n 1)
        [ -n "$verdict" ] || verdict="writer $(cat "$VM_OUT/writer.run$i.status")"
        vm_run umount "$live_mnt"
        if xfs_repair -n /dev/md0 >"$VM_OUT/repair.$i.txt" 2>&1; then fsck=clean; else fsck="xfs_repair -n: $(grep -c . "$VM_OUT/repair.$i.txt") lines"; fi
        vm_run mount -t xfs /dev/md0 "$live_mnt"
        if vm-fswriter verify "$live_mnt/tree" --manifest "$live_mnt/manifest" >"$VM_OUT/verify.$i.txt" 2>&1; then man=ok; else man="$(grep -c MISMATCH "$VM_OUT/verify.$i.txt") files differ"; fi
        echo "run $i $how: $verdict; $fsck; manifest $man" >>"$table"
        vm_log "ROW $(tail -n 1 "$table")"
        vm_run umount "$live_mnt"
        vm_run mdadm --stop /dev/md0
        vm_run mdadm --zero-superblock $(vm_disks 4)
        rm -f "$backup"
        sleep 1
done
cat "$table"
