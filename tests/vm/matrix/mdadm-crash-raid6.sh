# vm: mode=busybox disks=5 size=128M scratch=512M timeout=900
# Crash matrix baseline: raid6 (0.90, 5 x 127 MiB) chunk change under
# mdadm's own monitor, power cut at 60%.
. "$VM_LIB"
set -u
vm_crash_mdadm 5 "--level=6 --metadata=0.90 --size=$((127 * 1024))" 6209 60 "--chunk=128"
