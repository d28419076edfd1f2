# vm: mode=busybox disks=5 size=128M scratch=512M timeout=900 needs=reshaped
# Power cuts during a supervised reshape on 1.2 metadata: raid6 (5 x 120
# MiB, superblock at 4 KiB, data at an offset), chunk 64K -> 128K with
# `reshaped start`, cut at 5% and, past 60% of the reshape, as soon as the
# supervisor starts a read-ahead (its reader thread in flight, the window
# before being written into the backup). After each cut the
# backup must verify and `reshaped restore` (first with no arguments but
# the array, then with backup and members) must bring the array back from
# the version-1 superblocks; the last boot lets the reshape finish and
# every byte must match the pattern. (vm_crash_start in lib.sh.)
. "$VM_LIB"
set -u

# The busybox guest has no /var/lib; the scratch disk survives the cuts.
export RESHAPED_STATE_DIR=$VM_SCRATCH/state
vm_crash_start 5 "--level=6 --metadata=1.2 --size=$((120 * 1024))" 6106 "5 readahead:60"
