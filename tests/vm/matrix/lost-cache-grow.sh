# vm: mode=busybox disks=15 size=256M timeout=900 needs=reshaped
# Crash matrix, lost caches: raid5 3 -> 4 (0.90, 3 x 39 MiB and a spare)
# under `reshaped start`; every disk loses power at 50%, where raid5
# guards the grow itself (it checkpoints before it overwrites old data):
# what md flushed must be enough (vm_crash_lost_cache).
. "$VM_LIB"
set -u

VM_CRASH_SPARES=1
VM_CRASH_GROWS=1
VM_CRASH_CHANGE="--raid-devices 4"
VM_CRASH_EXPECT="raid_disks=4"
vm_crash_lost_cache 3 "--level=5 --metadata=0.90 --size=$((39 * 1024))" 7205 "50"
