// SPDX-License-Identifier: GPL-2.0-or-later
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reshaped/backup/backup-verdict.h"
#include "reshaped/util/json-util.h"
#include "reshaped/report/report.h"
#include "reshaped/report/status.h"

static const char *const state_id[_STATUS_STATE_MAX] = {
        [STATUS_NO_RESHAPE] = "no-reshape",
        [STATUS_PROTECTED] = "protected",
        [STATUS_NOT_AT_RISK] = "not-at-risk",
        [STATUS_TAKING_OVER] = "taking-over",
        [STATUS_HELD] = "held",
        [STATUS_UNPROTECTED] = "unprotected",
        [STATUS_UNKNOWN] = "unknown",
        [STATUS_INACTIVE] = "inactive",
        [STATUS_PAUSED] = "paused",
};

static const char *const state_text[_STATUS_STATE_MAX] = {
        [STATUS_NO_RESHAPE] = "NO RESHAPE",
        [STATUS_PROTECTED] = "PROTECTED",
        [STATUS_NOT_AT_RISK] = "NOT AT RISK",
        [STATUS_TAKING_OVER] = "TAKING OVER",
        [STATUS_HELD] = "HELD",
        [STATUS_UNPROTECTED] = "UNPROTECTED",
        [STATUS_UNKNOWN] = "UNKNOWN",
        [STATUS_INACTIVE] = "INACTIVE",
        [STATUS_PAUSED] = "PAUSED",
};

static const char *const backup_state_id[_STATUS_BACKUP_STATE_MAX] = {
        [STATUS_BACKUP_NONE] = "none",
        [STATUS_BACKUP_UNREADABLE] = "unreadable",
        [STATUS_BACKUP_VERIFIED] = "verified",
        [STATUS_BACKUP_UNVERIFIABLE] = "unverifiable",
        [STATUS_BACKUP_DAMAGED] = "damaged",
        [STATUS_BACKUP_OTHER_ARRAY] = "other-array",
};

const char *status_state_id(enum status_state s)
{
        return (unsigned) s < _STATUS_STATE_MAX ? state_id[s] : "unknown";
}

const char *status_backup_state_id(enum status_backup_state s)
{
        return (unsigned) s < _STATUS_BACKUP_STATE_MAX ? backup_state_id[s] : "unknown";
}

const char *status_state_text(enum status_state s)
{
        return (unsigned) s < _STATUS_STATE_MAX ? state_text[s] : "UNKNOWN";
}

bool status_state_ok(enum status_state s)
{
        return s == STATUS_NO_RESHAPE || s == STATUS_PROTECTED || s == STATUS_NOT_AT_RISK;
}

const char *status_chunk_name(uint32_t bytes, char *buf, size_t size)
{
        if (bytes >= (1u << 20) && bytes % (1u << 20) == 0)
                snprintf(buf, size, "%" PRIu32 "M", bytes >> 20);
        else
                snprintf(buf, size, "%" PRIu32 "K", bytes >> 10);
        return buf;
}

static void describe_change(const struct md_geometry *g, char *buf, size_t size)
{
        char a[32], b[32];
        size_t n = 0;

        buf[0] = '\0';
        if (g->chunk_bytes_old != g->chunk_bytes_new)
                n += (size_t) snprintf(buf + n, size - n, "chunk %s -> %s",
                                       status_chunk_name(g->chunk_bytes_old, a, sizeof(a)),
                                       status_chunk_name(g->chunk_bytes_new, b, sizeof(b)));
        if (g->raid_disks_old != g->raid_disks_new && n < size)
                n += (size_t) snprintf(buf + n, size - n, "%s%u -> %u disks", n ? ", " : "",
                                       g->raid_disks_old, g->raid_disks_new);
        if (g->layout_old != g->layout_new && n < size)
                n += (size_t) snprintf(buf + n, size - n, "%slayout %s -> %s", n ? ", " : "",
                                       md_layout_name(g->level, g->layout_old, a, sizeof(a)),
                                       md_layout_name(g->level, g->layout_new, b, sizeof(b)));
        if (n == 0)
                snprintf(buf, size, "no change of geometry");
}

static uint64_t array_sectors_between(const struct reshape_geometry *g, uint64_t a, uint64_t b)
{
        uint64_t pa = geometry_progress_to_position(g, a), pb = geometry_progress_to_position(g, b);

        return pa > pb ? pa - pb : pb - pa;
}

static double percent_of(const struct reshape_geometry *g, uint64_t progress)
{
        if (g->end_progress_sectors == 0)
                return 100.0;
        if (progress > g->end_progress_sectors)
                progress = g->end_progress_sectors;
        return 100.0 * (double) progress / (double) g->end_progress_sectors;
}

static unsigned held_sections(const struct backup_header *h, struct array_range out[BACKUP_SLOTS])
{
        unsigned n = 0;

        for (unsigned i = 0; i < h->format && i < BACKUP_SLOTS; i++)
                if (h->sections[i].length_sectors > 0)
                        out[n++] = (struct array_range) {
                                h->sections[i].array_start_sectors,
                                h->sections[i].array_start_sectors + h->sections[i].length_sectors,
                        };
        return n;
}

/* Whether the sections, joined where they touch, hold all of @r. */
static bool backup_holds(const struct backup_header *h, struct array_range r)
{
        struct array_range s[BACKUP_SLOTS];
        unsigned n = held_sections(h, s);

        if (array_range_sectors(r) == 0)
                return true;
        if (n == 2) {
                if (s[1].lo_array_sectors < s[0].lo_array_sectors) {
                        struct array_range t = s[0];

                        s[0] = s[1];
                        s[1] = t;
                }
                if (s[0].hi_array_sectors >= s[1].lo_array_sectors) {
                        if (s[1].hi_array_sectors > s[0].hi_array_sectors)
                                s[0].hi_array_sectors = s[1].hi_array_sectors;
                        n = 1;
                }
        }
        for (unsigned i = 0; i < n; i++)
                if (array_range_inside(s[i], r))
                        return true;
        return false;
}

static enum status_backup_state judge_backup(const struct status_observed *o)
{
        if (!o->backup_path)
                return STATUS_BACKUP_NONE;
        if (o->backup_error)
                return STATUS_BACKUP_UNREADABLE;
        switch (backup_verdict_classify(o->backup.verdict.reason)) {
        case BACKUP_CLASS_DAMAGED:
                return STATUS_BACKUP_DAMAGED;
        case BACKUP_CLASS_VERIFIED:
        case BACKUP_CLASS_UNVERIFIABLE:
                break;
        }
        if (o->super_error == 0 && memcmp(o->uuid, o->backup.header.identity.uuid, 16) != 0)
                return STATUS_BACKUP_OTHER_ARRAY;
        return o->backup.verdict.reason == BACKUP_VERIFY_OK ? STATUS_BACKUP_VERIFIED
                                                           : STATUS_BACKUP_UNVERIFIABLE;
}

/* @s quoted for a POSIX shell where it needs to be. */
static void shell_quote(const char *s, char *buf, size_t size)
{
        size_t n = 0;

        if (s[0] && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-+:@%,=") == strlen(s)) {
                snprintf(buf, size, "%s", s);
                return;
        }
        if (size < 3) {
                buf[0] = '\0';
                return;
        }
        buf[n++] = '\'';
        for (; *s && n + 6 < size; s++) {
                if (*s == '\'') {
                        memcpy(buf + n, "'\\''", 4);
                        n += 4;
                } else
                        buf[n++] = *s;
        }
        buf[n++] = '\'';
        buf[n] = '\0';
}

static void set_fix(const struct status_observed *o, struct status_view *v)
{
        char dev[256], file[4096];
        bool known = o->backup_path && v->backup != STATUS_BACKUP_OTHER_ARRAY;

        shell_quote(o->devnode, dev, sizeof(dev));
        shell_quote(known ? o->backup_path : "FILE", file, sizeof(file));
        snprintf(v->fix, sizeof(v->fix), "reshaped supervise %s --backup-file %s", dev, file);
        v->fix_needs_file = !known;
}

static const char *backup_problem(enum status_backup_state b)
{
        switch (b) {
        case STATUS_BACKUP_NONE:
                return "no backup file is recorded";
        case STATUS_BACKUP_UNREADABLE:
                return "the backup file cannot be read";
        case STATUS_BACKUP_DAMAGED:
                return "the backup file is damaged";
        case STATUS_BACKUP_OTHER_ARRAY:
                return "the backup file belongs to another array";
        default:
                return "the backup does not hold all the kernel may rewrite before sync_max";
        }
}

/* A pause (reshaped pause) shows only where it holds: a reshape that is
 * not protected stays UNPROTECTED, and says the pause waits for a
 * supervisor. */
static void judge_pause(const struct status_observed *o, struct status_view *v, uint64_t limit)
{
        char dev[256], tail[160];
        size_t n;

        if (!o->paused)
                return;
        shell_quote(o->devnode, dev, sizeof(dev));
        if (v->state == STATUS_PROTECTED && o->pause_held) {
                v->state = STATUS_PAUSED;
                snprintf(v->reason, sizeof(v->reason),
                         "reshaped (pid %d) holds the kernel at %.1f%% (sync_max), its checkpoint on disk; the array stays readable and writable",
                         (int) o->supervisor_pid, percent_of(&v->geo, o->pause_held_progress));
        } else if (v->state == STATUS_PROTECTED && o->supervisor_pid > 0) {
                v->state = STATUS_PAUSED;
                snprintf(v->reason, sizeof(v->reason),
                         "being paused: reshaped (pid %d) lets the kernel go on to %.1f%% (sync_max, the end of what is backed up) and holds it there",
                         (int) o->supervisor_pid, percent_of(&v->geo, limit));
        } else if (v->state == STATUS_HELD) {
                v->state = STATUS_PAUSED;
                snprintf(v->reason, sizeof(v->reason),
                         "nobody supervises it: the kernel stops at %.1f%% (sync_max) and waits; what it rewrites until then is backed up",
                         percent_of(&v->geo, limit));
        } else {
                snprintf(tail, sizeof(tail), "; a pause is recorded, in effect once supervision holds it");
                n = strlen(v->reason);
                if (n + strlen(tail) < sizeof(v->reason))
                        memcpy(v->reason + n, tail, strlen(tail) + 1);
                return;
        }
        snprintf(v->fix, sizeof(v->fix), "reshaped resume %s", dev);
        v->fix_needs_file = false;
}

static void judge(const struct status_observed *o, struct status_view *v, uint64_t from)
{
        const struct reshape_geometry *g = &v->geo;
        bool limited = o->sync_max_progress != MD_SYNC_MAX_UNLIMITED;
        uint64_t limit = limited && o->sync_max_progress < g->end_progress_sectors
                         ? o->sync_max_progress : g->end_progress_sectors;
        struct array_range risk = geometry_at_risk(g, from, limit);
        bool usable = v->backup == STATUS_BACKUP_VERIFIED || v->backup == STATUS_BACKUP_UNVERIFIABLE;
        bool covered = array_range_sectors(risk) == 0 || (usable && backup_holds(&o->backup.header, risk));

        /* A raid4/5/6 reshape that moves the data is safe only paced
         * (pace_max_progress_sectors): unsupervised, md started on a
         * running array checkpoints every 10 s only. */
        if (g->pace_max_progress_sectors && o->supervisor_pid <= 0) {
                char dev[256];

                shell_quote(o->devnode, dev, sizeof(dev));
                v->state = STATUS_UNPROTECTED;
                snprintf(v->reason, sizeof(v->reason),
                         "the new layout goes to a new data offset, but nobody paces the kernel: started on a running array, md checkpoints as for an in-place reshape, and a crash can destroy what it rewrote more than the move past its checkpoint; supervise it (no backup file is needed)");
                snprintf(v->fix, sizeof(v->fix), "reshaped supervise %s", dev);
                v->fix_needs_file = false;
        } else if (geometry_next_at_risk(g, from) >= g->end_progress_sectors) {
                v->state = STATUS_NOT_AT_RISK;
                snprintf(v->reason, sizeof(v->reason), "%s",
                         g->relocates
                         ? "the new layout goes to a new data offset: nothing is at risk and no backup is needed"
                         : "md guards the rest of this reshape itself: no backup is needed from here on");
        } else if ((o->supervisor_pid > 0 || o->mdadm_pid > 0) && limited && covered) {
                v->state = STATUS_PROTECTED;
                snprintf(v->reason, sizeof(v->reason),
                         "supervised by %s (pid %d): the backup holds all the kernel may rewrite before it reaches sync_max",
                         o->supervisor_pid > 0 ? "reshaped" : "mdadm --grow",
                         (int) (o->supervisor_pid > 0 ? o->supervisor_pid : o->mdadm_pid));
        } else if (o->supervisor_pid > 0) {
                v->state = STATUS_TAKING_OVER;
                snprintf(v->reason, sizeof(v->reason),
                         "reshaped (pid %d) supervises it but protection is not established yet: %s",
                         (int) o->supervisor_pid,
                         !limited ? "sync_max is max" : backup_problem(v->backup));
        } else if (o->mdadm_pid > 0) {
                v->state = STATUS_UNPROTECTED;
                snprintf(v->reason, sizeof(v->reason),
                         "mdadm's monitor (pid %d) runs but does not keep the kernel within its backup: %s; stop it, then supervise",
                         (int) o->mdadm_pid, !limited ? "sync_max is max" : backup_problem(v->backup));
                set_fix(o, v);
        } else if (limited && covered) {
                v->state = STATUS_HELD;
                snprintf(v->reason, sizeof(v->reason),
                         "nobody supervises it: the kernel stops at %.1f%% (sync_max) and waits; what it rewrites until then is backed up",
                         percent_of(g, limit));
                set_fix(o, v);
        } else {
                v->state = STATUS_UNPROTECTED;
                if (!limited)
                        snprintf(v->reason, sizeof(v->reason),
                                 "sync_max is max and nobody supervises it: a crash or power cut can destroy what the kernel %s",
                                 o->action == MD_SYNC_ACTION_RESHAPE ? "is rewriting" : "rewrites once it resumes");
                else
                        snprintf(v->reason, sizeof(v->reason),
                                 "nobody supervises it and sync_max lets the kernel rewrite data whose only copy is not backed up (%s)",
                                 backup_problem(v->backup));
                set_fix(o, v);
        }
        judge_pause(o, v, limit);
}

void status_decide(const struct status_observed *o, struct status_view *v)
{
        const struct md_geometry *m = &o->mdg;
        struct geometry_input in = {
                .old_level = m->level,
                .new_level = m->level,
                .old_raid_disks = m->raid_disks_old,
                .new_raid_disks = m->raid_disks_new,
                .old_chunk_bytes = m->chunk_bytes_old,
                .new_chunk_bytes = m->chunk_bytes_new,
                .component_kib = m->component_kib,
                .array_kib = o->array_kib,
                .backwards = m->direction == MD_RESHAPE_DIRECTION_BACKWARDS,
                .old_layout = m->layout_old,
                .new_layout = m->layout_new,
                .offset_diff_dev_sectors = m->offset_diff_dev_sectors,
        };
        bool position_known = o->position_array_sectors != MD_RESHAPE_POSITION_NONE;
        const char *why = NULL;
        uint64_t from;

        *v = (struct status_view) { .rate_bytes_per_sec = -1, .eta_sec = -1, .limit_percent = -1 };
        describe_change(m, v->change, sizeof(v->change));
        v->backup = judge_backup(o);
        if (o->backup_path && !o->backup_error && o->backup.header_read) {
                struct array_range s[BACKUP_SLOTS];

                v->windows = held_sections(&o->backup.header, s);
        }

        if (o->inactive) {
                char dev[256];

                shell_quote(o->devnode, dev, sizeof(dev));
                v->state = STATUS_INACTIVE;
                snprintf(v->reason, sizeof(v->reason),
                         "the array is assembled but not running; if it holds a reshape (mdadm: \"Need a backup file to complete reshape\"), restore it");
                snprintf(v->fix, sizeof(v->fix), "reshaped restore %s", dev);
                return;
        }
        if (o->action != MD_SYNC_ACTION_RESHAPE && !position_known) {
                v->state = STATUS_NO_RESHAPE;
                snprintf(v->reason, sizeof(v->reason), "no reshape in progress");
                return;
        }
        if (geometry_init(&v->geo, &in, &why) < 0) {
                v->state = STATUS_UNKNOWN;
                snprintf(v->reason, sizeof(v->reason), "cannot judge this reshape: %s", why);
                return;
        }
        v->geometry_ok = true;

        if (o->completed.state == MD_SYNC_COMPLETED_RUNNING) {
                v->progress_known = true;
                v->front_progress = o->completed.completed_dev_sectors;
        } else if (position_known) {
                v->progress_known = true;
                v->front_progress = geometry_position_to_progress(&v->geo, o->position_array_sectors);
        }
        if (v->progress_known) {
                uint64_t end = v->geo.end_progress_sectors;
                uint64_t front = v->front_progress < end ? v->front_progress : end;

                v->percent = percent_of(&v->geo, front);
                v->done_bytes = sectors_to_bytes(array_sectors_between(&v->geo, 0, front));
                v->total_bytes = sectors_to_bytes(array_sectors_between(&v->geo, 0, end));
                if (o->speed_known && o->speed_kib_per_sec > 0) {
                        /* KiB of progress per second is two progress sectors. */
                        uint64_t step = o->speed_kib_per_sec * 2;

                        v->rate_bytes_per_sec = (double) sectors_to_bytes(
                                array_sectors_between(&v->geo, front, front + step));
                        v->eta_sec = (double) (end - front) / (double) step;
                }
        }
        if (o->sync_max_progress != MD_SYNC_MAX_UNLIMITED)
                v->limit_percent = percent_of(&v->geo, o->sync_max_progress);

        /* What the kernel may destroy counts from the checkpoint on disk;
         * superblocks that do not record the reshape yet protect nothing
         * of it. sysfs's reshape_position is assigned before its
         * superblock write, so it is the fallback, never the first
         * choice. */
        if (o->checkpoint_error == 0) {
                v->checkpoint_known = true;
                from = o->checkpoint_active
                       ? geometry_position_to_progress(&v->geo, o->checkpoint_array_sectors) : 0;
                v->checkpoint_percent = percent_of(&v->geo, from);
        } else if (position_known)
                from = geometry_position_to_progress(&v->geo, o->position_array_sectors);
        else
                from = v->front_progress;

        if (v->windows > 0 && (v->backup == STATUS_BACKUP_VERIFIED || v->backup == STATUS_BACKUP_UNVERIFIABLE)) {
                struct array_range s[BACKUP_SLOTS] = {};
                unsigned n = held_sections(&o->backup.header, s);

                v->protected_known = true;
                v->protected_array_sectors = v->geo.backwards ? s[0].lo_array_sectors : s[0].hi_array_sectors;
                for (unsigned i = 1; i < n; i++) {
                        if (v->geo.backwards && s[i].lo_array_sectors < v->protected_array_sectors)
                                v->protected_array_sectors = s[i].lo_array_sectors;
                        if (!v->geo.backwards && s[i].hi_array_sectors > v->protected_array_sectors)
                                v->protected_array_sectors = s[i].hi_array_sectors;
                }
                v->protected_percent = percent_of(&v->geo, geometry_position_to_progress(&v->geo,
                                                                   v->protected_array_sectors));
        }
        judge(o, v, from);
}

bool status_unit_from_cgroup(const char *text, char *buf, size_t size)
{
        const char *line = text;

        for (; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] == '\n')) {
                size_t len = strcspn(line, "\n");
                const char *path, *end = line + len, *p;

                if (strncmp(line, "0::", 3) == 0)
                        path = line + 3;
                else if ((p = memmem(line, len, ":name=systemd:", 14)))
                        path = p + 14;
                else
                        continue;
                /* The innermost unit: the last component that is one. */
                while (end > path) {
                        const char *c = end;
                        size_t n;

                        while (c > path && c[-1] != '/')
                                c--;
                        n = (size_t) (end - c);
                        if ((n > 8 && memcmp(end - 8, ".service", 8) == 0) ||
                            (n > 6 && memcmp(end - 6, ".scope", 6) == 0)) {
                                if (n >= size)
                                        return false;
                                memcpy(buf, c, n);
                                buf[n] = '\0';
                                return true;
                        }
                        end = c > path ? c - 1 : path;
                }
        }
        return false;
}
