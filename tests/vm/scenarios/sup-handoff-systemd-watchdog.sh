# vm: mode=systemd disks=4 size=256M scratch=1G timeout=600 needs=reshaped
# What systemd and journald get from a supervised hand-off, and the
# watchdog. `mdadm --grow --chunk=128 --backup-file` on a raid5 (4 x 255
# MiB, chunk 64K) with the installed drop-in and a test drop-in of
# WatchdogSec=5s, the reshape slowed: `systemctl status` shows the STATUS=
# line; the service lives through more than two watchdog intervals (the
# event loop pings); SIGSTOP to the supervisor past WatchdogSec: systemd
# kills it (Watchdog timeout) and restarts it (Restart=on-failure), and
# the new one supervises on. At full speed the reshape ends with the
# service successful. `journalctl -o json` holds the progress entries
# with their MESSAGE_ID and RESHAPE_* fields, the protection and take-over
# events; `journalctl -x` shows their catalog texts; a /dev/null link in
# /etc masks the drop-in (README.md). Every byte verified.
. "$VM_LIB"
set -u

seed=5311
backup=$VM_SCRATCH/md0.backup
unit=mdadm-grow-continue@md0.service
mid_progress=8b2d6f4e1a9c4b7d8e3f5a0c6d1b9e72
mid_protected=d6b84781eca54574a19cf7a12238acdc
mid_takeover=c4e9a1b7d3f24c8e9b6a2d5f0e7c1a38
watchdog_s=5

vm_wait_booted
vm_array_filled 5 4 64 "$seed"
vm_install_dropin "$unit"
systemctl cat "$unit" | grep -qx 'WatchdogSec=3min' || vm_fail "the installed drop-in has no WatchdogSec=3min"
# The test's own drop-in, after reshaped.conf: a watchdog short enough to
# wait out, a quick restart, no core file of the mlocked windows.
cat >"/etc/systemd/system/mdadm-grow-continue@.service.d/zz-watchdog.conf" <<EOF
[Service]
WatchdogSec=${watchdog_s}s
RestartSec=1
LimitCORE=0
EOF
vm_run systemctl daemon-reload
# journalctl reads catalogs only from /usr/lib and /usr/local/lib, which
# here are the host's, read-only: the database is built from a copy of
# them with reshaped's catalog added, as `journalctl --update-catalog`
# after `meson install` builds it on a real machine.
mkdir -p /tmp/catalog-root/usr/lib/systemd/catalog /var/lib/systemd/catalog
cp /usr/lib/systemd/catalog/*.catalog /opt/vm/installed/catalog/reshaped.catalog \
        /tmp/catalog-root/usr/lib/systemd/catalog/
vm_run journalctl --root=/tmp/catalog-root --update-catalog
cp /tmp/catalog-root/var/lib/systemd/catalog/database /var/lib/systemd/catalog/database
journalctl --list-catalog | grep -q "^$mid_progress reshaped: " || vm_fail "journalctl --list-catalog has no entry for $mid_progress"

main_pid() {
        systemctl show -P MainPID "$unit"
}

# Slow, so that it is still running through the checks below.
md_set md0 sync_speed_min 1
md_set md0 sync_speed_max 1
vm_timed mdadm --grow /dev/md0 --chunk=128 --backup-file="$backup"
# systemctl returned: the service sent READY=1, protection is established.
first=$(main_pid)
[ "$first" -gt 0 ] || vm_fail "$unit has no main pid after mdadm returned"
# Set once the service started (infinity before).
[ "$(systemctl show -P WatchdogUSec "$unit")" = ${watchdog_s}s ] ||
        vm_fail "$unit runs with WatchdogUSec=$(systemctl show -P WatchdogUSec "$unit"), not ${watchdog_s}s"

_n=0
until systemctl status "$unit" --no-pager >"$VM_OUT/status.txt" 2>&1;
      grep -Eq 'Status: "reshape [0-9]+\.[0-9]%, [0-9.]+ ([KMG]i)?B/s, ([0-9hms]+ to go|time to go unknown), protected to [0-9]+\.[0-9]%"' "$VM_OUT/status.txt"; do
        _n=$((_n + 1))
        [ $_n -lt 50 ] || { cat "$VM_OUT/status.txt"; vm_fail "systemctl status shows no STATUS line in the issue's form"; }
        sleep 0.2
done
cat "$VM_OUT/status.txt"
vm_log "STATUS: $(grep -o 'Status: ".*"' "$VM_OUT/status.txt")"

# reshaped status --json parses, and says what sysfs says, read just after.
reshaped status --json /dev/md0 >"$VM_OUT/status.json" || true
python3 - "$VM_OUT/status.json" "$(md_attr md0 sync_max)" "$(md_attr md0 reshape_position)" <<'EOF' ||
import json, sys
arrays = json.load(open(sys.argv[1]))
a = arrays[0] if isinstance(arrays, list) else arrays
sync_max, position = sys.argv[2], int(sys.argv[3])
assert a["device"] == "/dev/md0", a["device"]
assert a["state"] == "protected" and a["protected"] is True, (a["state"], a["protected"])
if sync_max != "max":
    assert a["sync_max_progress_sectors"] <= int(sync_max), (a["sync_max_progress_sectors"], sync_max)
assert a["reshape_position_array_sectors"] <= position, (a["reshape_position_array_sectors"], position)
print("status --json: state", a["state"], "percent", a["percent"], "position",
      a["reshape_position_array_sectors"], "sysfs", position)
EOF
        vm_fail "reshaped status --json does not parse or disagrees with sysfs: $(cat "$VM_OUT/status.json")"

# More than two watchdog intervals of a slow reshape: the loop pings.
sleep $((2 * watchdog_s + 2))
[ "$(main_pid)" = "$first" ] && [ "$(systemctl show -P NRestarts "$unit")" = 0 ] || {
        journalctl -u "$unit" --no-pager -o cat | tail -n 20
        vm_fail "$unit did not live through $((2 * watchdog_s + 2)) s with WatchdogSec=${watchdog_s}s (main pid $(main_pid), was $first)"
}
vm_log "$unit alive after $((2 * watchdog_s + 2)) s, WatchdogSec=${watchdog_s}s; $(md_snapshot md0)"

vm_log "SIGSTOP to $unit's main pid $first"
kill -STOP "$first"
_t0=$(vm_now)
_n=0
while :; do
        new=$(main_pid)
        [ "$new" -gt 0 ] && [ "$new" != "$first" ] && break
        _n=$((_n + 1))
        [ $_n -lt 300 ] || {
                systemctl status "$unit" --no-pager
                kill -CONT "$first"
                vm_fail "systemd did not kill and restart $unit in $(vm_since "$_t0") s after the SIGSTOP"
        }
        sleep 0.1
done
vm_log "$unit restarted $(vm_since "$_t0") s after the SIGSTOP: main pid $new, NRestarts=$(systemctl show -P NRestarts "$unit")"
[ "$(systemctl show -P NRestarts "$unit")" = 1 ] || vm_fail "NRestarts is not 1"
journalctl -u "$unit" --no-pager -o cat | grep -q 'Watchdog timeout' ||
        vm_fail "the journal does not say that the watchdog killed $unit"
[ ! -e "/proc/$first" ] || vm_fail "the stopped supervisor $first is still there"

md_fast md0
( md_wait_idle md0 150 ) || {
        journalctl -u "$unit" --no-pager -o cat | tail -n 30
        vm_stacks reshaped
        vm_fail "the reshape did not end"
}
_n=0
while [ "$(systemctl show -P ActiveState "$unit")" != inactive ] && [ $_n -lt 150 ]; do
        sleep 0.2
        _n=$((_n + 1))
done
[ "$(systemctl show -P Result "$unit")" = success ] && [ "$(systemctl show -P ExecMainStatus "$unit")" = 0 ] || {
        journalctl -u "$unit" --no-pager -o cat | tail -n 30
        vm_fail "$unit did not end successfully after the restart"
}
journalctl -u "$unit" --no-pager -o cat | grep -v ': \(suspend\|backup\|set-sync-max\|forget\|release\|resume\) slot=' | tail -n 25

journalctl -u "$unit" --no-pager -o json >"$VM_OUT/journal.json"
python3 - "$VM_OUT/journal.json" "$mid_progress" "$mid_protected" "$mid_takeover" >"$VM_OUT/journal-check.txt" <<'EOF' ||
import json, sys
path, progress, protected, takeover = sys.argv[1:]
entries = [json.loads(line) for line in open(path) if line.strip()]
prog = [e for e in entries if e.get("MESSAGE_ID") == progress]
need = ["RESHAPE_DEVICE", "RESHAPE_UUID", "RESHAPE_BACKUP_FILE", "RESHAPE_PERCENT",
        "RESHAPE_RATE_BPS", "RESHAPE_POSITION", "RESHAPE_PROTECTED_THROUGH"]
bad = [e["MESSAGE"] for e in prog if any(f not in e for f in need) or e["RESHAPE_DEVICE"] != "md0"]
kinds = {e.get("MESSAGE_ID") for e in entries}
print(f"{len(entries)} entries, {len(prog)} progress entries, percents "
      + " ".join(e["RESHAPE_PERCENT"] for e in prog)
      + f"; ETA in {sum('RESHAPE_ETA_S' in e for e in prog)}; protected events "
      + f"{sum(e.get('MESSAGE_ID') == protected for e in entries)}, take-overs "
      + " ".join(e.get("RESHAPE_UNPROTECTED_BYTES", "?") for e in entries if e.get("MESSAGE_ID") == takeover)
      + " bytes")
ok = (len(prog) >= 3 and not bad and prog[-1]["RESHAPE_PERCENT"] == "100.0"
      and protected in kinds and takeover in kinds)
if bad:
    print("progress entries lacking fields:", bad)
sys.exit(0 if ok else 1)
EOF
        { cat "$VM_OUT/journal-check.txt"; vm_fail "the journal lacks progress entries with their fields, or the protection or take-over event"; }
vm_log "journal: $(cat "$VM_OUT/journal-check.txt")"

journalctl -x -u "$unit" --no-pager >"$VM_OUT/journal-x.txt"
grep -q 'Subject: Reshape progress of md0' "$VM_OUT/journal-x.txt" &&
grep -q 'Subject: The reshape of md0 is protected' "$VM_OUT/journal-x.txt" ||
        vm_fail "journalctl -x shows no catalog text for reshaped's progress and protection entries"
vm_log "journalctl -x: $(grep -c 'Subject: Reshape progress of md0' "$VM_OUT/journal-x.txt") progress catalog texts, e.g. $(grep -m1 -A2 'Subject: Reshape progress of md0' "$VM_OUT/journal-x.txt" | tr -s ' \n' ' ')"

# Disabling the hand-off as README.md says: a /dev/null link of the same
# name in /etc masks the drop-in installed below it (here /run).
_d=mdadm-grow-continue@.service.d
mkdir -p /run/systemd/system/$_d
mv /etc/systemd/system/$_d/reshaped.conf /run/systemd/system/$_d/reshaped.conf
ln -s /dev/null /etc/systemd/system/$_d/reshaped.conf
vm_run systemctl daemon-reload
! systemctl cat "$unit" | grep -q 'reshaped supervise' || vm_fail "the /dev/null link did not mask the drop-in"
rm /etc/systemd/system/$_d/reshaped.conf
vm_run systemctl daemon-reload
systemctl cat "$unit" | grep -qx 'ExecStart=/opt/vm/bin/reshaped supervise /dev/%I' ||
        vm_fail "without the link the drop-in is not back"
vm_log "masking the drop-in from /etc disables the hand-off; removing the link enables it again"

[ "$(md_attr md0 chunk_size)" = 131072 ] || vm_fail "chunk_size is $(md_attr md0 chunk_size), not 131072"
vm_matrix_verify "$seed"
vm_log "PASS: STATUS line, journal entries and catalog texts; the watchdog killed a stopped supervisor and systemd restarted it; every byte verified"
