# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# `mdadm --stop` of an array reshaped supervises (issue 11, item 1): a
# raid5 (1.2, 4 x 127 MiB) chunk change under `reshaped start`, stopped
# with mdadm at a quarter. The stop must succeed within 2 s (reshaped
# holds /dev/md0 open only while it reads), reshaped must leave on its own
# within 2 s more, exit 3 (stopped, held safely) and say how to continue,
# the backup verified, and the array, assembled again with `reshaped
# restore`, must finish with every byte matching.
. "$VM_LIB"
set -u

seed=7011
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

vm_supervised_mdadm_stop "$seed" "$backup"

# shellcheck disable=SC2046
vm_timed reshaped restore /dev/md0 --backup-file "$backup" $(vm_disks 4)
md_wait_idle md0 300
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
VM_MATRIX="raid5 on 4, start --chunk 128K|1.2|mdadm --stop at 25%|25%|reshaped|reshaped restore"
vm_matrix_verify $seed
vm_log "PASS: mdadm --stop stopped a supervised reshape within 2 s, reshaped left, restore finished it; every byte verified"
