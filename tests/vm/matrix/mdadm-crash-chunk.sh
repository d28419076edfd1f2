# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900
# Crash matrix baseline: the case of crash-start-chunk under mdadm's own
# monitor. raid5 (0.90, 4 x 127 MiB), mdadm --grow --chunk=128
# --backup-file, power cut at 50%, mdadm --assemble --backup-file.
. "$VM_LIB"
set -u
vm_crash_mdadm 4 "--level=5 --metadata=0.90 --size=$((127 * 1024))" 6206 50 "--chunk=128"
