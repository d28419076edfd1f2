# vm: mode=systemd disks=5 size=160M scratch=512M timeout=900 needs=reshaped
# A level change of an array in use, handed from mdadm to reshaped: xfs
# mounted on raid5 (1.2 metadata, 4 x 159 MiB, chunk 64K) plus a spare,
# vm-fswriter writing throughout, `mdadm --grow --level=6 --raid-devices=5
# --backup-file`: mdadm makes it a raid6 whose Q is all on the new disk,
# then hands the reshape to the normal raid6 layout (same 3 data disks) to
# `reshaped supervise` through the shipped drop-in (vm_live_handoff).
# Fails on a writer stall over $live_stall_ms, an overwrite of data no
# backup held after the take-over, xfs_repair -n findings, a fsynced file
# that differs from the manifest, or an array that is not raid6 on 5.
. "$VM_LIB"
set -u

vm_live_handoff xfs 4 "--level=5 --metadata=1.2 --size=$((159 * 1024))" 1 7212 \
        "--level=6 --raid-devices=5" "level=raid6 raid_disks=5" "mdadm --grow --level=6 --raid-devices=5"
