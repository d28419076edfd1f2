// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * reshaped restore, before it writes anything: which members, which
 * backup, whether that backup is the newest, of this array and of this
 * reshape, and what to write back, or how to finish a grow's first units.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reshaped/util/log.h"
#include "reshaped/supervise/record.h"
#include "reshaped/restore/restore-critical.h"
#include "restore/restore-internal.h"

static int probe_members(struct restore_ctx *c, char **paths, size_t n)
{
        c->members = calloc(n, sizeof(*c->members));
        if (!c->members)
                return log_error_errno(ENOMEM, "Out of memory.");
        for (size_t i = 0; i < n; i++) {
                int r = md_member_super_probe(paths[i], &c->members[i]);

                if (r == -ENODATA)
                        return log_error_errno(r, "%s holds no md superblock (0.90 or 1.x); name the array's members.",
                                               paths[i]);
                if (r < 0)
                        return r;
                c->n_members++;
        }
        return 0;
}

static int find_backup_path(struct restore_ctx *c, const char *option)
{
        char uuid[BACKUP_UUID_STRING_MAX];

        if (option) {
                c->backup_path = strdup(option);
                return c->backup_path ? 0 : log_error_errno(ENOMEM, "Out of memory.");
        }
        if (c->freshest && record_lookup(backup_uuid_format(c->freshest->uuid, uuid), &c->backup_path) == 0)
                return 0;
        if (record_lookup(c->md_name, &c->backup_path) == 0)
                return 0;
        return log_error_errno(ENOENT, "No backup file recorded for %s%s%s in the state directory (RESHAPED_STATE_DIR or /var/lib/reshaped): pass --backup-file FILE.",
                               c->md_name, c->freshest ? " or array " : "",
                               c->freshest ? backup_uuid_format(c->freshest->uuid, uuid) : "");
}

static void print_backup(const struct restore_ctx *c)
{
        const struct backup_header *h = &c->rep.header;
        bool any = false;

        log_info("%s: backup %s, generation %" PRIu64 "%s:", c->md_name, c->backup_path, h->generation,
                 h->has_extension ? "" : " (mdadm's format: no checksums, nothing verified)");
        for (unsigned i = 0; i < BACKUP_SLOTS; i++) {
                const struct backup_section *s = &h->sections[i];

                if (!s->length_sectors)
                        continue;
                any = true;
                log_info("  section %u: array sectors %" PRIu64 "-%" PRIu64 " (%" PRIu64 " KiB)%s", i,
                         s->array_start_sectors, s->array_start_sectors + s->length_sectors,
                         s->length_sectors / 2, h->has_extension ? ", CRC32C verified" : "");
        }
        if (!any)
                log_info("  no section; resume position %" PRIu64, h->resume_array_sectors);
}

static int refuse_unverified(const struct restore_ctx *c)
{
        const struct backup_verify *v = &c->rep.verdict;
        char where[32] = "";

        if (v->section >= 0)
                snprintf(where, sizeof(where), "section %d: ", v->section);
        return log_error_errno(EBADMSG,
                               "%s: the backup %s does not verify (%s%s; check '%s'). Nothing was changed. Find the right backup file (see 'reshaped inspect %s'); only if none exists, 'mdadm --assemble --invalid-backup' starts the array and loses whatever the kernel rewrote beyond its checkpoint.",
                               c->md_name, c->backup_path, where, backup_verify_strerror(v->reason),
                               backup_verify_reason_id(v->reason), c->backup_path);
}

/* Each field in which the backup's recorded reshape differs from the one
 * the superblocks record gets its own line: a leftover backup of an
 * earlier reshape of the same array has the right UUID and may cover the
 * position, and only these fields tell it apart. */
static int refuse_other_reshape(const struct restore_ctx *c)
{
        struct restore_mismatch m[RESTORE_MISMATCH_MAX];
        unsigned n = restore_identity_diff(&c->rep.header, &c->freshest->identity, m);

        for (unsigned i = 0; i < n; i++)
                log_error("%s: the backup %s records %s %s, the superblocks of the members record %s.",
                          c->md_name, c->backup_path, m[i].field, m[i].backup, m[i].array);
        return log_error_errno(EBADMSG,
                               "%s: the backup %s was taken for another reshape (an earlier reshape of this array leaves one like it). Nothing was changed. Pass the backup file of the reshape the superblocks record with --backup-file (compare them with 'reshaped inspect FILE' and 'mdadm --examine MEMBER').",
                               c->md_name, c->backup_path);
}

/* The generation the supervisor last made durable for the array, from its
 * token; 0 (accept any) when there is none, as after older versions of
 * reshaped or a reshape mdadm monitored. */
static int token_generation(const struct restore_ctx *c, uint64_t *ret)
{
        char uuid[BACKUP_UUID_STRING_MAX], path[PATH_MAX];
        int r;

        backup_uuid_format(c->freshest->uuid, uuid);
        *ret = 0;
        if (record_token_path(uuid, path, sizeof(path)) < 0)
                path[0] = '\0';
        if (c->ignore_token) {
                log_warning("%s: --ignore-generation-token: not checking whether %s is older than the newest backup the supervisor wrote (token %s).",
                            c->md_name, c->backup_path, path);
                return 0;
        }
        r = record_token_read(uuid, ret);
        if (r == -ENOENT) {
                log_info("%s: no generation token %s (written by the supervisor since this version; older records and reshapes mdadm monitored have none): whether %s is the newest backup cannot be checked.",
                         c->md_name, path, c->backup_path);
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "%s: cannot tell whether %s is the newest backup: the generation token %s is unreadable. Nothing was changed. If %s is the newest backup of array %s, pass --ignore-generation-token.",
                                       c->md_name, c->backup_path, path, c->backup_path, uuid);
        return 0;
}

static int refuse_stale(const struct restore_ctx *c, uint64_t token)
{
        char uuid[BACKUP_UUID_STRING_MAX], path[PATH_MAX];

        backup_uuid_format(c->freshest->uuid, uuid);
        if (record_token_path(uuid, path, sizeof(path)) < 0)
                path[0] = '\0';
        return log_error_errno(ESTALE,
                               "%s: the backup %s is stale: its generation is %" PRIu64 ", but the supervisor had made generation %" PRIu64 " durable (token %s), and the kernel may have rewritten what this older copy lacks (%s). Nothing was changed. Find the newest backup of array %s (the path reshaped recorded, or a copy; 'reshaped inspect FILE' shows its generation) and pass it with --backup-file. Only if you know no newer copy survives, --ignore-generation-token restores this one, and whatever the kernel rewrote beyond it stays torn.",
                               c->md_name, c->backup_path, c->rep.header.generation, token, path,
                               backup_verify_reason_id(BACKUP_VERIFY_STALE_GENERATION), uuid);
}

/* Refuses, before anything touches the array, a backup that does not
 * verify, belongs to another array, was taken for another reshape than
 * the one the members' superblocks record, or is older than the newest
 * generation the supervisor recorded (its token). */
static int verify_backup(struct restore_ctx *c)
{
        const struct backup_verify *v = &c->rep.verdict;
        char a[BACKUP_UUID_STRING_MAX], b[BACKUP_UUID_STRING_MAX];
        uint64_t token;
        int r;

        r = token_generation(c, &token);
        if (r < 0)
                return r;
        r = backup_file_verify(c->backup_path, &c->freshest->identity, token, &c->rep);
        if (r < 0)
                return log_error_errno(r, "%s: cannot read the backup file %s: %m. Nothing was changed. Pass the backup of this reshape with --backup-file FILE (the path reshaped recorded is in the state directory, RESHAPED_STATE_DIR or /var/lib/reshaped).",
                                       c->md_name, c->backup_path);
        /* The header's fields mean something only when it decoded. */
        if (!c->rep.header_read || (c->rep.header_verdict.reason != BACKUP_VERIFY_OK &&
                                    c->rep.header_verdict.reason != BACKUP_VERIFY_UNVERIFIED))
                return refuse_unverified(c);
        if (memcmp(c->rep.header.identity.uuid, c->freshest->uuid, 16) != 0)
                return log_error_errno(EBADMSG, "%s: the members (%s%s) belong to array %s, the backup %s to array %s. Nothing was changed; name the members of array %s, or pass that array's backup with --backup-file.",
                                       c->md_name, c->freshest->devnode, c->n_members > 1 ? ", ..." : "",
                                       backup_uuid_format(c->freshest->uuid, a), c->backup_path,
                                       backup_uuid_format(c->rep.header.identity.uuid, b), b);
        /* The reshape ended before its supervisor could clean up (a cut
         * right at the end): the backup of this array is of no more use. */
        if (!c->freshest->reshape_active) {
                c->ended = true;
                log_notice("%s: the superblocks of array %s (%s) record no reshape: it ended before the interruption, and there is nothing to restore. The backup %s is of no more use.",
                           c->md_name, backup_uuid_format(c->freshest->uuid, a), c->freshest->devnode,
                           c->backup_path);
                return 0;
        }
        if (v->reason == BACKUP_VERIFY_WRONG_UUID || v->reason == BACKUP_VERIFY_WRONG_GEOMETRY ||
            v->reason == BACKUP_VERIFY_WRONG_EVENTS)
                return refuse_other_reshape(c);
        if (v->reason == BACKUP_VERIFY_STALE_GENERATION)
                return refuse_stale(c, token);
        if (v->reason == BACKUP_VERIFY_UNVERIFIED)
                log_warning("%s: %s carries no checksums (mdadm wrote it); its data cannot be verified, nor which reshape it was taken for.",
                            c->md_name, c->backup_path);
        else if (v->reason != BACKUP_VERIFY_OK)
                return refuse_unverified(c);
        print_backup(c);
        return 0;
}

/* Members at the freshest event count that record different positions:
 * a restore that moved a grow's position (restore-critical.h) was cut
 * between superblocks. Both positions are consistent with the data then,
 * md may pick either, and restore goes on from the less advanced. */
static void least_advanced(struct restore_ctx *c)
{
        for (size_t i = 0; i < c->n_members; i++) {
                const struct md_member_super *m = &c->members[i], *f = c->freshest;
                uint64_t mp = m->reshape_position_array_sectors, fp = f->reshape_position_array_sectors;

                if (m->events != f->events || !m->reshape_active || mp == fp || (f->backwards ? mp < fp : mp > fp))
                        continue;
                log_warning("%s: %s records the reshape at array sector %" PRIu64 ", %s at %" PRIu64 " with the same event count; restoring from the less advanced.",
                            c->md_name, m->devnode, mp, f->devnode, fp);
                c->freshest = m;
        }
}

/* Members md would assemble together must tell one story: one array, and
 * those at the freshest event count one reshape. */
static int check_members(struct restore_ctx *c)
{
        char a[BACKUP_UUID_STRING_MAX], b[BACKUP_UUID_STRING_MAX];

        if (c->n_members == 0)
                return log_error_errno(ENODEV, "%s: no block device carries the array's superblock; name its members.",
                                       c->md_name);
        md_member_supers_dedup(c->members, &c->n_members);
        c->freshest = md_member_supers_freshest(c->members, c->n_members);
        for (size_t i = 0; i < c->n_members; i++) {
                const struct md_member_super *m = &c->members[i], *f = c->freshest;
                struct restore_mismatch d[RESTORE_MISMATCH_MAX];
                struct backup_header h = { .has_extension = true, .identity = m->identity };

                if (memcmp(m->uuid, f->uuid, 16) != 0)
                        return log_error_errno(EINVAL, "%s belongs to array %s, %s to %s; name the members of one array.",
                                               m->devnode, backup_uuid_format(m->uuid, a),
                                               f->devnode, backup_uuid_format(f->uuid, b));
                h.identity.events = f->events;
                if (m->events == f->events &&
                    (m->reshape_active != f->reshape_active || restore_identity_diff(&h, &f->identity, d) > 0))
                        return log_error_errno(EINVAL, "%s: %s and %s have the same event count (%" PRIu64 ") but record different reshapes (%s: %s, %s: %s%s%s). Nothing was changed; compare them with 'mdadm --examine' and name the members of the array as it is now.",
                                               c->md_name, m->devnode, f->devnode, f->events,
                                               m->devnode, m->reshape_active ? "reshaping" : "no reshape",
                                               f->devnode, f->reshape_active ? "reshaping" : "no reshape",
                                               m->reshape_active == f->reshape_active ? "; differs in " : "",
                                               m->reshape_active == f->reshape_active ? d[0].field : "");
        }
        least_advanced(c);
        if (c->freshest->reshape_active)
                log_info("%s: %zu member(s), metadata %u.%u, reshape %s at array sector %" PRIu64 " (events %" PRIu64 ").",
                         c->md_name, c->n_members, c->freshest->major, c->freshest->minor,
                         c->freshest->backwards ? "backwards" : "forwards",
                         c->freshest->reshape_position_array_sectors, c->freshest->events);
        else
                log_info("%s: %zu member(s), metadata %u.%u, no reshape (events %" PRIu64 ").",
                         c->md_name, c->n_members, c->freshest->major, c->freshest->minor,
                         c->freshest->events);
        return 0;
}

static int superblock_geometry(struct restore_ctx *c)
{
        const struct backup_identity *id = &c->freshest->identity;
        const struct geometry_input in = {
                .old_level = id->before.level, .new_level = id->after.level,
                .old_raid_disks = id->before.raid_disks, .new_raid_disks = id->after.raid_disks,
                .old_chunk_bytes = id->before.chunk_bytes, .new_chunk_bytes = id->after.chunk_bytes,
                .old_layout = id->before.layout, .new_layout = id->after.layout,
                .component_kib = id->component_dev_sectors / 2,
                .backwards = c->freshest->backwards,
        };
        const char *why = NULL;
        int r;

        r = geometry_init(&c->geo, &in, &why);
        if (r < 0)
                return log_error_errno(r, "Cannot restore the reshape of %s: %s.", c->md_name, why);
        return 0;
}

/* How far the backup holds the array from the checkpoint on. */
static uint64_t backup_end(const struct restore_ctx *c)
{
        uint64_t pos = c->freshest->reshape_position_array_sectors, end = restore_plan_end(&c->plan);

        return end > pos ? end : pos;
}

/*
 * Whether md cannot take the reshape over from the checkpoint: it refuses
 * to restart from it, or the write-back would go to an old-layout stripe
 * the checkpoint splits (a grow's first or a shrink's last units, where
 * the kernel checkpoints on new stripes), and raid5 holds every request
 * to such a stripe until the reshape has passed it: for ever, frozen.
 */
static bool inside_critical_units(const struct restore_ctx *c)
{
        uint64_t pos = c->freshest->reshape_position_array_sectors;

        if (!geometry_kernel_restarts(&c->geo, pos))
                return true;
        return c->plan.verdict == RESTORE_OK && c->plan.n_ranges > 0 &&
               pos % (c->geo.old_chunk_sectors * c->geo.old_data_disks) != 0;
}

/* Writing onto the members in a layout needs each of them current. */
static int all_members_current(const struct restore_ctx *c)
{
        for (size_t i = 0; i < c->n_members; i++)
                if (c->members[i].events != c->freshest->events)
                        return log_error_errno(EINVAL, "%s: md cannot take this %s over from array sector %" PRIu64 " through the array, inside its critical units, and %s is stale (events %" PRIu64 ", not %" PRIu64 "): writing them onto the members needs every member current. Nothing was changed.",
                                               c->md_name, c->geo.backwards ? "shrink" : "grow",
                                               c->freshest->reshape_position_array_sectors, c->members[i].devnode,
                                               c->members[i].events, c->freshest->events);
        return 0;
}

/* A shrink's last units: md restarts from the checkpoint, but would hold
 * the write-back to the old stripe it splits for ever; restore writes the
 * backup onto the members in the old layout first (restore-critical.h). */
static int decide_write_old(struct restore_ctx *c)
{
        uint64_t pos = c->freshest->reshape_position_array_sectors;
        int r;

        if (!geometry_kernel_restarts(&c->geo, pos))
                return log_error_errno(ERANGE, "%s: md cannot restart this shrink from array sector %" PRIu64 " (not a new-stripe boundary md takes over from). Nothing was changed; try mdadm --assemble %s --backup-file %s.",
                                       c->md_name, pos, c->devnode, c->backup_path);
        r = all_members_current(c);
        if (r < 0)
                return r;
        c->write_old = true;
        log_info("%s: array sector %" PRIu64 " splits an old stripe inside the shrink's last units, where md would hold the write-back: it goes onto the members in the old layout before the array is assembled.",
                 c->md_name, pos);
        return 0;
}

/* Plans to finish a grow's first units up to a position md restarts from
 * and guards, before assembling (restore-critical.h). */
static int decide_critical(struct restore_ctx *c)
{
        uint64_t pos = c->freshest->reshape_position_array_sectors;
        const char *why = NULL;
        int r;

        r = all_members_current(c);
        if (r < 0)
                return r;
        if (c->plan.verdict == RESTORE_OK && !c->plan.kernel_guarded)
                r = geometry_critical_restart(&c->geo, pos, backup_end(c), &c->critical_position, &why);
        else
                r = -ERANGE, why = "the backup holds nothing beyond the checkpoint";
        if (r < 0)
                return log_error_errno(r, "%s: md cannot take this %s over from array sector %" PRIu64 ", inside its critical units, and reshaped cannot finish them from %s: %s. Nothing was changed; try mdadm --assemble %s --backup-file %s.",
                                       c->md_name, c->geo.backwards ? "shrink" : "grow", pos, c->backup_path, why,
                                       c->devnode, c->backup_path);
        log_info("%s: md cannot take this grow over from array sector %" PRIu64 ", inside its first units: will write array sectors %" PRIu64 "-%" PRIu64 " in the new layout (from the backup%s) and record the reshape at %" PRIu64 ".",
                 c->md_name, pos, pos, c->critical_position,
                 backup_end(c) < c->critical_position ? " and the old layout beyond it" : "",
                 c->critical_position);
        return 0;
}

/* Does what decide_critical() planned. Then every member records the new
 * position, beyond the backup, where the kernel guards itself: nothing is
 * left to write back, and the backup is emptied with that position. */
int restore_write_old(struct restore_ctx *c)
{
        int r;

        r = restore_critical_write_old(&c->geo, &c->freshest->identity, c->members, c->n_members,
                                       c->backup_path, &c->plan, c->freshest->reshape_position_array_sectors);
        if (r < 0)
                return r;
        /* Nothing is left for the array's own write-back, which only
         * empties the backup now. */
        c->plan.n_ranges = 0;
        return 0;
}

int restore_finish_critical(struct restore_ctx *c)
{
        uint64_t pos = c->freshest->reshape_position_array_sectors;
        int r;

        r = restore_critical_finish(&c->geo, &c->freshest->identity, c->members, c->n_members,
                                    c->backup_path, &c->plan, pos, c->critical_position);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->n_members; i++)
                c->members[i].reshape_position_array_sectors = c->critical_position;
        c->plan = (struct restore_plan) { .verdict = RESTORE_OK, .kernel_guarded = true };
        return 0;
}

static int decide(struct restore_ctx *c)
{
        uint64_t pos = c->freshest->reshape_position_array_sectors;
        bool guards;
        int r;

        r = superblock_geometry(c);
        if (r < 0)
                return r;
        guards = geometry_kernel_guards(&c->geo, geometry_position_to_progress(&c->geo, pos));
        restore_plan_make(&c->rep.header, c->freshest->backwards, pos, guards, &c->plan);
        if (c->plan.kernel_guarded)
                log_info("%s: nothing to write back: at array sector %" PRIu64 " raid5 protects the rest of the reshape by itself (it checkpoints before it overwrites old data), so %s is not needed there.",
                         c->md_name, pos, c->backup_path);
        else if (c->plan.verdict != RESTORE_OK)
                return log_error_errno(EPROTO, "%s: cannot restore from %s: %s (reshape position %" PRIu64 "). Nothing was changed. If no better backup exists, 'mdadm --assemble --invalid-backup' starts the array and loses whatever the kernel rewrote beyond that position.",
                                       c->md_name, c->backup_path, restore_verdict_strerror(c->plan.verdict), pos);
        else if (c->plan.n_ranges == 0)
                log_info("%s: nothing to write back: the kernel was held at array sector %" PRIu64 "%s.",
                         c->md_name, pos,
                         restore_invalid_backup_safe(&c->rep.header, pos) ? " (the backup's resume position)" : "");
        for (unsigned i = 0; i < c->plan.n_ranges; i++)
                log_info("%s: will write back array sectors %" PRIu64 "-%" PRIu64 " from section %u.",
                         c->md_name, c->plan.ranges[i].lo_array_sectors, c->plan.ranges[i].hi_array_sectors,
                         c->plan.ranges[i].slot);
        if (c->freshest->reshape_active && inside_critical_units(c))
                return c->geo.backwards && c->plan.verdict == RESTORE_OK && c->plan.n_ranges > 0
                               ? decide_write_old(c) : decide_critical(c);
        return 0;
}

int restore_prepare(struct restore_ctx *c, const char *backup_option, char **paths, size_t n)
{
        bool running;
        int r;

        r = md_array_is_running(c->md_name, &running);
        if (r < 0)
                return r;
        if (running)
                return log_error_errno(EBUSY, "%s is already running; to protect its reshape use: reshaped supervise %s",
                                       c->md_name, c->devnode);
        if (n > 0) {
                r = probe_members(c, paths, n);
                if (r < 0)
                        return r;
                r = check_members(c);
                if (r < 0)
                        return r;
                r = find_backup_path(c, backup_option);
        } else {
                /* The backup names the array: find its members by UUID. */
                r = find_backup_path(c, backup_option);
                if (r < 0)
                        return r;
                r = backup_file_verify(c->backup_path, NULL, 0, &c->rep);
                if (r < 0)
                        return log_error_errno(r, "Failed to read the backup file %s: %m", c->backup_path);
                if (!c->rep.header_read)
                        return log_error_errno(EBADMSG, "%s has no readable backup header; name the members.",
                                               c->backup_path);
                r = md_member_supers_scan(c->rep.header.identity.uuid, &c->members, &c->n_members);
                if (r < 0)
                        return r;
                r = check_members(c);
        }
        if (r < 0)
                return r;
        r = verify_backup(c);
        if (r < 0 || c->ended)
                return r;
        return decide(c);
}
