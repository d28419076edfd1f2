# vm: mode=busybox disks=4 size=128M scratch=512M timeout=1200 needs=reshaped
# Power cuts during a reshape of an array in use: ext4 on raid5 (0.90
# metadata, 4 x 127 MiB), vm-fswriter running, `reshaped start --chunk
# 128K --max-window 8M` with a 240 MiB ballast file filling most of the
# filesystem; the power is cut at 30%. Boot 2: `reshaped
# restore`, the filesystem mounted again (journal replay), every file
# fsynced before the cut verified, the writer running again, a second cut
# at 70%. Boot 3: restore, verify, writer, the reshape finishes. Fails on
# a writer stall (over $live_stall_ms), a failed restore, e2fsck -fn
# findings at the end, or any fsynced file that differs from the
# manifest.
. "$VM_LIB"
set -u

seed=7303
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state
md_fast

if [ "$VM_BOOT" = 1 ]; then
        vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
                --metadata=0.90 --size=$((127 * 1024)) --assume-clean $(vm_disks 4)
        md_fast md0
        vm_live_mkfs ext4 /dev/md0
        vm_live_ballast "$seed" 240
        vm_live_idle "$seed" 15
        vm_live_writer_start boot1 "$seed"
        sleep 2
        vm_log "+ reshaped -v start /dev/md0 --backup-file $backup --chunk 128K --max-window 8M"
        { reshaped -v start /dev/md0 --backup-file "$backup" --chunk 128K --max-window 8M 2>&1
          echo "exit status $?" >"$VM_OUT/start.status"; } </dev/null |
                while IFS= read -r line; do echo "[$(vm_now)] $line"; done >"$VM_OUT/start.log" &
        ( while ! vm_live_stalled boot1; do sleep 0.5; done; vm_live_dump; echo "@@vm: writer-stalled@@" ) &
        vm_power_cut_at md0 30
fi

vm_live_writers_survived
vm_check_cut "$VM_OUT/start.log" "$backup"
# The restored reshape would end while the files are being verified: hold
# it at 1 MB/s until the writer runs again.
echo 1000 >/proc/sys/dev/raid/speed_limit_min
echo 1000 >/proc/sys/dev/raid/speed_limit_max
t0=$(vm_now)
if [ "$VM_BOOT" = 2 ]; then
        vm_restore_bg --max-window 8M /dev/md0
else
        vm_restore_bg --max-window 8M /dev/md0 --backup-file "$backup" $(vm_disks 4)
fi
vm_wait_restore_log 'supervising the reshape from' 60
mkdir -p "$live_mnt"
vm_run mount -t ext4 /dev/md0 "$live_mnt"
vm_live_verify
vm_live_writer_start "boot$VM_BOOT" "$seed"
md_fast md0
if [ "$VM_BOOT" = 2 ]; then
        ( while ! vm_live_stalled boot2; do sleep 0.5; done; vm_live_dump ) &
        vm_power_cut_at md0 70
fi
vm_live_wait_idle md0 300
vm_live_writer_stop "boot$VM_BOOT"
vm_wait_restore_end 60
[ "$restore_status" = "exit status 0" ] || vm_fail "reshaped restore ended with $restore_status"
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
vm_live_check ext4 /dev/md0
vm_live_report "ext4 after two power cuts, restore to the end ($(vm_since "$t0")s)"
vm_log "PASS: two power cuts with ext4 in use: restored, e2fsck clean, every fsynced file verified"
