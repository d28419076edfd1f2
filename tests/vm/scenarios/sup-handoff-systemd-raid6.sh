# vm: mode=systemd disks=5 size=256M scratch=1G timeout=900 needs=reshaped
# mdadm's systemd hand-off of a raid6 chunk change: raid6 (0.90 metadata,
# 5 x 255 MiB, chunk 64K), `mdadm --grow --chunk=128 --backup-file`,
# routed by the drop-in to `reshaped supervise` (vm_handoff checks the
# service and the journal). Passes when the chunk is 128K, every byte
# matches the pattern, and from the take-over on the kernel never ran
# beyond the backup (vm_probe_risk).
. "$VM_LIB"
set -u

seed=5363
backup=$VM_SCRATCH/md0.backup

vm_wait_booted
vm_array_filled 6 5 64 "$seed"

vm_handoff fast md0 "$backup" --chunk=128

[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
[ "$(vm_size_bytes /dev/md0)" = "$size" ] || vm_fail "the array size changed: $size -> $(vm_size_bytes /dev/md0)"
vm_takeover_verify "hand-off raid6 chunk change" "$seed" 0
