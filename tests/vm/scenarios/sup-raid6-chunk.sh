# vm: mode=busybox disks=5 size=256M scratch=1G timeout=900 needs=reshaped
# reshaped start on raid6 (1.2 metadata, 5 x 200 MiB), chunk 64K -> 128K:
# the reshape finishes with the new chunk, every byte of the array matches
# the pattern, and neither the probe nor vm_probe_risk sees a moment at
# which the kernel could rewrite data no backup section held.
. "$VM_LIB"
set -u

seed=5202
backup=$VM_SCRATCH/md0.backup
# The busybox guest has no /var/lib.
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

md_fast
# 200 MiB members: a multiple of the new chunk, as md requires.
vm_run mdadm --create /dev/md0 --run --quiet --level=6 --raid-devices=5 --chunk=64 \
        --metadata=1.2 --size=$((200 * 1024)) --assume-clean $(vm_disks 5)
md_fast md0
size=$(vm_size_bytes /dev/md0)
vm_timed vm-pattern fill /dev/md0 "$seed"
sync

vm_probed_start "$backup" --chunk 128K

[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
[ "$(md_attr md0 level)" = raid6 ] || vm_fail "level is $(md_attr md0 level), not raid6"
[ "$(vm_size_bytes /dev/md0)" = "$size" ] || vm_fail "the array size changed: $size -> $(vm_size_bytes /dev/md0)"
vm_timed vm-pattern verify /dev/md0 "$seed"

vm_probed_protected
vm_log "PASS: raid6 chunk change verified ($size bytes); reshape wall ${wall}s, probe lag_max 0, stall $stall"
