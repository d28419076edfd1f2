# vm: mode=systemd disks=5 size=128M scratch=512M timeout=900
# The baseline for the sup-handoff-systemd level scenarios: the same level
# changes under mdadm 4.2's own monitor, reshaped not involved. raid6 of 5
# -> raid5 of 4 (--level=5 --raid-devices=4) and raid5 of 4 plus a spare
# -> raid6 of 5 (--level=6 --raid-devices=5), 0.90 and 1.2, 127 MiB
# members, --backup-file, each checked by vm_level_end (level, layout,
# raid_disks, spares, superblocks, every byte, a check's mismatch_cnt,
# nothing left behind):
# - the forked monitor (MDADM_NO_SYSTEMCTL=1) ends raid6 -> raid5 as
#   raid5, left-symmetric, 4 disks, the fifth a spare, and raid5 -> raid6
#   as raid6, left-symmetric, 5 disks;
# - its own systemd hand-off (the stock mdadm-grow-continue@, no drop-in)
#   ends raid6 -> raid5 half done: raid6 in left-symmetric-6 on 5 disks,
#   no spare (mdadm --grow --continue reads level 6 from the superblocks:
#   mdadm 4.2 kept the 5 in memory, and 6.1 has no md/new_level), data
#   intact. Asserted as found, so that a change of mdadm's shows here.
. "$VM_LIB"
set -u

backup=$VM_SCRATCH/md0.backup

# level_case WHAT METADATA FROM DISKS SPARE SEED EXPECT-ARGS -- GROW-ARGS;
# ENV (MDADM_NO_SYSTEMCTL=1 or empty) from $mon.
level_case() {
        _what=$1 _meta=$2 _from=$3 _n=$4 _spare=$5 _seed=$6 _exp=$7
        shift 8
        vm_level_array "$_meta" "$_from" "$_n" "$_seed"
        [ "$_spare" = 1 ] && vm_run mdadm /dev/md0 --add "$(vm_disk 4)"
        vm_timed env $mon mdadm --grow /dev/md0 "$@" --backup-file="$backup"
        md_fast md0
        md_wait_idle md0 150
        # The monitor changes the level after the reshape and exits; the
        # service goes inactive.
        _i=0
        while { pidof mdadm >/dev/null || [ "$(systemctl show -P ActiveState mdadm-grow-continue@md0.service)" != inactive ]; } &&
                [ $_i -lt 100 ]; do
                sleep 0.2
                _i=$((_i + 1))
        done
        [ -z "$mon" ] && {
                [ "$(systemctl show -P Result mdadm-grow-continue@md0.service)" = success ] ||
                        vm_fail "$_what: mdadm-grow-continue@md0 did not end successfully"
        }
        vm_level_end "$_what" $_exp "$_seed" "$backup"
        vm_run mdadm --stop /dev/md0
        vm_run mdadm --zero-superblock $VM_DISKS
        systemctl reset-failed mdadm-grow-continue@md0.service 2>/dev/null
        vm_log "BASELINE: $_what: $(echo $_exp | awk '{ print $1 " on " $2 " disks, layout " $3 ", " $4 " spare(s)" }')"
}

vm_wait_booted
seed=7001
for meta in 0.90 1.2; do
        mon=MDADM_NO_SYSTEMCTL=1
        level_case "forked monitor raid6 -> raid5 ($meta)" $meta 6 5 0 $seed "raid5 4 2 1" -- --level=5 --raid-devices=4
        level_case "forked monitor raid5 -> raid6 ($meta)" $meta 5 4 1 $((seed + 1)) "raid6 5 2 0" -- --level=6 --raid-devices=5
        mon=
        level_case "stock hand-off raid6 -> raid5 ($meta)" $meta 6 5 0 $((seed + 2)) "raid6 5 18 0" -- --level=5 --raid-devices=4
        seed=$((seed + 10))
done
vm_log "PASS: mdadm 4.2's forked monitor ends both level changes; its own systemd hand-off leaves raid6 -> raid5 as raid6 in left-symmetric-6"
