# vm: mode=busybox disks=4 size=128M timeout=900 needs=reshaped
# `reshaped start --chunk 128K` without --backup-file on a raid5 with 1.2
# metadata and room before the data (4 x 128 MiB, chunk 64K): start moves
# data_offset down on every member and paces the kernel with no backup,
# since md writes the new layout beside the old and checkpoints before it
# could overwrite anything still needed.
#
# First the refusals, each leaving the array as it was: the same array
# with 0.90 metadata, and with 1.2 but its data right after the
# superblock (no room): both say that --backup-file is needed.
#
# Asserts: start says it moves data_offset and that no backup file is
# needed, paces (sync_max is a number while the kernel runs: at least 6
# raises at the halfway checkpoints, no lock-step fallback, the kernel
# waited at the limit under half the time: the windows are small, at most
# the move less two units, since md started live checkpoints as in place), `reshaped status` says
# nothing is at risk while it runs, the reshape ends with the new chunk
# and every member's data_offset moved by what start said, no backup file
# or record is left, and every byte matches the pattern.
. "$VM_LIB"
set -u

seed=7101
log=$VM_OUT/start.txt
# The busybox guest has no /var/lib.
export RESHAPED_STATE_DIR=/tmp/reshaped-state

# Expects `reshaped start` on array $1 (metadata name) to refuse with exit
# 2, a message matching $2 that names --backup-file, and nothing changed.
refused() {
        reshaped start /dev/md0 --chunk 128K >"$VM_OUT/refused-$1.txt" 2>&1
        st=$?
        cat "$VM_OUT/refused-$1.txt"
        [ "$st" = 2 ] || vm_fail "$1: reshaped start exit status $st, not 2"
        grep -q "$2" "$VM_OUT/refused-$1.txt" && grep -q -- '--backup-file FILE' "$VM_OUT/refused-$1.txt" ||
                vm_fail "$1: the refusal does not say '$2' and that --backup-file is needed"
        [ "$(md_attr md0 chunk_size)" = 65536 ] && [ "$(md_attr md0 reshape_position)" = none ] ||
                vm_fail "$1: the refused start changed the array"
        for d in $VM_DISKS; do
                [ "$(md_attr md0 "dev-${d#/dev/}/new_offset")" = "$(md_attr md0 "dev-${d#/dev/}/offset")" ] ||
                        vm_fail "$1: the refused start left a new_offset on $d"
        done
        vm_run mdadm --stop /dev/md0
        vm_run mdadm --zero-superblock $VM_DISKS
        vm_log "PASS refused $1"
}

md_fast
# Both sized to a whole number of 128K chunks, which start checks first.
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
        --metadata=0.90 --size=$((127 * 1024)) --assume-clean $VM_DISKS
refused 0.90 '0.90 metadata, which cannot move its data'
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
        --metadata=1.2 --data-offset=128K --assume-clean $VM_DISKS
refused no-room 'cannot move data_offset: not enough room'

vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
        --metadata=1.2 --assume-clean $VM_DISKS
md_fast md0
size=$(vm_size_bytes /dev/md0)
before=""
for d in $VM_DISKS; do before="$before $(md_attr md0 "dev-${d#/dev/}/offset")"; done
vm_log "data_offset before:$before; member size $(md_attr md0 "dev-$(basename "$(vm_disk 0)")/size") KiB, component $(md_attr md0 component_size) KiB"
vm_timed vm-pattern fill /dev/md0 "$seed"
sync

# While the reshape runs: paced, moving, and not at risk by status.
(
        i=0
        until [ "$(md_attr md0 sync_action)" = reshape ] && [ "$(md_attr md0 sync_max)" != max ]; do
                i=$((i + 1)) && [ $i -lt 600 ] && sleep 0.1 || exit 0
        done
        sleep 1
        d=$(basename "$(vm_disk 0)")
        echo "during: sync_max=$(md_attr md0 sync_max) offset=$(md_attr md0 dev-$d/offset) new_offset=$(md_attr md0 dev-$d/new_offset) direction=$(md_attr md0 reshape_direction)" >"$VM_OUT/during.txt"
        reshaped status md0 >"$VM_OUT/status.txt" 2>&1; echo "exit=$?" >>"$VM_OUT/status.txt"
) &
status_job=$!
vm-probe --md md0 --csv "$VM_OUT/probe.csv" >"$VM_OUT/probe.txt" 2>&1 &
probe=$!
t0=$(vm_now)
reshaped -v start /dev/md0 --chunk 128K --max-window 16M >"$log" 2>&1
st=$?
wall=$(vm_since "$t0")
wait $status_job
if [ "$st" != 0 ]; then
        # The probe waits for the end of a reshape that may never come.
        kill $probe
        cat "$log"
        vm_fail "reshaped start exit status $st"
fi
wait $probe || vm_fail "probe failed: $(cat "$VM_OUT/probe.txt")"
grep -v ': set-sync-max \|: release \|^\[' "$log"
cat "$VM_OUT/probe.txt" "$VM_OUT/during.txt" "$VM_OUT/status.txt"
md_wait_idle md0 60

moved=$(sed -n 's/.*moving data_offset down by \([0-9]*\) sectors.*/\1/p' "$log")
[ -n "$moved" ] || vm_fail "start did not say it moves data_offset down"
grep -q 'No backup file is needed' "$log" || vm_fail "supervise did not say it paces without a backup"
grep -q 'lock-step' "$log" && vm_fail "the kernel fell back to lock-step"
grep -q 'during: sync_max=[0-9]' "$VM_OUT/during.txt" || vm_fail "sync_max was not a number while the kernel ran"
grep -q 'direction=forwards' "$VM_OUT/during.txt" || vm_fail "the reshape did not run forwards"
grep -q 'State: *NOT AT RISK\|State: *NOT_AT_RISK\|nothing is at risk' "$VM_OUT/status.txt" ||
        vm_fail "reshaped status did not say nothing is at risk"
raises=$(grep -c ': set-sync-max ' "$log")
[ "$raises" -ge 6 ] || vm_fail "only $raises sync_max raises: the reshape was not paced in windows"
waited=$(sed -n 's/.*the kernel waited at the limit \([0-9.]*\)% of the time.*/\1/p' "$log")
[ -n "$waited" ] || vm_fail "no finish line with the time the kernel waited"
awk -v w="$waited" 'BEGIN { exit !(w < 50) }' || vm_fail "the kernel waited at the limit $waited% of the time"

[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
[ "$(vm_size_bytes /dev/md0)" = "$size" ] || vm_fail "the array size changed: $size -> $(vm_size_bytes /dev/md0)"
i=0
for d in $VM_DISKS; do
        i=$((i + 1))
        old=$(echo $before | cut -d' ' -f$i)
        now=$(md_attr md0 "dev-${d#/dev/}/offset")
        [ "$now" = $((old - moved)) ] || vm_fail "$d: data_offset $old -> $now, not $((old - moved))"
done
[ -z "$(ls -A "$RESHAPED_STATE_DIR" 2>/dev/null)" ] || vm_fail "a record was left: $(ls -A "$RESHAPED_STATE_DIR")"
vm_timed vm-pattern verify /dev/md0 "$seed"
vm_log "PASS: offset path: data_offset down $moved sectors, $raises raises, kernel waited $waited% at the limit, wall ${wall}s, every byte ($size) verified"
