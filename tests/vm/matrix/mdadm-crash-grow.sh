# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900
# Crash matrix baseline: raid5 (1.2, 3 x 127 MiB) grown to 4 under mdadm's
# own monitor, power cut as soon as the kernel shows a front (its critical
# section), mdadm --assemble --backup-file.
. "$VM_LIB"
set -u
VM_CRASH_SPARES=1
VM_CRASH_GROWS=1
vm_crash_mdadm 3 "--level=5 --metadata=1.2 --size=$((127 * 1024))" 6210 0 "--raid-devices=4"
