// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * reshaped restore: brings a reshaping array back after a crash or reboot
 * with nothing unprotected. The backup is verified before anything touches
 * the array; the array is then started read-only, frozen with sync_max at
 * its on-disk checkpoint, made writable, the part of the backup beyond the
 * checkpoint is written back through the array (md maps it to the old
 * layout there), and the same process supervises the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reshaped/backup.h"
#include "reshaped/cmd.h"
#include "reshaped/fs-util.h"
#include "reshaped/geometry.h"
#include "reshaped/cli-util.h"
#include "reshaped/log.h"
#include "reshaped/md-assemble.h"
#include "reshaped/md.h"
#include "reshaped/record.h"
#include "reshaped/restore.h"
#include "reshaped/restore-critical.h"
#include "reshaped/supervise-lock.h"
#include "reshaped/supervisor.h"

struct restore_ctx {
        const char *md_name;         /* "md0" */
        char devnode[64];            /* "/dev/md0" */
        char *backup_path;
        struct md_member_super *members;
        size_t n_members;
        const struct md_member_super *freshest;
        struct backup_report rep;
        struct restore_plan plan;
        struct reshape_geometry geo; /* the reshape the superblocks record */
        /* Non-zero: md will not restart from the checkpoint (a grow's first
         * units), restore moves it here first (restore-critical.h). */
        uint64_t critical_position;
        bool ignore_token;           /* --ignore-generation-token */
};

static const char *parse_md_name(const char *spec)
{
        const char *name = strncmp(spec, "/dev/", 5) == 0 ? spec + 5 : spec;

        if (strncmp(name, "md", 2) != 0 || !name[2] || strspn(name + 2, "0123456789") != strlen(name + 2))
                return NULL;
        return name;
}

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
        if (!c->freshest->reshape_active)
                return log_error_errno(EINVAL, "%s: the superblocks of array %s (%s) record no reshape; nothing to restore (assemble it with mdadm --assemble). The backup %s belongs to a reshape that has ended.",
                                       c->md_name, backup_uuid_format(c->freshest->uuid, a),
                                       c->freshest->devnode, c->backup_path);
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

/* Plans to finish a grow's first units up to a position md restarts from
 * and guards, before assembling (restore-critical.h). */
static int decide_critical(struct restore_ctx *c)
{
        uint64_t pos = c->freshest->reshape_position_array_sectors;
        const char *why = NULL;
        int r;

        for (size_t i = 0; i < c->n_members; i++)
                if (c->members[i].events != c->freshest->events)
                        return log_error_errno(EINVAL, "%s: md cannot take this %s over from array sector %" PRIu64 ", inside its critical units, and %s is stale (events %" PRIu64 ", not %" PRIu64 "): finishing its first units needs every member current. Nothing was changed.",
                                               c->md_name, c->geo.backwards ? "shrink" : "grow", pos,
                                               c->members[i].devnode, c->members[i].events, c->freshest->events);
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
static int finish_critical(struct restore_ctx *c)
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
                return decide_critical(c);
        return 0;
}

/* The array runs read-only, so nothing has moved: freeze it and hold
 * sync_max at the checkpoint before it may write. */
static int hold_and_open(struct restore_ctx *c, struct md **ret)
{
        uint64_t pos = c->freshest->reshape_position_array_sectors;
        uint64_t progress = geometry_align_down(&c->geo, geometry_position_to_progress(&c->geo, pos));
        struct md *md = NULL;
        int r;

        r = md_open(c->devnode, &md);
        if (r < 0)
                return r;
        r = md_set_sync_action(md, MD_SYNC_ACTION_FROZEN);
        if (r >= 0)
                r = md_set_sync_max(md, progress);
        if (r >= 0)
                r = md_write_attr(md, "array_state", "active");
        if (r < 0) {
                md_close(md);
                return r;
        }
        log_info("%s: assembled, reshape frozen with sync_max at %" PRIu64 " (the checkpoint), writable.",
                 c->md_name, progress);
        *ret = md;
        return 0;
}

static int write_back_range(struct restore_ctx *c, struct backup_file *bf, int array_fd,
                            const struct restore_range *rr)
{
        const struct backup_section *s = &backup_file_header(bf)->sections[rr->slot];
        uint64_t skip_bytes = sectors_to_bytes(rr->lo_array_sectors - s->array_start_sectors);
        uint64_t len_bytes = sectors_to_bytes(rr->hi_array_sectors - rr->lo_array_sectors);
        void *buf = NULL;
        ssize_t n;
        int r;

        if (posix_memalign(&buf, BACKUP_ALIGN_BYTES, sectors_to_bytes(s->length_sectors)) != 0)
                return log_error_errno(ENOMEM, "Out of memory for a %" PRIu64 "-sector section.",
                                       s->length_sectors);
        r = backup_file_read_section(bf, rr->slot, buf);
        if (r < 0) {
                log_error_errno(r, "%s: section %u of %s does not read back intact: %m", c->md_name,
                                rr->slot, c->backup_path);
                goto out;
        }
        n = pwrite(array_fd, (char *) buf + skip_bytes, len_bytes,
                   (off_t) sectors_to_bytes(rr->lo_array_sectors));
        if (n < 0 || (uint64_t) n != len_bytes) {
                r = log_error_errno(n < 0 ? errno : EIO, "%s: failed to write back array sectors %" PRIu64 "-%" PRIu64 ": %s",
                                    c->md_name, rr->lo_array_sectors, rr->hi_array_sectors,
                                    n < 0 ? strerror(errno) : "short write");
                goto out;
        }
        r = 0;
out:
        free(buf);
        return r;
}

/* mdadm's files (no extension) are opened read-only and cannot be
 * emptied: once written back, move one aside (renamed, the directory
 * synced), so that no later restore finds its stale sections. */
static int retire_mdadm_file(struct restore_ctx *c, struct backup_file **bf)
{
        char *aside = NULL;
        int r;

        *bf = backup_file_free(*bf);
        if (asprintf(&aside, "%s.restored", c->backup_path) < 0)
                return log_error_errno(ENOMEM, "Out of memory.");
        if (rename(c->backup_path, aside) < 0) {
                r = log_error_errno(errno, "%s: failed to move %s aside after the write-back: %m", c->md_name,
                                    c->backup_path);
                free(aside);
                return r;
        }
        r = fsync_parent_dir(aside);
        if (r >= 0)
                log_info("%s: %s (mdadm's) is written back and moved to %s.", c->md_name, c->backup_path, aside);
        free(aside);
        return r;
}

/*
 * Writes the ranges back, flushes the array, then empties the backup
 * (resume position at the checkpoint) in one synced header: from then on
 * the array's copy is the only one, and writes that reach it beyond the
 * checkpoint cannot be overwritten by a second restore from the old
 * sections. Only then may the supervisor (or anyone) write there.
 */
static int write_back(struct restore_ctx *c)
{
        uint64_t pos = c->freshest->reshape_position_array_sectors;
        struct backup_file *bf = NULL;
        int fd = -1, r;

        r = backup_file_open(c->backup_path, &bf);
        if (r < 0)
                return r;
        if (c->plan.n_ranges > 0) {
                fd = open(c->devnode, O_WRONLY | O_DIRECT | O_CLOEXEC);
                if (fd < 0) {
                        r = log_error_errno(errno, "Failed to open %s for writing: %m", c->devnode);
                        goto out;
                }
        }
        for (unsigned i = 0; i < c->plan.n_ranges && r >= 0; i++)
                r = write_back_range(c, bf, fd, &c->plan.ranges[i]);
        if (r >= 0 && fd >= 0 && fsync(fd) < 0)
                r = log_error_errno(errno, "Failed to flush %s: %m", c->devnode);
        if (r < 0)
                goto out;
        if (c->plan.n_ranges > 0)
                log_info("%s: wrote back %u range(s) from %s.", c->md_name, c->plan.n_ranges, c->backup_path);
        if (!backup_file_header(bf)->has_extension) {
                r = retire_mdadm_file(c, &bf);
                goto out;
        }
        r = backup_file_supersede(bf, pos);
        if (r < 0) {
                log_error_errno(r, "%s: failed to empty %s after the write-back: %m", c->md_name, c->backup_path);
                goto out;
        }
        log_info("%s: %s emptied (resume position %" PRIu64 "): the array holds everything it held.",
                 c->md_name, c->backup_path, pos);
out:
        if (fd >= 0)
                close(fd);
        backup_file_free(bf);
        return r;
}

/*
 * --dry-run: what prepare() found and what the rest of a restore would do
 * with it. The geometry comes from the superblocks, since the array is not
 * running; the same conversions as hold_and_open()'s give where the
 * reshape would continue.
 */
static int print_dry_run(const struct restore_ctx *c, bool supervise)
{
        const struct backup_identity *id = &c->freshest->identity;
        uint64_t pos = c->freshest->reshape_position_array_sectors;
        struct geometry_input in = {
                .old_level = id->after.level, .new_level = id->after.level,
                .old_raid_disks = id->before.raid_disks, .new_raid_disks = id->after.raid_disks,
                .old_chunk_bytes = id->before.chunk_bytes, .new_chunk_bytes = id->after.chunk_bytes,
                .component_kib = id->component_dev_sectors / 2,
                .backwards = c->freshest->backwards,
        };
        struct reshape_geometry g;
        const char *why = NULL;
        uint64_t progress;
        int r;

        r = geometry_init(&g, &in, &why);
        if (r < 0)
                return log_error_errno(r, "Cannot restore the reshape of %s: %s.", c->md_name, why);
        progress = geometry_align_down(&g, geometry_position_to_progress(&g, pos));

        printf("%s: dry run; nothing was written.\n", c->devnode);
        printf("backup: %s, generation %" PRIu64 ": %s\n", c->backup_path, c->rep.header.generation,
               c->rep.verdict.reason == BACKUP_VERIFY_OK
                       ? "verified (header and section checksums, array and reshape identity)"
                       : "mdadm's format, no checksums: not verified");
        printf("reshape: %s, checkpoint at array sector %" PRIu64 " (byte %" PRIu64 ")\n",
               c->freshest->backwards ? "backwards" : "forwards", pos, sectors_to_bytes(pos));
        if (c->critical_position) {
                printf("finish first units: array sectors %" PRIu64 "-%" PRIu64 " written in the new layout to every member, then every superblock records the reshape at %" PRIu64 " (md does not restart from %" PRIu64 ")\n",
                       pos, c->critical_position, c->critical_position, pos);
                pos = c->critical_position;
                progress = geometry_align_down(&g, geometry_position_to_progress(&g, pos));
        } else if (c->plan.n_ranges == 0) {
                printf("write back: nothing (the kernel was held at the checkpoint)\n");
        }
        for (unsigned i = 0; i < c->plan.n_ranges && !c->critical_position; i++) {
                const struct restore_range *rr = &c->plan.ranges[i];
                struct dev_range d = geometry_old_layout_dev_rows(
                        &g, (struct array_range) { rr->lo_array_sectors, rr->hi_array_sectors });

                printf("write back: array bytes %" PRIu64 "-%" PRIu64 " (sectors %" PRIu64 "-%" PRIu64
                       ") from section %u; member sectors %" PRIu64 "-%" PRIu64
                       " from the data offset, on every member\n",
                       sectors_to_bytes(rr->lo_array_sectors), sectors_to_bytes(rr->hi_array_sectors),
                       rr->lo_array_sectors, rr->hi_array_sectors, rr->slot, d.lo_dev_sectors,
                       d.hi_dev_sectors);
        }
        printf("continue: from array sector %" PRIu64 ", sync_max %" PRIu64 " (member sectors), %s\n", pos,
               progress, supervise ? "supervised to the end" : "left frozen (--no-supervise)");
        return 0;
}

static int block_stop_signals(void)
{
        sigset_t mask;

        return cli_block_stop_signals(&mask);
}

static int prepare(struct restore_ctx *c, const char *backup_option, char **paths, size_t n)
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
        if (r < 0)
                return r;
        return decide(c);
}

static int run(int argc, char **argv)
{
        static const struct option options[] = {
                { "backup-file",  required_argument, NULL, 'b' },
                { "max-window",   required_argument, NULL, 'w' },
                { "no-supervise", no_argument,       NULL, 'n' },
                { "ignore-generation-token", no_argument, NULL, 'G' },
                { "dry-run",      no_argument,       NULL, 'D' },
                { "help",         no_argument,       NULL, 'h' },
                {}
        };
        struct restore_ctx c = {};
        struct supervisor_options o;
        const char *backup_option = NULL;
        struct md *md = NULL;
        bool supervise = true, dry_run = false;
        pid_t holder;
        int opt, r, lock = -1;

        supervisor_options_init(&o);
        while ((opt = getopt_long(argc, argv, "b:w:nh", options, NULL)) != -1) {
                switch (opt) {
                case 'b':
                        backup_option = optarg;
                        break;
                case 'w':
                        if (supervisor_options_max_window(&o, optarg) < 0)
                                return EXIT_USAGE;
                        break;
                case 'n':
                        supervise = false;
                        break;
                case 'G':
                        c.ignore_token = true;
                        break;
                case 'D':
                        dry_run = true;
                        break;
                case 'h':
                        cmd_print_help(&cmd_restore);
                        return EXIT_OK;
                default:
                        return EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                log_error("restore needs the array, like /dev/md0; see 'reshaped help restore'.");
                return EXIT_USAGE;
        }
        c.md_name = parse_md_name(argv[optind]);
        if (!c.md_name) {
                log_error("'%s' is not an array name like /dev/md0 (named arrays /dev/md/NAME: use the mdN they run as).",
                          argv[optind]);
                return EXIT_USAGE;
        }
        snprintf(c.devnode, sizeof(c.devnode), "/dev/%s", c.md_name);

        /* A dry run writes nothing, not even the lock: it must not make a
         * supervisor that starts meanwhile refuse. */
        if (!dry_run) {
                r = lock = supervise_lock_take(c.md_name, &holder);
                if (r < 0)
                        goto out;
        }
        r = prepare(&c, backup_option, argv + optind + 1, (size_t) (argc - optind - 1));
        if (r < 0)
                goto out;
        if (dry_run) {
                r = print_dry_run(&c, supervise);
                goto out;
        }
        /* From the assembly until the backup is emptied a signal would
         * leave a torn array running; the supervisor takes them from its
         * signalfd afterwards (a pending one stops it safely). */
        r = block_stop_signals();
        if (r < 0)
                goto out;
        if (c.critical_position) {
                r = finish_critical(&c);
                if (r < 0)
                        goto out;
        }
        r = md_assemble_readonly(c.md_name, c.members, c.n_members);
        if (r < 0)
                goto out;
        r = hold_and_open(&c, &md);
        if (r < 0)
                goto out;
        r = write_back(&c);
        if (r < 0) {
                log_error("%s: the reshape stays frozen at its checkpoint; after fixing the cause, stop the array (mdadm --stop %s) and run reshaped restore again.",
                          c.md_name, c.devnode);
                goto out;
        }
        if (!supervise) {
                printf("%s is assembled and its reshape frozen at the checkpoint.\n"
                       "Continue with: reshaped supervise %s --backup-file %s\n",
                       c.devnode, c.devnode, c.backup_path);
                goto out;
        }
        o.backup_path = c.backup_path;
        r = supervisor_run(md, &o);
out:
        md_close(md);
        md_member_supers_free(c.members, c.n_members);
        free(c.backup_path);
        if (lock >= 0)
                close(lock);
        return cmd_supervised_exit_status(r);
}

const struct cmd cmd_restore = {
        .name = "restore",
        .summary = "bring a reshaping array back after a crash and supervise it",
        .help =
        "Usage: reshaped restore DEVICE [--backup-file FILE] [--no-supervise]\n"
        "                        [--dry-run] [--max-window SIZE] [--ignore-generation-token]\n"
        "                        [MEMBER...]\n"
        "\n"
        "Starts an array whose reshape a crash or reboot interrupted, with nothing\n"
        "unprotected at any moment, and supervises the rest of the reshape:\n"
        "\n"
        "  1. Reads the members' superblocks (MEMBERs, or every block device that\n"
        "     carries the backup's array UUID; one node per member) and verifies\n"
        "     the backup file: header and section checksums, and that it was taken\n"
        "     for the reshape the superblocks record (array UUID, level, raid disks,\n"
        "     chunk and layout before and after, component size, direction, md\n"
        "     event count), and that it is not older than the newest generation\n"
        "     the supervisor recorded in the state directory. A backup that does not\n"
        "     verify, of another reshape, or stale is refused, field by field,\n"
        "     before anything touches the array.\n"
        "  2. Checks that the backup holds every sector the kernel may have\n"
        "     rewritten beyond the on-disk checkpoint (or, holding no section, that\n"
        "     the kernel was held exactly there).\n"
        "  3. Starts the array read-only through sysfs, freezes the reshape with\n"
        "     sync_max at the checkpoint, makes the array writable and writes that\n"
        "     part of the backup back through it. (mdadm --assemble cannot be used:\n"
        "     it starts a same-size reshape with sync_max=max before any supervisor\n"
        "     could take over, even with --freeze-reshape.)\n"
        "  4. Supervises the reshape until it ends, as 'reshaped supervise' does.\n"
        "\n"
        "  -b, --backup-file FILE  the backup (default: the path reshaped recorded\n"
        "                          in /var/lib/reshaped, or RESHAPED_STATE_DIR)\n"
        "  -n, --no-supervise      stop after step 3, the reshape left frozen, and\n"
        "                          print the command that continues it\n"
        "      --dry-run           do steps 1 and 2 only and print what the rest\n"
        "                          would do: the backup's verdict, the ranges it\n"
        "                          would write back (array bytes and member\n"
        "                          sectors) and where the reshape would continue;\n"
        "                          writes nothing anywhere\n"
        "  -w, --max-window SIZE   largest window while supervising (64M)\n"
        "      --ignore-generation-token\n"
        "                          restore the backup even when it is older than the\n"
        "                          newest generation the supervisor recorded (see\n"
        "                          GENERATION TOKEN in reshaped(8)); what the kernel\n"
        "                          rewrote beyond it stays torn\n"
        "\n"
        "Exit status: 0 when the reshape finished (or, with --no-supervise, the\n"
        "array is up and frozen; with --dry-run, restore would go ahead), 1 on\n"
        "failure (or refusal), 2 on usage errors.\n",
        .run = run,
};
