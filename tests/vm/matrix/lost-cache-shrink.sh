# vm: mode=busybox disks=18 size=256M timeout=900 needs=reshaped
# Crash matrix, lost caches: raid5 (0.90, 5 x 39 MiB) reduced to what 3
# data disks hold, shrunk 5 -> 4 under `reshaped start`. raid5 guards a
# shrink by itself but for its last units, the only windows reshaped backs
# up: past 90%, right after reshaped lets the kernel into them (the last
# window, backed up to the end, is released with sync_max=max), the backup
# disk loses power, the members a moment later (md held to 1 KiB/s from
# the moment it is parked before that window, or it is through it within
# a poll). Recovered from the disks rebuilt up to their last flush and
# from the original disks (vm_crash_lost_cache).
. "$VM_LIB"
set -u

VM_CRASH_ARRAY_DISKS=3
VM_CRASH_CHANGE="--raid-devices 4"
VM_CRASH_FINAL_MAX=1
LW_CREEP_KIB=1
VM_CRASH_EXPECT="raid_disks=4"
vm_crash_lost_cache 5 "--level=5 --metadata=0.90 --size=$((39 * 1024))" 7202 "raise 90"
