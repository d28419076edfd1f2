# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# supervise-mdadm-stop, continued the way mdadm's users do (issue 11, item
# 3): after `mdadm --stop` mid-reshape, `mdadm --assemble --backup-file`
# must accept the backup reshaped left, and hand the reshape back to
# reshaped (mdadm-grow-continue@ with the drop-in). The stop must succeed within 2 s (reshaped
# holds /dev/md0 open only while it reads) and reshaped leave with exit 3;
# the array assembled by mdadm with the backup must finish under reshaped
# with every byte matching.
. "$VM_LIB"
set -u

seed=7013
backup=$VM_SCRATCH/md0.backup
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

vm_supervised_mdadm_stop "$seed" "$backup"

vm_systemctl_runs_reshaped -v
# shellcheck disable=SC2046
vm_run mdadm --assemble /dev/md0 --backup-file="$backup" $(vm_disks 4)
n=0
until [ -f "$VM_OUT/supervise.1.status" ]; do
        n=$((n + 1))
        [ $n -lt 3000 ] || vm_fail "the supervisor mdadm handed the reshape to did not end in 300 s: $(tail -n 5 "$VM_OUT/supervise.1.log")"
        sleep 0.1
done
cat "$VM_OUT/systemctl.1.log"
tail -n 5 "$VM_OUT/supervise.1.log"
[ "$(cat "$VM_OUT/supervise.1.status")" = "exit status 0" ] ||
        vm_fail "the supervisor after mdadm --assemble ended with $(cat "$VM_OUT/supervise.1.status")"
md_wait_idle md0 300
[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
VM_MATRIX="raid5 on 4, start --chunk 128K|1.2|mdadm --stop at 25%|25%|reshaped|mdadm --assemble --backup-file, reshaped supervise"
vm_matrix_verify $seed
vm_log "PASS: after mdadm --stop, mdadm --assemble --backup-file took reshaped's backup and reshaped finished; every byte verified"
