# vm: mode=busybox disks=5 size=128M scratch=512M timeout=900 needs=reshaped
# live-ext4-start on raid6: ext4 mounted on raid6 (1.2 metadata, 5 x 127
# MiB) under vm-fswriter through `reshaped start --chunk 128K`, every
# window backed up from the members with P and Q while ext4 writes. No
# writer stall over $live_stall_ms, lag 0, e2fsck clean, every
# fsynced file as the manifest says.
. "$VM_LIB"
set -u

seed=7105
export RESHAPED_STATE_DIR=$VM_SCRATCH/state
vm_live_reshape ext4 5 "--level=6 --metadata=1.2 --size=$((127 * 1024))" "$seed" \
        "--chunk 128K" "chunk_size=131072" "reshaped start raid6 chunk 64K -> 128K"
