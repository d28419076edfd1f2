// SPDX-License-Identifier: GPL-2.0-or-later
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "reshaped/restore/restore.h"

static const char *const verdict_text[_RESTORE_VERDICT_MAX] = {
        [RESTORE_OK] = "the backup covers everything the kernel may have rewritten",
        [RESTORE_NO_RESUME] = "the backup holds no section and records no resume position (not written by reshaped)",
        [RESTORE_RESUME_ELSEWHERE] = "the backup holds no section and its resume position is not the array's reshape position",
        [RESTORE_BEHIND] = "the array's reshape is past every section of the backup (the backup is older than the array)",
        [RESTORE_GAP] = "sectors next to the array's reshape position are in no section of the backup",
};

const char *restore_verdict_strerror(enum restore_verdict v)
{
        return (unsigned) v < _RESTORE_VERDICT_MAX ? verdict_text[v] : "unknown verdict";
}

static unsigned live_sections(const struct backup_header *h)
{
        unsigned n = 0;

        for (unsigned i = 0; i < BACKUP_SLOTS; i++)
                if (h->sections[i].length_sectors)
                        n++;
        return n;
}

bool restore_invalid_backup_safe(const struct backup_header *h, uint64_t position_array_sectors)
{
        return h->has_extension && live_sections(h) == 0 &&
               h->resume_array_sectors == position_array_sectors;
}

/* Distance from the position in the direction the reshape runs: where a
 * range starts and ends as seen from the position. */
static void clip(const struct backup_section *s, bool backwards, uint64_t pos,
                 uint64_t *lo, uint64_t *hi)
{
        uint64_t start = s->array_start_sectors, end = start + s->length_sectors;

        if (!backwards) {
                *lo = start > pos ? start : pos;
                *hi = end;
        } else {
                *lo = start;
                *hi = end < pos ? end : pos;
        }
}

static void plan_make(const struct backup_header *h, bool backwards,
                      uint64_t position_array_sectors, struct restore_plan *out)
{
        const uint64_t pos = position_array_sectors;
        /* How far from the position the backup covers without a gap. */
        uint64_t covered_to = pos;
        bool touches = false, progress = true;

        *out = (struct restore_plan) { .verdict = RESTORE_OK };

        if (live_sections(h) == 0) {
                if (!h->has_extension)
                        out->verdict = RESTORE_NO_RESUME;
                else if (h->resume_array_sectors != pos)
                        out->verdict = RESTORE_RESUME_ELSEWHERE;
                return;
        }

        for (unsigned i = 0; i < BACKUP_SLOTS; i++) {
                const struct backup_section *s = &h->sections[i];
                uint64_t lo, hi;

                if (!s->length_sectors)
                        continue;
                clip(s, backwards, pos, &lo, &hi);
                /* A section that ends exactly at the position on the done
                 * side says the kernel was held there. */
                if (backwards ? lo == pos : hi == pos)
                        touches = true;
                if (lo >= hi)
                        continue;
                out->ranges[out->n_ranges++] = (struct restore_range) { i, lo, hi };
        }
        if (out->n_ranges == 0) {
                out->verdict = touches ? RESTORE_OK : RESTORE_BEHIND;
                return;
        }

        /* At most two ranges: extend the covered stretch until neither
         * adds to it. */
        while (progress) {
                progress = false;
                for (unsigned i = 0; i < out->n_ranges; i++) {
                        const struct restore_range *r = &out->ranges[i];

                        if (!backwards && r->lo_array_sectors <= covered_to &&
                            r->hi_array_sectors > covered_to) {
                                covered_to = r->hi_array_sectors;
                                progress = true;
                        } else if (backwards && r->hi_array_sectors >= covered_to &&
                                   r->lo_array_sectors < covered_to) {
                                covered_to = r->lo_array_sectors;
                                progress = true;
                        }
                }
        }
        for (unsigned i = 0; i < out->n_ranges; i++) {
                const struct restore_range *r = &out->ranges[i];

                if (backwards ? r->lo_array_sectors < covered_to : r->hi_array_sectors > covered_to) {
                        out->verdict = RESTORE_GAP;
                        out->n_ranges = 0;
                        return;
                }
        }
}

static void mismatch_u64(struct restore_mismatch *out, unsigned *n, const char *field,
                         const char *unit, uint64_t backup, uint64_t array)
{
        struct restore_mismatch *m;

        if (backup == array)
                return;
        m = &out[(*n)++];
        m->field = field;
        snprintf(m->backup, sizeof(m->backup), "%" PRIu64 "%s", backup, unit);
        snprintf(m->array, sizeof(m->array), "%" PRIu64 "%s", array, unit);
}

static void mismatch_geometry(struct restore_mismatch *out, unsigned *n, bool after,
                              const struct backup_geometry *b, const struct backup_geometry *a)
{
        static const char *const names[2][4] = {
                { "level before the reshape", "raid disks before the reshape",
                  "chunk size before the reshape", "layout before the reshape" },
                { "level after the reshape", "raid disks after the reshape",
                  "chunk size after the reshape", "layout after the reshape" },
        };
        const char *const *f = names[after];

        if (b->level != a->level) {
                struct restore_mismatch *m = &out[(*n)++];

                m->field = f[0];
                snprintf(m->backup, sizeof(m->backup), "raid%" PRId32, b->level);
                snprintf(m->array, sizeof(m->array), "raid%" PRId32, a->level);
        }
        mismatch_u64(out, n, f[1], "", b->raid_disks, a->raid_disks);
        mismatch_u64(out, n, f[2], " bytes", b->chunk_bytes, a->chunk_bytes);
        mismatch_u64(out, n, f[3], "", b->layout, a->layout);
}

unsigned restore_identity_diff(const struct backup_header *h, const struct backup_identity *sb,
                               struct restore_mismatch out[RESTORE_MISMATCH_MAX])
{
        const struct backup_identity *id = &h->identity;
        unsigned n = 0;

        if (memcmp(id->uuid, sb->uuid, sizeof(id->uuid)) != 0) {
                out[n].field = "array UUID";
                backup_uuid_format(id->uuid, out[n].backup);
                backup_uuid_format(sb->uuid, out[n].array);
                n++;
        }
        if (!h->has_extension)
                return n;
        mismatch_geometry(out, &n, false, &id->before, &sb->before);
        mismatch_geometry(out, &n, true, &id->after, &sb->after);
        mismatch_u64(out, &n, "component size", " sectors", id->component_dev_sectors,
                     sb->component_dev_sectors);
        if (id->backwards != sb->backwards) {
                out[n].field = "direction";
                snprintf(out[n].backup, sizeof(out[n].backup), "%s", id->backwards ? "backwards" : "forwards");
                snprintf(out[n].array, sizeof(out[n].array), "%s", sb->backwards ? "backwards" : "forwards");
                n++;
        }
        if (id->events > sb->events + BACKUP_EVENTS_MARGIN)
                mismatch_u64(out, &n, "md event count (the backup's is newer)", "", id->events, sb->events);
        return n;
}

void restore_plan_make(const struct backup_header *h, bool backwards,
                       uint64_t position_array_sectors, bool kernel_guards,
                       struct restore_plan *out)
{
        plan_make(h, backwards, position_array_sectors, out);
        /* Sections at the position are still the data of windows the kernel
         * was held before, and are written back; without them md's own
         * checkpoints protect what lies beyond the position. */
        if (out->verdict != RESTORE_OK && kernel_guards)
                *out = (struct restore_plan) { .verdict = RESTORE_OK, .kernel_guarded = true };
}
