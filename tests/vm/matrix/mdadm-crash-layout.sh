# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900
# Crash matrix baseline: raid5 (1.2, 4 x 127 MiB) left-symmetric ->
# right-asymmetric under mdadm's own monitor, power cut at 40%.
. "$VM_LIB"
set -u
vm_crash_mdadm 4 "--level=5 --layout=left-symmetric --metadata=1.2 --size=$((127 * 1024))" 6208 40 "--layout=right-asymmetric"
