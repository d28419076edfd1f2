# vm: mode=busybox disks=5 size=128M scratch=512M timeout=900
# Crash matrix baseline: raid5 (0.90, 5 x 127 MiB, reduced to 3 data disks)
# shrunk to 4 under mdadm's own monitor, power cut at 99.8% (its last,
# critical units; md slowed to 400 KiB/s from 96.8% on to catch them),
# mdadm --assemble --backup-file.
. "$VM_LIB"
set -u
VM_CRASH_ARRAY_DISKS=3
VM_CUT_SPEED_KIB=400
vm_crash_mdadm 5 "--level=5 --metadata=0.90 --size=$((127 * 1024))" 6211 99.8 "--raid-devices=4"
