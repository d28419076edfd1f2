# vm: mode=busybox disks=18 size=256M timeout=900 needs=reshaped
# Crash matrix, lost caches: raid5 on 4 (1.2, 4 x 39 MiB) -> raid6 on 5 by
# `mdadm --grow --level=6 --raid-devices=5 --backup-file`, taken over by
# reshaped at once; past 60%, right after a sync_max raise, the backup disk
# loses power, the members 256 KiB per member later. Recovered from the
# disks rebuilt up to their last flush and from the original disks
# (vm_crash_lost_cache in lib-logwrites.sh).
. "$VM_LIB"
set -u

VM_CRASH_SPARES=1
VM_CRASH_GROW="--level=6 --raid-devices=5"
VM_CRASH_EXPECT="level=raid6 raid_disks=5"
vm_crash_lost_cache 4 "--level=5 --metadata=1.2 --size=$((39 * 1024))" 7201 "raise 60"
