# vm: mode=systemd disks=4 size=320M scratch=512M timeout=1200 needs=reshaped install=reshaped raid_speed=1000
# Power cuts during a reshape of an array in use, on a machine with
# reshaped installed, recovered by the boot path alone. Boot 1: xfs on
# raid5 (1.2 metadata, 4 x 319 MiB, chunk 64K), vm-fswriter running,
# `mdadm --grow --chunk=128 --backup-file` handed to `reshaped supervise`
# by the shipped drop-in, a 640 MiB ballast file filling most of the
# filesystem, the power cut just after a sync_max raise past 40%. Boot 2:
# no one types for the array: reshaped-recover.service restores and
# supervises it (md held at 1 MB/s from boot by raid_speed); the scenario
# mounts xfs (log replay), verifies every file fsynced before the cut,
# runs the writer again and cuts the power a second time, past 75%. Boot
# 3: the same recovery, verification and writer, to the end of the
# reshape, then the ballast verified. Fails on a writer stall over
# $live_stall_ms or a read-back mismatch, a recovery that fails or writes
# the array back out of order, xfs_repair -n findings at the end, a
# fsynced file or a ballast byte that differs, or a record left behind.
. "$VM_LIB"
set -u

seed=7313
# Each cut comes 1 s after the supervisor let the kernel into a window,
# with md slowed to 8 MB/s just before (slower, a write into the held
# window would wait longer than the writer's stall limit). The kernel
# tends to have checkpointed where it stands by then: this scenario
# proves recovery at boot with a filesystem in use, not the write-back
# of torn rows (the fake-kernel restore tests do: a build that skips the
# write-back fails them).
export VM_CUT_RAISE_DELAY=1 LW_SLOW_KIB=8000
backup=$VM_SCRATCH/md0.backup
unit=reshaped-recover.service

vm_wait_booted
# On a failure: what the recovery did and what everyone waits on.
trap '[ $? = 0 ] || { journalctl -b --no-pager -o short-monotonic -u "$unit" | tail -n 40; vm_live_dump; }' EXIT

# The writer of this boot, with a watcher that shows what everyone waits
# on when it stalls.
writer() {
        vm_live_writer_start "boot$VM_BOOT" "$seed"
        ( while ! vm_live_stalled "boot$VM_BOOT"; do sleep 0.5; done; vm_live_dump ) &
        watcher=$!
}

if [ "$VM_BOOT" = 1 ]; then
        md_fast
        vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
                --metadata=1.2 --size=$((319 * 1024)) --assume-clean $(vm_disks 4)
        md_fast md0
        vm_live_mkfs xfs /dev/md0
        vm_live_ballast "$seed" 640
        vm_live_idle "$seed" 15
        writer
        sleep 2
        # Held at 1 MB/s until the supervisor has the reshape.
        echo 1000 >/proc/sys/dev/raid/speed_limit_min
        echo 1000 >/proc/sys/dev/raid/speed_limit_max
        vm_run mdadm --grow /dev/md0 --chunk=128 --backup-file="$backup"
        n=0
        until journalctl -u mdadm-grow-continue@md0.service -o cat | grep -q 'supervising the reshape from'; do
                n=$((n + 1))
                [ $n -lt 600 ] || vm_fail "mdadm-grow-continue@md0 logged no take-over in 60 s"
                sleep 0.1
        done
        md_fast md0
        vm_power_cut_at md0 raise:40
fi

vm_live_writers_survived
cat "$VM_OUT/cut.$((VM_BOOT - 1)).txt"
vm_log "no one types for md0; waiting for $unit to resume the reshape"
# For whoever watches the run from the host: md's state and the recovery's
# last lines every 10 s.
( while :; do
        { md_snapshot md0; journalctl -b --no-pager -o cat -u "$unit" | tail -n 3; } >>"$VM_OUT/watch.$VM_BOOT.txt" 2>&1
        sleep 10
  done ) &
n=0
until journalctl -b -u "$unit" -o cat | grep -q 'supervising the reshape from'; do
        state=$(systemctl show -P ActiveState "$unit")
        if [ "$state" = failed ] || [ $n -ge 1200 ]; then
                journalctl -b --no-pager -o short-monotonic -u "$unit"
                vm_fail "$unit did not resume the reshape ($state after $((n / 10)) s)"
        fi
        n=$((n + 1))
        sleep 0.1
done
journalctl -b -u "$unit" -o cat >"$VM_OUT/recover.$VM_BOOT.txt"
vm_recovery_in_order "$VM_OUT/recover.$VM_BOOT.txt"
vm_log "$unit resumed the reshape: $(md_snapshot md0)"

mkdir -p "$live_mnt"
vm_run mount -t xfs /dev/md0 "$live_mnt"
vm_live_verify
writer
md_fast md0
if [ "$VM_BOOT" = 2 ]; then
        vm_power_cut_at md0 raise:75
fi

vm_live_wait_idle md0 300
vm_live_writer_stop "boot$VM_BOOT"
kill "$watcher"
vm_unit_ended_ok "$unit" 30
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
vm_live_check xfs /dev/md0
[ -z "$(ls -A /var/lib/reshaped)" ] || vm_fail "records left in /var/lib/reshaped: $(ls -A /var/lib/reshaped)"
[ ! -e "$backup" ] || vm_fail "the backup $backup is left after the reshape"
vm_live_report "xfs after two power cuts, each recovered at boot"
vm_log "PASS: two power cuts with xfs in use, each recovered at boot by $unit: xfs_repair clean, every fsynced file verified"
