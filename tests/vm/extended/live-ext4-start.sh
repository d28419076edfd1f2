# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# A reshape of an array in use: ext4 mounted on raid5 (0.90 metadata,
# 4 x 127 MiB), vm-fswriter creating, overwriting, reading and deleting
# files (each fsynced, its directory too, journalled in a manifest) all
# through `reshaped start --chunk 128K --max-window 8M`. Fails when any
# write, fsync or read of the writer blocks longer than $live_stall_ms
# (the hang watchdog: a supervisor that deadlocks against the page cache
# stops the filesystem), when the kernel ran beyond the backup (probe),
# when e2fsck -fn finds anything, or when a fsynced file differs from the
# manifest. Reports the writer's throughput during the reshape against
# the same writer on the idle array.
. "$VM_LIB"
set -u

seed=7101
export RESHAPED_STATE_DIR=$VM_SCRATCH/state

vm_live_reshape ext4 4 "--level=5 --metadata=0.90 --size=$((127 * 1024))" "$seed" \
        "--chunk 128K" "chunk_size=131072" "reshaped start chunk 64K -> 128K"
