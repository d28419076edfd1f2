# vm: mode=busybox disks=4 size=128M scratch=512M timeout=900 needs=reshaped
# Power cuts during a reshape that reshaped supervises: raid5 (0.90
# metadata, 4 x 127 MiB), chunk 64K -> 128K with `reshaped start`. The
# power is cut once per boot, at each point of the cuts (percent of the
# reshape, the kernel's live front, at 3, 50 and 90%). After each cut the backup file must
# verify (`reshaped inspect`, exit 0) and `reshaped restore` brings the
# array back: after the first cut with neither --backup-file nor members
# (the path comes from reshaped's record, the members from their
# superblocks' UUID), after the others with both. The boot after the last
# cut lets it finish: restore exits 0, chunk 128K, same size, and every
# byte matches the pattern. At every cut sync_max must be a number: the
# kernel never ran without a limit. The last cut comes after the reshape
# ended and before its supervisor removed the backup and its record
# (vm_cut_after_end): restore then only assembles the array and removes
# both; nothing of the reshape is left. (vm_crash_start in lib.sh.)
. "$VM_LIB"
set -u

# The busybox guest has no /var/lib; the scratch disk survives the cuts.
export RESHAPED_STATE_DIR=$VM_SCRATCH/state
vm_crash_start 4 "--level=5 --metadata=0.90 --size=$((127 * 1024))" 6006 "3 50 90 ended"
