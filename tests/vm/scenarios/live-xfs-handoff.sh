# vm: mode=systemd disks=4 size=160M scratch=512M timeout=900 needs=reshaped
# A layout change of an array in use, handed from mdadm to reshaped: xfs
# mounted on raid5 (0.90 metadata, 4 x 159 MiB, chunk 64K, left-symmetric),
# vm-fswriter writing throughout, `mdadm --grow --layout=right-asymmetric
# --backup-file` routed by the shipped drop-in to `reshaped supervise`
# (vm_handoff); a same-size reshape, so every window is backed up (a grow
# backs up only its first units, too few to meet the filesystem). Fails when
# any operation of the writer blocks longer than $live_stall_ms, when the
# kernel overwrote critical data no backup held after the take-over
# (vm_probe_risk), when xfs_repair -n finds anything or a fsynced file
# differs from the manifest. Reports the writer's throughput during the
# reshape against the idle array's.
. "$VM_LIB"
set -u

seed=7202
backup=$VM_SCRATCH/md0.backup

vm_wait_booted
md_fast
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
        --metadata=0.90 --size=$((159 * 1024)) --assume-clean $(vm_disks 4)
md_fast md0
size=$(vm_size_bytes /dev/md0)
vm_live_mkfs xfs /dev/md0
vm_live_idle "$seed" 20

vm_live_writer_start reshape "$seed"
# A hand-off that deadlocks ends in vm_handoff's bounded wait: show the writer then.
trap '[ $? = 0 ] || vm_live_dump' EXIT
sleep 2
vm_handoff fast md0 "$backup" --layout=right-asymmetric
vm_live_stalled reshape && vm_fail "the writer stalled: $(grep STALL "$VM_OUT/writer.reshape.txt" | head -n 1)"
vm_live_writer_stop reshape
trap - EXIT

[ "$(md_attr md0 layout)" = 1 ] || vm_fail "layout is $(md_attr md0 layout), not 1 (right-asymmetric)"
# The take-over freezes the reshape and restarts it with sync_max one
# unit past a checkpoint of 0; a kernel that had begun reports its front
# and parks there at once, but the probe cannot tell that sample from an
# unbegun kernel let into the unit. Count from the first report of the
# front after the freeze (the rows before are mdadm's unprotected run).
row=$(awk -F, 'NR > 1 && $2 == "frozen" { f = 1 } f && $2 == "reshape" && $3 ~ /^[1-9]/ { print NR - 1; exit }' "$VM_OUT/probe.csv")
[ -n "$row" ] || vm_fail "the probe saw no take-over (no freeze followed by a reported front)"
_risk=$(vm_probe_risk md0 "$VM_OUT/probe.csv" "$VM_OUT/probe.txt" "$size" "@$row")
ok=$?
echo "$_risk"
[ $ok = 0 ] || vm_fail "after the take-over the kernel could overwrite data no backup held"

vm_live_check xfs /dev/md0
vm_live_report "xfs, mdadm --grow --layout handed to reshaped supervise (${takeover_wall}s)"
vm_log "PASS: xfs in use through the layout hand-off: no stall over ${live_stall_ms} ms, xfs_repair clean, manifest verified"
