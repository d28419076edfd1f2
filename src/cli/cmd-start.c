// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reshaped/cli/cli-util.h"
#include "reshaped/backup/backup.h"
#include "reshaped/cli/cmd.h"
#include "reshaped/cli/cmd-supervised.h"
#include "reshaped/util/log.h"
#include "reshaped/md/md.h"
#include "reshaped/placement/placement.h"
#include "reshaped/supervise/record.h"
#include "reshaped/plan/reshape-shape.h"
#include "reshaped/supervise/supervisor.h"

/* md's layout numbers (raid5.h ALGORITHM_*), by mdadm's names. */
static const struct { const char *name; unsigned value; bool raid6_only; } layouts[] = {
        { "left-asymmetric", 0, false },
        { "right-asymmetric", 1, false },
        { "left-symmetric", 2, false },
        { "right-symmetric", 3, false },
        { "parity-first", 4, false },
        { "parity-last", 5, false },
        { "ddf-zero-restart", 8, true },
        { "ddf-N-restart", 9, true },
        { "ddf-N-continue", 10, true },
        { "left-asymmetric-6", 16, true },
        { "right-asymmetric-6", 17, true },
        { "left-symmetric-6", 18, true },
        { "right-symmetric-6", 19, true },
        { "parity-first-6", 20, true },
};

static int parse_layout(const char *s, int level, unsigned *ret)
{
        for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
                if (strcmp(s, layouts[i].name) != 0)
                        continue;
                if (layouts[i].raid6_only && level != 6)
                        return log_error_errno(EINVAL, "Layout %s exists only for raid6.", s);
                *ret = layouts[i].value;
                return 0;
        }
        return log_error_errno(EINVAL, "Unknown layout '%s'; raid4/5 layouts are left-asymmetric, right-asymmetric, left-symmetric, right-symmetric, parity-first and parity-last.", s);
}

/* What the user asked to change. */
struct start_request {
        uint64_t chunk_bytes;
        unsigned layout;
        unsigned raid_disks;
        bool set_chunk, set_layout, set_raid_disks;
};

/* Without --backup-file the reshape moves data_offset on every member in
 * use (spares too: a grow takes them in at the new offset). */
struct offset_plan {
        struct md_member *members;
        size_t n;
        int64_t diff_dev_sectors;       /* 0: in place, with a backup */
};

static bool moves(const struct md_member *m)
{
        return !(m->state & (MD_MEMBER_FAULTY | MD_MEMBER_JOURNAL));
}

/* How far the data moves, from the least room any member has; a refusal
 * says that --backup-file is the way. */
static int plan_offset(struct md *md, const struct md_geometry *g, const struct start_request *req,
                       struct offset_plan *ret)
{
        struct offset_room room = { UINT64_MAX, UINT64_MAX };
        unsigned raid_disks = req->set_raid_disks ? req->raid_disks : g->raid_disks_old;
        uint64_t chunk = req->set_chunk ? req->chunk_bytes : g->chunk_bytes_old;
        const char *why = NULL;
        int r;

        if (g->metadata.major != 1 || (g->metadata.minor != 1 && g->metadata.minor != 2))
                return log_error_errno(EOPNOTSUPP, "%s has %u.%u metadata, which cannot move its data (only 1.1 and 1.2 leave room before the data); reshape it in place with --backup-file FILE on a disk outside the array.",
                                       md_name(md), g->metadata.major, g->metadata.minor);
        r = md_get_members(md, &ret->members, &ret->n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ret->n; i++) {
                const struct md_member *m = &ret->members[i];
                struct offset_room here;

                if (!moves(m))
                        continue;
                here = geometry_member_room(g->metadata.major, g->metadata.minor, m->data_offset_dev_sectors,
                                            m->size_kib * 2, g->component_kib * 2);
                if (here.head_dev_sectors < room.head_dev_sectors)
                        room.head_dev_sectors = here.head_dev_sectors;
                if (here.tail_dev_sectors < room.tail_dev_sectors)
                        room.tail_dev_sectors = here.tail_dev_sectors;
        }
        if (room.head_dev_sectors == UINT64_MAX)
                room = (struct offset_room) {};
        r = geometry_offset_move(g->level, g->raid_disks_old, raid_disks, g->chunk_bytes_old, chunk, room,
                                 &ret->diff_dev_sectors, &why);
        if (r < 0)
                return log_error_errno(r, "%s: cannot move data_offset: %s (least room: %" PRIu64 " sectors before the data, %" PRIu64 " after; two units of the larger chunk and one step of the reshape are needed). Reshape it in place with --backup-file FILE on a disk outside the array.",
                                       md_name(md), why, room.head_dev_sectors, room.tail_dev_sectors);
        return 0;
}

/* Writes every member's new_offset (to @diff from its offset: 0 puts it
 * back). md wants the direction first: up only backwards, down forwards. */
static int set_offsets(struct md *md, const struct offset_plan *p, int64_t diff)
{
        char attr[64], v[32];
        int r;

        if (diff) {
                r = md_write_attr(md, "reshape_direction", diff > 0 ? "backwards" : "forwards");
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < p->n; i++) {
                if (!moves(&p->members[i]))
                        continue;
                snprintf(attr, sizeof(attr), "dev-%s/new_offset", p->members[i].name);
                snprintf(v, sizeof(v), "%" PRIu64, p->members[i].data_offset_dev_sectors + (uint64_t) diff);
                r = md_write_attr(md, attr, v);
                if (r < 0)
                        return log_error_errno(r, "%s: the kernel refused new_offset %s for %s: %m", md_name(md), v,
                                               p->members[i].name);
        }
        if (!diff)
                return md_write_attr(md, "reshape_direction", "forwards");
        return 0;
}

/* Checks that the array can start a reshape we can supervise. */
static int check_array(struct md *md, const struct md_geometry *g)
{
        enum md_sync_action action;
        uint64_t pos;
        unsigned degraded;
        int r;

        if (g->level != 4 && g->level != 5 && g->level != 6)
                return log_error_errno(EINVAL, "%s is not raid4, raid5 or raid6.", md_name(md));
        if (g->metadata.kind != MD_METADATA_NATIVE)
                return log_error_errno(EOPNOTSUPP, "%s has no native (0.90 or 1.x) metadata.", md_name(md));
        r = md_get_reshape_position(md, &pos);
        if (r < 0)
                return r;
        if (pos != MD_RESHAPE_POSITION_NONE)
                return log_error_errno(EBUSY, "%s is already reshaping; use 'reshaped supervise %s --backup-file FILE'.",
                                       md_name(md), md_devnode(md));
        r = md_get_sync_action(md, &action);
        if (r < 0)
                return r;
        if (action != MD_SYNC_ACTION_IDLE && action != MD_SYNC_ACTION_FROZEN)
                return log_error_errno(EBUSY, "%s is busy with %s; wait until sync_action reads idle.",
                                       md_name(md), md_sync_action_to_string(action));
        r = md_get_degraded(md, &degraded);
        if (r < 0)
                return r;
        if (degraded)
                return log_error_errno(EINVAL, "%s is degraded; recover it (mdadm --add) before reshaping.", md_name(md));
        return 0;
}

/* Undo a setup that the kernel refused, so the array is as it was. Once
 * reshape_position is a number the reshape exists: sync_max=max would let
 * it run unprotected, so it is left frozen for the supervisor (-EBUSY). */
static int roll_back(struct md *md, const struct md_geometry *g, const struct offset_plan *p)
{
        uint64_t pos;
        char v[32];

        if (md_get_reshape_position(md, &pos) < 0 || pos != MD_RESHAPE_POSITION_NONE) {
                (void) md_set_sync_action(md, MD_SYNC_ACTION_FROZEN);
                return -EBUSY;
        }
        snprintf(v, sizeof(v), "%u", g->chunk_bytes_old);
        (void) md_write_attr(md, "chunk_size", v);
        snprintf(v, sizeof(v), "%u", g->layout_old);
        (void) md_write_attr(md, "layout", v);
        snprintf(v, sizeof(v), "%u", g->raid_disks_old);
        (void) md_write_attr(md, "raid_disks", v);
        if (p->diff_dev_sectors)
                (void) set_offsets(md, p, 0);
        (void) md_set_sync_max_unlimited(md);
        (void) md_set_sync_action(md, MD_SYNC_ACTION_IDLE);
        return 0;
}

/* raid5.c check_reshape() refuses a reshape whose stripe cache cannot
 * hold four of the larger chunks (ENOSPC); mdadm grows the cache first,
 * and so do we. */
static int size_stripe_cache(struct md *md, const struct md_geometry *g, const struct start_request *req)
{
        uint64_t chunk = req->set_chunk && req->chunk_bytes > g->chunk_bytes_old ? req->chunk_bytes
                                                                                 : g->chunk_bytes_old;
        uint64_t want = chunk / 4096 * 4 + 16, have;
        char v[32];
        int r;

        r = md_read_attr(md, "stripe_cache_size", v, sizeof(v));
        if (r < 0)
                return r;
        have = strtoull(v, NULL, 10);
        if (have >= want)
                return 0;
        snprintf(v, sizeof(v), "%" PRIu64, want);
        return md_write_attr(md, "stripe_cache_size", v);
}

/* A grow needs the spares in place; a shrink needs the array already
 * reduced to what the fewer disks hold. */
static int check_disk_count(struct md *md, const struct md_geometry *g, const struct start_request *req)
{
        unsigned raid_disks = req->raid_disks;
        uint64_t unit_kib = (req->set_chunk && req->chunk_bytes > g->chunk_bytes_old ? req->chunk_bytes
                                                                                    : g->chunk_bytes_old) / 1024;
        unsigned old_data = g->level == 6 ? g->raid_disks_old - 2 : g->raid_disks_old - 1;
        unsigned new_data = g->level == 6 ? raid_disks - 2 : raid_disks - 1;
        struct md_member *m = NULL;
        size_t n = 0;
        unsigned spares = 0;
        char v[32];
        int r;

        if (raid_disks < (g->level == 6 ? 4u : 3u))
                return log_error_errno(EINVAL, "--raid-devices %u is too few for %s.", raid_disks,
                                       md_level_to_string(g->level) ? md_level_to_string(g->level) : "this level");
        if (new_data > old_data) {
                r = md_get_members(md, &m, &n);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n; i++)
                        if (m[i].slot < 0 && !(m[i].state & (MD_MEMBER_FAULTY | MD_MEMBER_JOURNAL)))
                                spares++;
                md_members_free(m, n);
                if (spares < raid_disks - g->raid_disks_old)
                        return log_error_errno(EINVAL, "%s has %u spare(s); growing to %u devices needs %u. Add them first: mdadm %s --add DEVICE",
                                               md_name(md), spares, raid_disks, raid_disks - g->raid_disks_old,
                                               md_devnode(md));
                return 0;
        }
        /* "default" while md sizes the array itself: not reduced. */
        r = md_read_attr(md, "array_size", v, sizeof(v));
        if (r < 0)
                return r;
        if (strncmp(v, "default", 7) == 0 ||
            strtoull(v, NULL, 10) > g->component_kib / unit_kib * unit_kib * new_data)
                return log_error_errno(EINVAL, "%s is larger than %u data disks hold. Shrink what is on it, then the array: mdadm --grow %s --array-size=%" PRIu64 "K",
                                       md_name(md), new_data, md_devnode(md),
                                       g->component_kib / unit_kib * unit_kib * new_data);
        return 0;
}

/*
 * Sets the new geometry and starts the reshape with sync_max at 0, so the
 * kernel rewrites nothing until the supervisor has backed up the first
 * window: there is no unprotected moment.
 */
static int setup_reshape(struct md *md, const struct md_geometry *g, const struct start_request *req,
                         const struct offset_plan *p)
{
        enum md_array_state state;
        char v[32];
        int r;

        r = md_get_array_state(md, &state);
        if (r < 0)
                return r;
        /* Debian assembles read-auto (start_ro); a reshape would not move. */
        if (state == MD_ARRAY_READ_AUTO) {
                r = md_write_attr(md, "array_state", "active");
                if (r < 0)
                        return r;
        }
        r = md_set_sync_action(md, MD_SYNC_ACTION_FROZEN);
        if (r < 0)
                return r;
        r = size_stripe_cache(md, g, req);
        if (r < 0)
                goto fail;
        /* Before raid_disks, which md checks against the offsets. */
        if (p->diff_dev_sectors) {
                r = set_offsets(md, p, p->diff_dev_sectors);
                if (r < 0)
                        goto fail;
        }
        if (req->set_chunk) {
                snprintf(v, sizeof(v), "%" PRIu64, req->chunk_bytes);
                r = md_write_attr(md, "chunk_size", v);
                if (r < 0)
                        goto fail;
        }
        if (req->set_layout) {
                snprintf(v, sizeof(v), "%u", req->layout);
                r = md_write_attr(md, "layout", v);
                if (r < 0)
                        goto fail;
        }
        /* A grow takes in the spares when the reshape starts; a shrink is
         * set to run backwards by md itself. */
        if (req->set_raid_disks) {
                snprintf(v, sizeof(v), "%u", req->raid_disks);
                r = md_write_attr(md, "raid_disks", v);
                if (r < 0)
                        goto fail;
        }
        r = md_set_sync_min(md, 0);
        if (r < 0)
                goto fail;
        r = md_set_sync_max(md, 0);
        if (r < 0)
                goto fail;
        r = md_set_sync_action(md, MD_SYNC_ACTION_RESHAPE);
        if (r < 0)
                goto fail;
        return 0;
fail:
        if (roll_back(md, g, p) < 0)
                return log_error_errno(r, "%s: the kernel refused part of the setup after the reshape began; it is left frozen, nothing rewritten. Continue with: reshaped supervise %s",
                                       md_name(md), md_devnode(md));
        return log_error_errno(r, "%s: the kernel refused the new geometry; the array is unchanged.", md_name(md));
}

/*
 * Creates the backup (an empty header: nothing held yet, resume position
 * at the start) and records it, both synced, before the array is touched:
 * a power cut right after the setup leaves `reshaped restore` a backup
 * that says the kernel was held at the very start.
 */
/* The reshape as md will describe it once set up. */
static int planned_shape(struct md *md, const struct md_geometry *g, const struct start_request *req,
                         const struct offset_plan *p, struct md_geometry *ret_mg,
                         struct reshape_geometry *ret_geo)
{
        const char *why = NULL;
        char v[32];
        uint64_t array_kib = 0;
        int r;

        *ret_mg = *g;
        ret_mg->raid_disks_new = req->set_raid_disks ? req->raid_disks : g->raid_disks_old;
        ret_mg->chunk_bytes_new = req->set_chunk ? (uint32_t) req->chunk_bytes : g->chunk_bytes_old;
        ret_mg->layout_new = req->set_layout ? req->layout : g->layout_old;
        ret_mg->direction = geometry_data_disks(g->level, ret_mg->raid_disks_new) <
                                            geometry_data_disks(g->level, g->raid_disks_old)
                                    ? MD_RESHAPE_DIRECTION_BACKWARDS
                                    : MD_RESHAPE_DIRECTION_FORWARDS;
        if (p->diff_dev_sectors)
                ret_mg->direction = p->diff_dev_sectors > 0 ? MD_RESHAPE_DIRECTION_BACKWARDS
                                                            : MD_RESHAPE_DIRECTION_FORWARDS;
        ret_mg->offset_diff_dev_sectors = p->diff_dev_sectors;
        r = md_read_attr(md, "array_size", v, sizeof(v));
        if (r < 0)
                return r;
        if (strncmp(v, "default", 7) != 0)
                array_kib = strtoull(v, NULL, 10);
        r = reshape_shape_geometry(ret_mg, array_kib, ret_geo, &why);
        if (r < 0)
                return log_error_errno(r, "Cannot supervise this reshape of %s: %s.", md_name(md), why);
        return 0;
}

/* Judged before the array changes at all: the supervisor's backup, at the
 * window size it will use (or the least it may fall back to), beside the
 * small one made here (open_backup() replaces it by a second file). */
static int check_placement(struct md *md, const struct reshape_geometry *geo,
                           const struct supervisor_options *o)
{
        struct placement_verdict v;
        uint64_t slot, least;
        int r;

        reshape_shape_slots(geo, o->section_max_bytes, SUPERVISOR_SECTION_MIN_BYTES, &slot, &least);
        r = placement_check(o->backup_path, md_name(md),
                            backup_file_size_bytes(slot) + backup_file_size_bytes(BACKUP_ALIGN_BYTES), &v);
        if (r == -ENOSPC && least < slot)
                r = placement_check(o->backup_path, md_name(md),
                                    backup_file_size_bytes(least) + backup_file_size_bytes(BACKUP_ALIGN_BYTES), &v);
        if (r < 0)
                log_error("%s", v.message);
        return r;
}

/* The backup exists and is recorded, durably, before the array is touched:
 * a crash right after the set-up finds a file that holds nothing yet and
 * says where the kernel stands (the reshape's first position), so restore
 * can bring it back. It needs no room for windows: the supervisor makes
 * its own. */
static int create_backup(struct md *md, const struct md_geometry *planned, const struct reshape_geometry *geo,
                         const struct supervisor_options *o)
{
        struct backup_identity id = {};
        char uuid[BACKUP_UUID_STRING_MAX];
        struct backup_file *bf = NULL;
        int r;

        reshape_shape_identity(planned, geo, &id);
        r = md_read_uuid_and_events(md, id.uuid, &id.events);
        if (r < 0)
                return r;
        r = backup_file_create(o->backup_path, &id, BACKUP_ALIGN_BYTES, 0, &bf);
        if (r < 0)
                return r;
        r = backup_file_set_resume(bf, geometry_progress_to_position(geo, 0));
        backup_file_free(bf);
        if (r >= 0)
                r = record_save(backup_uuid_format(id.uuid, uuid), md_name(md), o->backup_path);
        /* A new reshape: a pause left by an earlier one is not its. */
        if (r >= 0)
                r = record_pause_clear(uuid);
        if (r < 0)
                (void) unlink(o->backup_path);
        return r;
}

/* The set-up was refused and the array is as it was: nothing to keep. */
static void remove_backup(struct md *md, const char *path)
{
        char uuid[BACKUP_UUID_STRING_MAX];
        uint8_t raw[16];
        uint64_t events;

        if (unlink(path) < 0)
                log_warning_errno(errno, "Failed to remove %s: %m", path);
        if (md_read_uuid_and_events(md, raw, &events) == 0)
                (void) record_remove(backup_uuid_format(raw, uuid), md_name(md));
}

static int run(int argc, char **argv)
{
        static const struct option options[] = {
                CMD_SUPERVISOR_LONG_OPTIONS,
                { "chunk",        required_argument, NULL, 'c' },
                { "layout",       required_argument, NULL, 'l' },
                { "level",        required_argument, NULL, 'L' },
                { "raid-devices", required_argument, NULL, 'n' },
                { "help",         no_argument,       NULL, 'h' },
                {}
        };
        struct supervisor_options o;
        const char *layout_name = NULL;
        struct start_request req = {};
        struct offset_plan offsets = {};
        bool level_change = false;
        struct md_geometry planned;
        struct reshape_geometry geo;
        struct md_geometry g;
        struct md *md = NULL;
        unsigned long n;
        char *end;
        int opt, r, lock = -1, ret = EXIT_FAILURE_RUN;

        supervisor_options_init(&o);
        while ((opt = cmd_supervisor_getopt(argc, argv, CMD_SUPERVISOR_SHORT_OPTIONS "c:l:L:n:h", options, &o)) != -1) {
                switch (opt) {
                case 'c':
                        if (cli_parse_size(optarg, &req.chunk_bytes) < 0 || req.chunk_bytes < 4096 ||
                            (req.chunk_bytes & (req.chunk_bytes - 1))) {
                                log_error("--chunk: '%s' is not a power of two of at least 4K (like 128K).", optarg);
                                return EXIT_USAGE;
                        }
                        req.set_chunk = true;
                        break;
                case 'l':
                        layout_name = optarg;
                        req.set_layout = true;
                        break;
                case 'L':
                        level_change = true;
                        break;
                case 'n':
                        errno = 0;
                        n = strtoul(optarg, &end, 10);
                        if (errno || *end || n == 0 || n > 256) {
                                log_error("--raid-devices: '%s' is not a number of devices.", optarg);
                                return EXIT_USAGE;
                        }
                        req.raid_disks = (unsigned) n;
                        req.set_raid_disks = true;
                        break;
                case 'h':
                        cmd_print_help(&cmd_start);
                        return EXIT_OK;
                default:
                        return EXIT_USAGE;
                }
        }
        if (level_change) {
                log_error("Level changes need a takeover first (raid5 -> raid6 adds a Q disk), which mdadm does: "
                          "run 'mdadm --grow DEVICE --level=N --raid-devices=N --backup-file FILE'; with reshaped's "
                          "drop-in installed its hand-off runs 'reshaped supervise'.");
                return EXIT_USAGE;
        }
        if (optind + 1 != argc || (!req.set_chunk && !req.set_layout && !req.set_raid_disks)) {
                log_error("start needs an array and --chunk, --layout or --raid-devices; see 'reshaped help start'.");
                return EXIT_USAGE;
        }

        /* The lock is held until the supervisor below, in this process, returns. */
        r = cmd_open_locked(argv[optind], &md, &lock);
        if (r < 0)
                return EXIT_FAILURE_RUN;
        r = md_get_geometry(md, &g);
        if (r < 0)
                goto out;
        r = check_array(md, &g);
        if (r < 0)
                goto out;
        if (req.set_layout && parse_layout(layout_name, g.level, &req.layout) < 0) {
                ret = EXIT_USAGE;
                goto out;
        }
        if ((!req.set_chunk || req.chunk_bytes == g.chunk_bytes_new) &&
            (!req.set_layout || req.layout == g.layout_new) &&
            (!req.set_raid_disks || req.raid_disks == g.raid_disks_new)) {
                log_error("%s already has that geometry; nothing to do.", md_name(md));
                ret = EXIT_USAGE;
                goto out;
        }
        if (req.set_raid_disks && req.raid_disks != g.raid_disks_new &&
            check_disk_count(md, &g, &req) < 0) {
                ret = EXIT_USAGE;
                goto out;
        }
        /* raid5.c check_reshape: the array must be a whole number of new chunks. */
        if (req.set_chunk && (g.component_kib * 1024) % req.chunk_bytes != 0) {
                log_error("%s: the member size (%" PRIu64 " KiB) is not a multiple of the new chunk (%" PRIu64
                          " KiB), which md refuses. Shrink what is on the array, then the members, first: "
                          "mdadm --grow %s --size=%" PRIu64 "K",
                          md_name(md), g.component_kib, req.chunk_bytes / 1024, md_devnode(md),
                          g.component_kib / (req.chunk_bytes / 1024) * (req.chunk_bytes / 1024));
                ret = EXIT_USAGE;
                goto out;
        }
        if (!o.backup_path && plan_offset(md, &g, &req, &offsets) < 0) {
                ret = EXIT_USAGE;
                goto out;
        }
        r = planned_shape(md, &g, &req, &offsets, &planned, &geo);
        if (r < 0)
                goto out;
        if (o.backup_path) {
                r = check_placement(md, &geo, &o);
                if (r < 0)
                        goto out;
                r = create_backup(md, &planned, &geo, &o);
                if (r < 0)
                        goto out;
        }
        r = setup_reshape(md, &g, &req, &offsets);
        if (r < 0) {
                uint64_t pos;

                if (o.backup_path && md_get_reshape_position(md, &pos) == 0 && pos == MD_RESHAPE_POSITION_NONE)
                        remove_backup(md, o.backup_path);
                goto out;
        }
        if (offsets.diff_dev_sectors)
                log_info("%s: reshape set up with sync_max=0, moving data_offset %s by %" PRIu64 " sectors on every member: the kernel writes the new layout beside the old, so nothing is at risk and no backup is needed.",
                         md_name(md), offsets.diff_dev_sectors < 0 ? "down" : "up",
                         (uint64_t) (offsets.diff_dev_sectors < 0 ? -offsets.diff_dev_sectors : offsets.diff_dev_sectors));
        else
                log_info("%s: reshape set up with sync_max=0; nothing is rewritten before the first backup.", md_name(md));
        o.keep_level = true;
        r = supervisor_run(md, &o);
        cmd_report_failure(md, r);
        ret = cmd_supervised_exit_status(r);
out:
        md_members_free(offsets.members, offsets.n);
        md_close(md);
        if (lock >= 0)
                close(lock);
        return ret;
}

const struct cmd cmd_start = {
        .name = "start",
        .summary = "start a protected reshape and supervise it",
        .help =
        "Usage: reshaped start DEVICE [--backup-file FILE]\n"
        "                      [--chunk SIZE] [--layout NAME] [--raid-devices N]\n"
        "\n"
        "Starts a reshape of a raid4/5/6 array with native (0.90, 1.x) metadata\n"
        "through sysfs, with sync_max set to 0 before the reshape begins, then\n"
        "supervises it to the end like 'reshaped supervise'. Without a backup\n"
        "file, 1.1/1.2 metadata with room before or after the data lets md write\n"
        "the new layout at a moved data_offset: nothing is at risk, the kernel is\n"
        "only paced. With one (and always for 0.90, 1.0 or no room) the reshape\n"
        "runs in place and the kernel rewrites nothing not already backed up.\n"
        "\n"
        "  -b, --backup-file FILE   back up and reshape in place; the file on a\n"
        "                           disk outside the array\n"
        "  -c, --chunk SIZE         new chunk size (power of two, like 128K)\n"
        "  -l, --layout NAME        new layout (left-symmetric, right-asymmetric, ...)\n"
        "  -n, --raid-devices N     grow onto spares added before (mdadm --add), or\n"
        "                           shrink an array already reduced with\n"
        "                           mdadm --grow --array-size\n"
        "  -w, --max-window SIZE    largest window, held in locked memory (64M)\n"
        "\n"
        "Level changes are left to 'mdadm --grow --backup-file', whose hand-off\n"
        "runs 'reshaped supervise' once the drop-in is installed.\n",
        .run = run,
};
