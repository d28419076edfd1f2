# vm: mode=busybox disks=4 size=256M scratch=1G timeout=900 needs=reshaped
# reshaped start on raid5 (0.90 metadata, 4 x 255 MiB, chunk 64K), layout
# left-symmetric -> right-asymmetric: the reshape finishes with the new
# layout, every byte of the array matches the pattern, and neither the
# probe nor the critical-unit re-reading of its CSV (vm_probe_risk) sees a
# moment at which the kernel could rewrite data no backup section held.
. "$VM_LIB"
set -u

seed=5101
backup=$VM_SCRATCH/md0.backup
# The busybox guest has no /var/lib.
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

md_fast
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
        --layout=left-symmetric --metadata=0.90 --size=$((255 * 1024)) --assume-clean $(vm_disks 4)
md_fast md0
[ "$(md_attr md0 layout)" = 2 ] || vm_fail "layout is $(md_attr md0 layout), not 2 (left-symmetric)"
size=$(vm_size_bytes /dev/md0)
vm_timed vm-pattern fill /dev/md0 "$seed"
sync

vm_probed_start "$backup" --layout right-asymmetric

[ "$(md_attr md0 layout)" = 1 ] || vm_fail "layout is $(md_attr md0 layout), not 1 (right-asymmetric)"
[ "$(vm_size_bytes /dev/md0)" = "$size" ] || vm_fail "the array size changed: $size -> $(vm_size_bytes /dev/md0)"
vm_timed vm-pattern verify /dev/md0 "$seed"

vm_probed_protected
vm_log "PASS: layout change verified ($size bytes); reshape wall ${wall}s, probe lag_max 0, stall $stall"
