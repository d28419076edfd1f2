# vm: mode=busybox disks=15 size=256M timeout=900 needs=reshaped
# A power cut under the lost-cache model (lib-logwrites.sh): raid5 (0.90,
# 4 x 39 MiB), chunk 64K -> 128K under `reshaped start`, every member and
# the backup disk (ext4, which also holds reshaped's record) behind
# dm-log-writes. Past 30%, when reshaped next raises sync_max, the backup
# disk loses power; the members run on 256 KiB per member into the window,
# an fsync of /dev/md0 makes that durable, then they lose power too. A
# supervisor that let the kernel in before the window's backup header was
# flushed loses what the kernel had rewritten of it. Boot 2 rebuilds each
# disk from its log up to its last flush and recovers that array, then the
# original disks (every accepted write kept): both must verify.
# (vm_crash_lost_cache in lib-logwrites.sh.)
. "$VM_LIB"
set -u

vm_crash_lost_cache 4 "--level=5 --metadata=0.90 --size=$((39 * 1024))" 5151 "raise 30"
