# vm: mode=systemd disks=4 size=256M scratch=1G timeout=900 needs=reshaped
# mdadm's systemd hand-off of a layout change: raid5 (0.90 metadata, 4 x
# 255 MiB, chunk 64K, left-symmetric), `mdadm --grow
# --layout=right-asymmetric --backup-file`, routed by the drop-in to
# `reshaped supervise` (vm_handoff checks the service and the journal).
# Passes when the layout is right-asymmetric, every byte matches the
# pattern, and from the take-over on the kernel never ran beyond the
# backup (vm_probe_risk).
. "$VM_LIB"
set -u

seed=5343
backup=$VM_SCRATCH/md0.backup

vm_wait_booted
vm_array_filled 5 4 64 "$seed"
[ "$(md_attr md0 layout)" = 2 ] || vm_fail "layout is $(md_attr md0 layout), not 2 (left-symmetric)"

vm_handoff fast md0 "$backup" --layout=right-asymmetric

[ "$(md_attr md0 layout)" = 1 ] || vm_fail "layout is $(md_attr md0 layout), not 1 (right-asymmetric)"
vm_takeover_verify "hand-off layout change" "$seed" 0
