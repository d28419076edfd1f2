// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "reshaped/backup/backup.h"
#include "reshaped/util/log.h"
#include "reshaped/md/md.h"
#include "reshaped/members/member-read.h"
#include "reshaped/members/member-write.h"
#include "reshaped/supervise/record.h"
#include "reshaped/restore/restore-critical.h"

uint64_t restore_plan_end(const struct restore_plan *plan)
{
        uint64_t end = 0;

        for (unsigned i = 0; i < plan->n_ranges; i++)
                if (plan->ranges[i].hi_array_sectors > end)
                        end = plan->ranges[i].hi_array_sectors;
        return end;
}

static struct stripe_layout layout_of(const struct backup_geometry *bg)
{
        return (struct stripe_layout) {
                .level = bg->level,
                .raid_disks = bg->raid_disks,
                .chunk_sectors = bytes_to_sectors(bg->chunk_bytes),
                .algorithm = bg->layout,
        };
}

/* The members by slot, for a layout of @raid_disks; a slot no member
 * claims stays NULL. */
static int members_by_slot(const struct md_member_super *members, size_t n, unsigned raid_disks,
                           struct member_source *src)
{
        memset(src, 0, sizeof(*src) * raid_disks);
        for (size_t i = 0; i < n; i++) {
                const struct md_member_super *m = &members[i];

                if (m->moves_data)
                        return log_error_errno(EOPNOTSUPP, "%s: the reshape also moves the data offset; md restarts such a reshape itself.",
                                               m->devnode);
                if (m->slot < 0 || (unsigned) m->slot >= raid_disks)
                        continue;
                if (src[m->slot].path)
                        return log_error_errno(EINVAL, "%s and %s both claim slot %d of the array; name its members as they are now.",
                                               src[m->slot].path, m->devnode, m->slot);
                src[m->slot] = (struct member_source) { m->devnode, m->data_offset_dev_sectors };
        }
        return 0;
}

/* The same for a layout restore writes: every member, parity included. */
static int members_all_slots(const struct md_member_super *members, size_t n, unsigned raid_disks,
                             struct member_source *src)
{
        int r = members_by_slot(members, n, raid_disks, src);

        if (r < 0)
                return r;
        for (unsigned i = 0; i < raid_disks; i++)
                if (!src[i].path)
                        return log_error_errno(ENODEV, "No member holds slot %u of the array: restore writes this part of the reshape onto every member. Nothing was changed; name all members.",
                                               i);
        return 0;
}

/* The backup's part of [checkpoint, position) into @buf. */
static int fill_from_backup(const char *backup_path, const struct restore_plan *plan,
                            uint64_t checkpoint, uint64_t position, uint8_t *buf)
{
        struct backup_file *bf = NULL;
        void *section = NULL;
        int r;

        r = backup_file_open(backup_path, &bf);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < plan->n_ranges && r >= 0; i++) {
                const struct restore_range *rr = &plan->ranges[i];
                const struct backup_section *s = &backup_file_header(bf)->sections[rr->slot];
                uint64_t lo = rr->lo_array_sectors > checkpoint ? rr->lo_array_sectors : checkpoint;
                uint64_t hi = rr->hi_array_sectors < position ? rr->hi_array_sectors : position;

                if (hi <= lo)
                        continue;
                if (posix_memalign(&section, BACKUP_ALIGN_BYTES, sectors_to_bytes(s->length_sectors)) != 0) {
                        section = NULL;
                        r = log_error_errno(ENOMEM, "Out of memory for a %" PRIu64 "-sector section.", s->length_sectors);
                        break;
                }
                r = backup_file_read_section(bf, rr->slot, section);
                if (r < 0)
                        log_error_errno(r, "Section %u of %s does not read back intact: %m", rr->slot, backup_path);
                else
                        memcpy(buf + sectors_to_bytes(lo - checkpoint),
                               (uint8_t *) section + sectors_to_bytes(lo - s->array_start_sectors),
                               sectors_to_bytes(hi - lo));
                free(section);
                section = NULL;
        }
        backup_file_free(bf);
        return r;
}

/* Array sectors [lo, hi) as the old layout still holds them. */
static int fill_from_old_layout(const struct stripe_layout *old, const struct member_source *src,
                                uint64_t array_sectors, uint64_t lo, uint64_t hi, void *buf)
{
        struct member_scratch *sc = NULL;
        struct member_set *ms = NULL;
        uint64_t usable;
        int r;

        r = member_set_open(old, src, old->raid_disks, array_sectors, &ms);
        if (r >= 0)
                r = member_set_refresh(ms, NULL, &usable);
        if (r >= 0)
                r = member_scratch_new(ms, &sc);
        if (r >= 0)
                r = member_set_read(ms, usable, (struct array_range) { lo, hi }, lo, hi, buf, sc);
        if (r < 0)
                log_error_errno(r, "Failed to read array sectors %" PRIu64 "-%" PRIu64 " from the old layout on the members: %m",
                                lo, hi);
        member_scratch_free(sc);
        member_set_free(ms);
        return r;
}

/*
 * Makes [from, position), which only the old layout holds, durable in an
 * empty slot of the backup before the members are written: the new rows
 * overwrite old rows holding it. It starts where the backup's section
 * ends, so the two cover the units without overlapping. The generation
 * token follows, so no copy of the file from before counts as newest.
 */
static int save_to_backup(const char *backup_path, const uint8_t uuid[16], uint64_t from,
                          uint64_t position, const void *buf)
{
        char uuid_s[BACKUP_UUID_STRING_MAX];
        struct record_token *t = NULL;
        struct backup_file *bf = NULL;
        const struct backup_header *h;
        unsigned slot;
        int r;

        r = backup_file_open(backup_path, &bf);
        if (r < 0)
                return r;
        h = backup_file_header(bf);
        slot = h->sections[0].length_sectors == 0 ? 0 : 1;
        if (h->sections[slot].length_sectors) {
                r = log_error_errno(EBUSY, "Both slots of %s hold sections: there is no room to save array sectors %" PRIu64 "-%" PRIu64 " before they are rewritten. Nothing was changed.",
                                    backup_path, from, position);
                goto out;
        }
        r = backup_file_store(bf, slot, from, position - from, buf);
        if (r < 0)
                goto out;
        r = record_token_open(backup_uuid_format(uuid, uuid_s), &t);
        if (r >= 0)
                r = record_token_write(t, backup_file_header(bf)->generation);
        record_token_close(t);
        if (r < 0)
                log_error_errno(r, "Failed to record generation %" PRIu64 " of %s in its token: %m",
                                backup_file_header(bf)->generation, backup_path);
        else
                log_info("Saved array sectors %" PRIu64 "-%" PRIu64 " into slot %u of %s (generation %" PRIu64 ").",
                         from, position, slot, backup_path, backup_file_header(bf)->generation);
out:
        backup_file_free(bf);
        return r;
}

/* Array sectors [lo, hi), whole stripes of @layout, onto the members. */
static int write_layout(const struct stripe_layout *layout, const struct member_source *src,
                        uint64_t lo, uint64_t hi, void *buf)
{
        uint64_t row = stripe_layout_stripe_sectors(layout);
        struct member_writer *w = NULL;
        int r;

        r = member_writer_open(layout, src, &w);
        if (r >= 0)
                r = member_writer_put(w, lo / row, (hi - lo) / row, buf);
        if (r >= 0)
                r = member_writer_sync(w);
        member_writer_free(w);
        return r;
}

int restore_critical_finish(const struct reshape_geometry *g, const struct backup_identity *id,
                            const struct md_member_super *members, size_t n,
                            const char *backup_path, const struct restore_plan *plan,
                            uint64_t checkpoint_array_sectors, uint64_t position_array_sectors)
{
        const uint64_t checkpoint = checkpoint_array_sectors, position = position_array_sectors;
        const uint64_t plan_end = restore_plan_end(plan);
        const uint64_t backup_end = plan_end > checkpoint ? plan_end : checkpoint;
        struct stripe_layout old = layout_of(&id->before), new = layout_of(&id->after);
        struct member_source old_src[STRIPE_MAX_DISKS], new_src[STRIPE_MAX_DISKS];
        void *buf = NULL;
        int r;

        if (old.raid_disks > STRIPE_MAX_DISKS || new.raid_disks > STRIPE_MAX_DISKS)
                return log_error_errno(EOPNOTSUPP, "More than %d members are not supported.", STRIPE_MAX_DISKS);
        if (position <= checkpoint || position % stripe_layout_stripe_sectors(&new) ||
            checkpoint % stripe_layout_stripe_sectors(&new))
                return log_error_errno(EINVAL, "Array sectors %" PRIu64 "-%" PRIu64 " are not whole stripes of the new layout.",
                                       checkpoint, position);
        r = members_all_slots(members, n, new.raid_disks, new_src);
        if (r >= 0)
                r = members_by_slot(members, n, old.raid_disks, old_src);
        if (r < 0)
                return r;
        if (posix_memalign(&buf, 4096, sectors_to_bytes(position - checkpoint)) != 0)
                return log_error_errno(ENOMEM, "Out of memory for %" PRIu64 " sectors.", position - checkpoint);

        r = fill_from_backup(backup_path, plan, checkpoint, position, buf);
        if (r >= 0 && backup_end < position) {
                r = fill_from_old_layout(&old, old_src, g->array_sectors, backup_end, position,
                                         (uint8_t *) buf + sectors_to_bytes(backup_end - checkpoint));
                if (r >= 0)
                        r = save_to_backup(backup_path, id->uuid, backup_end, position,
                                           (uint8_t *) buf + sectors_to_bytes(backup_end - checkpoint));
        }
        if (r >= 0)
                r = write_layout(&new, new_src, checkpoint, position, buf);
        free(buf);
        if (r < 0)
                return r;
        log_info("Wrote array sectors %" PRIu64 "-%" PRIu64 " in the new layout to every member.",
                 checkpoint, position);

        for (size_t i = 0; i < n; i++) {
                r = md_super_write_reshape_position(members[i].devnode, members[i].major, members[i].minor,
                                                    position);
                if (r < 0)
                        return log_error_errno(r, "Failed to record the reshape position in %s; the backup still holds everything, run reshaped restore again: %m",
                                               members[i].devnode);
        }
        log_info("Every member now records the reshape at array sector %" PRIu64 ".", position);
        return 0;
}

int restore_critical_write_old(const struct reshape_geometry *g, const struct backup_identity *id,
                               const struct md_member_super *members, size_t n,
                               const char *backup_path, const struct restore_plan *plan,
                               uint64_t checkpoint_array_sectors)
{
        struct stripe_layout old = layout_of(&id->before);
        const uint64_t row = stripe_layout_stripe_sectors(&old);
        const uint64_t new_row = g->new_chunk_sectors * g->new_data_disks;
        struct member_source src[STRIPE_MAX_DISKS];
        uint64_t lo = UINT64_MAX, hi = 0;
        void *buf = NULL;
        int r;

        if (old.raid_disks > STRIPE_MAX_DISKS)
                return log_error_errno(EOPNOTSUPP, "More than %d members are not supported.", STRIPE_MAX_DISKS);
        for (unsigned i = 0; i < plan->n_ranges; i++) {
                if (plan->ranges[i].lo_array_sectors < lo)
                        lo = plan->ranges[i].lo_array_sectors;
                if (plan->ranges[i].hi_array_sectors > hi)
                        hi = plan->ranges[i].hi_array_sectors;
        }
        if (hi <= lo)
                return 0;
        lo = lo / row * row;
        hi = (hi + row - 1) / row * row;
        /* The old stripes written must lie below the member rows where the
         * new layout already holds the array from the checkpoint on. */
        if (!g->backwards || hi / row * g->old_chunk_sectors >
                                     checkpoint_array_sectors / new_row * g->new_chunk_sectors)
                return log_error_errno(ERANGE, "Array sectors %" PRIu64 "-%" PRIu64 " in the old layout would overlap the new layout from array sector %" PRIu64 " on. Nothing was changed.",
                                       lo, hi, checkpoint_array_sectors);
        r = members_all_slots(members, n, old.raid_disks, src);
        if (r < 0)
                return r;
        if (posix_memalign(&buf, 4096, sectors_to_bytes(hi - lo)) != 0)
                return log_error_errno(ENOMEM, "Out of memory for %" PRIu64 " sectors.", hi - lo);
        /* What the backup does not hold of these stripes stays as the
         * members hold it; only their parity is computed anew. */
        r = fill_from_old_layout(&old, src, g->array_sectors, lo, hi, buf);
        if (r >= 0)
                r = fill_from_backup(backup_path, plan, lo, hi, buf);
        if (r >= 0)
                r = write_layout(&old, src, lo, hi, buf);
        free(buf);
        if (r < 0)
                return r;
        log_info("Wrote the backup back onto every member in the old layout (array sectors %" PRIu64 "-%" PRIu64 ", whole old stripes).",
                 lo, hi);
        return 0;
}
