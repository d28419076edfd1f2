# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# Power cuts after a take-over: raid5 (0.90 metadata, 4 x 127 MiB), chunk
# 64K -> 128K started by MDADM_NO_SYSTEMCTL=1 mdadm --grow --backup-file;
# mdadm's own monitor is killed at once and `reshaped supervise` (what
# mdadm-grow-continue@md0.service runs with reshaped's drop-in; a stand-in
# systemctl here) takes the running reshape over, with mdadm's backup
# file. The power is cut right after the supervisor's first durable
# window, then, after `reshaped restore` has brought the array back (the
# backup path from reshaped's record), at 60 percent. The boot after lets
# restore finish: it exits 0, chunk 128K, same size, every byte matches the
# pattern. (vm_crash_handoff in lib.sh.)
. "$VM_LIB"
set -u

export RESHAPED_STATE_DIR=$VM_SCRATCH/state
VM_MATRIX="raid5 on 4, mdadm --grow --chunk=128 handed off|0.90|qemu killed|first window, 60%|reshaped|reshaped restore"
vm_crash_handoff 4 "--level=5 --metadata=0.90 --size=$((127 * 1024))" 6116 60 "--chunk=128"
