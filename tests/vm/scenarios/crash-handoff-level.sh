# vm: mode=busybox disks=5 size=128M scratch=512M timeout=900 needs=reshaped
# Power cuts during a level change that reshaped took over: raid5 (1.2
# metadata, 4 x 127 MiB) plus a spare to raid6 on 5 disks, started by
# MDADM_NO_SYSTEMCTL=1 mdadm --grow --level=6 --raid-devices=5
# --backup-file; mdadm's own monitor is killed at once and `reshaped
# supervise` takes the running reshape over. The power is cut right after
# the supervisor's first durable window, then, after `reshaped restore`
# brought the array back, at 60%. The boot after lets restore finish:
# raid6 on 5 disks, same size, every byte matches the pattern.
# (vm_crash_handoff in lib.sh.)
. "$VM_LIB"
set -u

export RESHAPED_STATE_DIR=$VM_SCRATCH/state
VM_CRASH_SPARES=1
VM_CRASH_EXPECT="level=raid6 raid_disks=5"
VM_MATRIX="raid5 on 4 -> raid6 on 5, mdadm --grow handed off|1.2|qemu killed|first window, 60%|reshaped|reshaped restore"
vm_crash_handoff 4 "--level=5 --metadata=1.2 --size=$((127 * 1024))" 6117 60 "--level=6 --raid-devices=5"
