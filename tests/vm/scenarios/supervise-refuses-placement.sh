# vm: mode=busybox disks=4 size=64M scratch=128M timeout=300 needs=reshaped
# reshaped start refuses a backup file it could not keep — on a filesystem
# that does not survive a reboot, on the array itself, on a member — with a
# message that says why, and leaves the array exactly as it was.
. "$VM_LIB"
set -u

export RESHAPED_STATE_DIR=$VM_SCRATCH/state
vm_run mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 \
        --metadata=0.90 --size=$((63 * 1024)) --assume-clean $(vm_disks 4)

refused() {
        want=$1
        shift
        out=$(reshaped start /dev/md0 --chunk 128K --backup-file "$@" 2>&1) &&
                vm_fail "accepted backup file $*: $out"
        echo "$out"
        echo "$out" | grep -qi "$want" || vm_fail "refusal of $* does not say '$want': $out"
        [ "$(md_attr md0 reshape_position)" = none ] || vm_fail "the array started reshaping"
        [ "$(md_attr md0 chunk_size)" = 65536 ] || vm_fail "chunk_size changed"
        [ "$(md_attr md0 sync_max)" = max ] || vm_fail "sync_max changed to $(md_attr md0 sync_max)"
}

# The busybox guest's / is the initramfs: ramfs or tmpfs.
refused "reboot" /root/md0.backup
refused "md0" /dev/md0
refused "member" "$(vm_disk 0)"
vm_log "PASS: three unsafe placements refused, array untouched"
