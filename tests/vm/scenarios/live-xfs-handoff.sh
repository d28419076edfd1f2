# vm: mode=systemd disks=4 size=160M scratch=512M timeout=900 needs=reshaped
# A layout change of an array in use, handed from mdadm to reshaped: xfs
# mounted on raid5 (0.90 metadata, 4 x 159 MiB, chunk 64K, left-symmetric),
# vm-fswriter writing throughout, `mdadm --grow --layout=right-asymmetric
# --backup-file` routed by the shipped drop-in to `reshaped supervise`
# (vm_live_handoff); a same-size reshape, so every window is backed up (a
# grow backs up only its first units, too few to meet the filesystem).
# Fails when any operation of the writer blocks longer than
# $live_stall_ms, when the kernel overwrote critical data no backup held
# after the take-over, when xfs_repair -n finds anything or a fsynced file
# differs from the manifest. Reports the writer's throughput during the
# reshape against the idle array's.
. "$VM_LIB"
set -u

vm_live_handoff xfs 4 "--level=5 --metadata=0.90 --size=$((159 * 1024))" 0 7202 \
        "--layout=right-asymmetric" "layout=1" "mdadm --grow --layout=right-asymmetric"
