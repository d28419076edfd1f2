# vm: mode=systemd disks=4 size=256M scratch=1G timeout=900 needs=reshaped
# mdadm's systemd hand-off runs reshaped: with the shipped drop-in
# installed, `mdadm --grow --chunk=128 --backup-file` on a raid5 (0.90
# metadata, 4 x 255 MiB, chunk 64K) runs `systemctl restart
# mdadm-grow-continue@md0.service`, which now runs `reshaped supervise
# /dev/md0` (vm_handoff checks the drop-in, that mdadm forked no monitor,
# the service's success and the journal's structured messages). Passes
# when every byte of the array matches the pattern and from the take-over
# on the kernel never ran beyond the backup (vm_probe_risk).
. "$VM_LIB"
set -u

seed=5303
backup=$VM_SCRATCH/md0.backup

vm_wait_booted
vm_array_filled 5 4 64 "$seed"

vm_handoff fast md0 "$backup" --chunk=128

[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
[ "$(vm_size_bytes /dev/md0)" = "$size" ] || vm_fail "the array size changed: $size -> $(vm_size_bytes /dev/md0)"
vm_takeover_verify "hand-off chunk change" "$seed" 0
