// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm-probe: watch a running md raid4/5/6 reshape and measure how far the
 * kernel's writes may run ahead of what a backup file protects.
 *
 *   vm-probe --md md0 --csv PATH [--backup FILE] [--interval-ms 50]
 *            [--start-timeout SECONDS]
 *
 * It waits until /sys/block/MD/md/reshape_position is a number, samples
 * every interval until it reads "none" again (the reshape ended) or the
 * array disappears, or until SIGINT/SIGTERM, then prints
 *
 *   probe: wall=Ws lag_max=L bytes unprotected_total=U bytes stall=Ss (P%)
 *   probe: <details>
 *   probe: csv=PATH
 *
 * It deliberately shares no code with reshaped: it is the yardstick the
 * supervisor is measured with, so its unit conversions are written again
 * here, straight from the kernel sources (6.1 md.c, raid5.c).
 *
 * Units. sync_completed (first number), sync_max and /proc/mdstat's
 * reshape progress count sectors per member in the direction the reshape
 * runs (from the end when it runs backwards). reshape_position,
 * suspend_lo/hi and the backup sections are array sectors. All figures
 * are computed in array sectors and printed in bytes (x 512).
 *
 * Geometry, read once when the reshape is first seen:
 *   dd     new data disks: raid_disks (the new count, printed first) minus
 *          1 for raid4/5, 2 for raid6; raid5.c converts with it.
 *   unit   max(new, old chunk) in sectors: the kernel rewrites one such unit
 *          per member at a time, so it can pass sync_max by up to one unit.
 *   end    component_size rounded down to both chunk sizes: where the
 *          reshape ends, in member sectors.
 *   A progress value p maps to the array sector A(p) = p * dd forwards and
 *   (end - p) * dd backwards (raid5.c reshape_request).
 *
 * Per sample k (time t_k):
 *   progress_k  max(sync_completed, mdstat progress). sync_completed moves
 *               only at the kernel's checkpoints; mdstat shows the live
 *               position minus the requests in flight.
 *   C_k         reshape_position: the kernel's last checkpoint.
 *   F_k         the kernel's possible write front. With a numeric sync_max:
 *               A(min(roundup(sync_max, unit), end)), a hard bound. With
 *               sync_max = max: A(progress_k), only a lower bound (the real
 *               front may be further; the summary says in how many samples
 *               this was so).
 *   H_k         the sections the backup header holds: section 1 for magic
 *               md_backup_data-1, sections 1 and 2 for md_backup_data-2,
 *               each [arraystart, arraystart + length) when length > 0;
 *               nothing when the file is missing or has no valid magic.
 *   window_k    [C_k, F_k) forwards, [F_k, C_k) backwards: what the kernel
 *               may be rewriting and cannot yet restore from its own
 *               metadata after a crash.
 *   lag_k       length of window_k not covered by H_k.
 *
 * Figures:
 *   lag_max            max over k of lag_k.
 *   unprotected_total  sum over k of the part of the newly reshaped range
 *                      [A(progress_{k-1}), A(progress_k)) (mirrored
 *                      backwards) covered by neither H_{k-1} nor H_k; the
 *                      first sample starts from C_1, and when the reshape
 *                      completes the last range runs to the end of the
 *                      array, its neighbours the last header and the one
 *                      read after the end. Accepting either neighbouring header makes
 *                      it a lower bound at the sampling resolution.
 *   never_backed_up    the part of everything reshaped while watched that
 *                      no header ever held at any sample (a cruder figure
 *                      that forgives backups made after the fact).
 *   first_backup_at    how much had been reshaped (from C_1) when a header
 *                      first held a section.
 *   stall              sum of t_k - t_{k-1} over the intervals in which the
 *                      kernel was parked at a numeric sync_max: sync_max
 *                      numeric at k-1, progress_{k-1} >= sync_max, and
 *                      progress_k == progress_{k-1}. Shown also as a
 *                      fraction of wall.
 *   wall               t of the last sample - t of the first.
 *
 * The window is the whole risk only when the number of data disks stays
 * the same (chunk, layout and level changes): then every stripe is
 * rewritten over the old data of the same region. A grow or shrink
 * rewrites unchecked old data only in its first (last) critical section;
 * past it the kernel's own checkpoint rule (raid5.c reshape_request) keeps
 * it safe, so there the figures overstate the risk, and the summary says so.
 *
 * CSV: one line per sample, raw attribute text where it is not a number
 * ("max", "none"), columns named with their units.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vm-util.h"

#define BACKUP_HEADER_BYTES 512
#define SECTOR_BYTES 512
#define ATTR_BYTES 128

struct range {
        uint64_t lo;    /* array sectors, inclusive */
        uint64_t hi;    /* array sectors, exclusive */
};

struct options {
        const char *md;
        const char *backup_path;
        const char *csv_path;
        unsigned interval_ms;
        unsigned start_timeout_s;
};

struct geometry {
        unsigned data_disks;
        unsigned old_data_disks;
        uint64_t unit_dev_sectors;
        uint64_t end_dev_sectors;
        bool backwards;
};

struct sample {
        double t_s;
        char sync_action[ATTR_BYTES];
        char sync_completed[ATTR_BYTES];
        char sync_max[ATTR_BYTES];
        char reshape_position[ATTR_BYTES];
        char suspend_lo[ATTR_BYTES];
        char suspend_hi[ATTR_BYTES];
        bool position_known;
        uint64_t position_array;
        bool sync_max_numeric;
        uint64_t sync_max_dev;
        uint64_t mdstat_dev;
        uint64_t progress_dev;
        const char *backup_state;       /* absent, invalid, md_backup_data-1/-2 */
        unsigned n_held;
        struct range held[2];
};

/* A growing set of disjoint, sorted ranges: every section ever held. */
struct range_set {
        struct range *r;
        size_t n;
        size_t cap;
};

struct totals {
        double t_first_s;
        double wall_s;
        uint64_t lag_max_sectors;
        uint64_t unprotected_sectors;
        double stall_s;
        uint64_t samples;
        uint64_t lower_bound_samples;
        bool backup_seen;
        uint64_t first_backup_at_sectors;
        uint64_t start_array;           /* C_1 */
        uint64_t reached_array;         /* A(progress) of the last sample */
        struct range_set ever_held;
        const char *end;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
        (void) sig;
        stop_requested = 1;
}

/* "NEW (OLD)" or "N", as raid_disks and chunk_size print during a reshape. */
static bool parse_new_old(const char *s, uint64_t *ret_new, uint64_t *ret_old)
{
        const char *end;

        if (vm_parse_leading_u64(s, ret_new, &end) < 0)
                return false;
        if (*end == '\0') {
                *ret_old = *ret_new;
                return true;
        }
        if (strncmp(end, " (", 2) != 0 || vm_parse_leading_u64(end + 2, ret_old, &end) < 0)
                return false;
        return strcmp(end, ")") == 0;
}

static uint64_t round_down(uint64_t v, uint64_t to)
{
        return v / to * to;
}

static int read_geometry(const char *md, struct geometry *g)
{
        char level[ATTR_BYTES], disks[ATTR_BYTES], chunk[ATTR_BYTES], comp[ATTR_BYTES];
        char dir[ATTR_BYTES] = "forwards";
        uint64_t new_disks, old_disks, new_chunk, old_chunk, comp_kib;
        unsigned max_degraded;

        if (vm_read_md_attr(md, "level", level, sizeof(level)) < 0 ||
            vm_read_md_attr(md, "raid_disks", disks, sizeof(disks)) < 0 ||
            vm_read_md_attr(md, "chunk_size", chunk, sizeof(chunk)) < 0 ||
            vm_read_md_attr(md, "component_size", comp, sizeof(comp)) < 0) {
                fprintf(stderr, "vm-probe: cannot read the geometry of %s from /sys/block/%s/md: %m\n",
                        md, md);
                return -EIO;
        }
        (void) vm_read_md_attr(md, "reshape_direction", dir, sizeof(dir));
        if (strcmp(level, "raid6") == 0)
                max_degraded = 2;
        else if (strcmp(level, "raid5") == 0 || strcmp(level, "raid4") == 0)
                max_degraded = 1;
        else {
                fprintf(stderr, "vm-probe: %s is %s; only raid4/5/6 reshapes are probed\n", md, level);
                return -EINVAL;
        }
        if (!parse_new_old(disks, &new_disks, &old_disks) || new_disks <= max_degraded ||
            !parse_new_old(chunk, &new_chunk, &old_chunk) || new_chunk < SECTOR_BYTES ||
            old_chunk < SECTOR_BYTES || vm_parse_u64(comp, &comp_kib) < 0) {
                fprintf(stderr, "vm-probe: unexpected geometry of %s: raid_disks='%s' chunk_size='%s'"
                        " component_size='%s'\n", md, disks, chunk, comp);
                return -EINVAL;
        }
        g->data_disks = (unsigned) (new_disks - max_degraded);
        g->old_data_disks = old_disks > max_degraded ? (unsigned) (old_disks - max_degraded) : 0;
        g->unit_dev_sectors = (new_chunk > old_chunk ? new_chunk : old_chunk) / SECTOR_BYTES;
        g->end_dev_sectors = round_down(round_down(comp_kib * 2, new_chunk / SECTOR_BYTES),
                                        old_chunk / SECTOR_BYTES);
        g->backwards = strcmp(dir, "backwards") == 0;
        return 0;
}

/* Array sector of a progress value (member sectors in reshape direction). */
static uint64_t progress_to_array(const struct geometry *g, uint64_t progress_dev)
{
        if (progress_dev > g->end_dev_sectors)
                progress_dev = g->end_dev_sectors;
        if (g->backwards)
                return (g->end_dev_sectors - progress_dev) * g->data_disks;
        return progress_dev * g->data_disks;
}

/* The range between a checkpoint/old position and a further position, in
 * the direction the reshape runs. */
static struct range ahead(const struct geometry *g, uint64_t from_array, uint64_t to_array)
{
        if (g->backwards)
                return to_array < from_array ? (struct range) { to_array, from_array }
                                             : (struct range) { 0, 0 };
        return from_array < to_array ? (struct range) { from_array, to_array }
                                     : (struct range) { 0, 0 };
}

static uint64_t range_len(struct range r)
{
        return r.hi > r.lo ? r.hi - r.lo : 0;
}

static int cmp_range(const void *a, const void *b)
{
        const struct range *x = a, *y = b;

        return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Length of @w not covered by any of @cover[0..n). */
static uint64_t uncovered(struct range w, const struct range *cover, size_t n)
{
        struct range clipped[4];
        uint64_t covered = 0, reach = w.lo;
        size_t m = 0;

        for (size_t i = 0; i < n && m < 4; i++) {
                struct range c = {
                        cover[i].lo > w.lo ? cover[i].lo : w.lo,
                        cover[i].hi < w.hi ? cover[i].hi : w.hi,
                };

                if (range_len(c) > 0)
                        clipped[m++] = c;
        }
        qsort(clipped, m, sizeof(clipped[0]), cmp_range);
        for (size_t i = 0; i < m; i++) {
                uint64_t lo = clipped[i].lo > reach ? clipped[i].lo : reach;

                if (clipped[i].hi > lo) {
                        covered += clipped[i].hi - lo;
                        reach = clipped[i].hi;
                }
        }
        return range_len(w) - covered;
}

static int range_set_add(struct range_set *s, struct range add)
{
        size_t i = 0, j;

        if (range_len(add) == 0)
                return 0;
        while (i < s->n && s->r[i].hi < add.lo)
                i++;
        j = i;
        while (j < s->n && s->r[j].lo <= add.hi) {
                add.lo = s->r[j].lo < add.lo ? s->r[j].lo : add.lo;
                add.hi = s->r[j].hi > add.hi ? s->r[j].hi : add.hi;
                j++;
        }
        if (i == j && s->n == s->cap) {
                size_t cap = s->cap ? 2 * s->cap : 64;
                struct range *r = realloc(s->r, cap * sizeof(*r));

                if (!r)
                        return -ENOMEM;
                s->r = r;
                s->cap = cap;
        }
        if (i == j) {
                memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(*s->r));
                s->n++;
        } else {
                memmove(&s->r[i + 1], &s->r[j], (s->n - j) * sizeof(*s->r));
                s->n -= j - i - 1;
        }
        s->r[i] = add;
        return 0;
}

static uint64_t range_set_uncovered(const struct range_set *s, struct range w)
{
        uint64_t covered = 0;

        for (size_t i = 0; i < s->n; i++) {
                uint64_t lo = s->r[i].lo > w.lo ? s->r[i].lo : w.lo;
                uint64_t hi = s->r[i].hi < w.hi ? s->r[i].hi : w.hi;

                if (hi > lo)
                        covered += hi - lo;
        }
        return range_len(w) - covered;
}

/* The mdadm backup header (facts §3): magic at 0, arraystart/length at
 * 48/56, arraystart2/length2 at 80/88 (only with md_backup_data-2). */
static void read_backup(const char *path, struct sample *s)
{
        /* The file the path named last: the supervisor replaces the file by
         * renaming a new one over it, and removes it once the reshape has
         * ended, when its last header still counts (account_completion()). */
        static int fd = -1;
        static ino_t ino;
        unsigned char h[BACKUP_HEADER_BYTES];
        struct stat st;
        ssize_t n;

        s->n_held = 0;
        s->backup_state = "absent";
        if (!path)
                return;
        if (stat(path, &st) == 0 && (fd < 0 || st.st_ino != ino)) {
                int nfd = open(path, O_RDONLY | O_CLOEXEC);

                if (nfd >= 0) {
                        if (fd >= 0)
                                close(fd);
                        fd = nfd;
                        ino = st.st_ino;
                }
        }
        if (fd < 0)
                return;
        n = pread(fd, h, sizeof(h), 0);
        s->backup_state = "invalid";
        if (n != (ssize_t) sizeof(h))
                return;
        if (memcmp(h, "md_backup_data-1", 16) == 0)
                s->backup_state = "md_backup_data-1";
        else if (memcmp(h, "md_backup_data-2", 16) == 0)
                s->backup_state = "md_backup_data-2";
        else
                return;
        if (vm_le64(h + 56) > 0)
                s->held[s->n_held++] = (struct range) { vm_le64(h + 48), vm_le64(h + 48) + vm_le64(h + 56) };
        if (s->backup_state[15] == '2' && vm_le64(h + 88) > 0)
                s->held[s->n_held++] = (struct range) { vm_le64(h + 80), vm_le64(h + 80) + vm_le64(h + 88) };
}

/* mdstat's reshape position for @md, in member sectors; 0 when none. */
static uint64_t mdstat_progress_dev(const char *md)
{
        uint64_t kib;

        if (vm_mdstat_reshape_kib("/proc/mdstat", md, &kib) <= 0)
                return 0;
        /* md starts curr_resync at MD_RESYNC_ACTIVE (3 sectors), which
         * mdstat prints as 1 KiB before the kernel has moved at all; real
         * progress comes in whole chunks. */
        if (kib <= 1)
                return 0;
        return kib * 2;
}

/* Returns 1 when the reshape is (still) on, 0 when it has ended, -errno
 * when the array's sysfs directory is gone. */
static int take_sample(const struct options *o, struct sample *s)
{
        uint64_t completed = 0;
        const char *end;
        int r;

        memset(s, 0, sizeof(*s));
        s->t_s = vm_now_s();
        r = vm_read_md_attr(o->md, "reshape_position", s->reshape_position, ATTR_BYTES);
        if (r < 0)
                return r;
        (void) vm_read_md_attr(o->md, "sync_action", s->sync_action, ATTR_BYTES);
        (void) vm_read_md_attr(o->md, "sync_completed", s->sync_completed, ATTR_BYTES);
        (void) vm_read_md_attr(o->md, "sync_max", s->sync_max, ATTR_BYTES);
        (void) vm_read_md_attr(o->md, "suspend_lo", s->suspend_lo, ATTR_BYTES);
        (void) vm_read_md_attr(o->md, "suspend_hi", s->suspend_hi, ATTR_BYTES);
        s->position_known = vm_parse_u64(s->reshape_position, &s->position_array) == 0;
        s->sync_max_numeric = vm_parse_u64(s->sync_max, &s->sync_max_dev) == 0;
        s->mdstat_dev = mdstat_progress_dev(o->md);
        /* "N / M" while running, "none" or "delayed" otherwise. */
        if (vm_parse_leading_u64(s->sync_completed, &completed, &end) < 0)
                completed = 0;
        s->progress_dev = completed > s->mdstat_dev ? completed : s->mdstat_dev;
        read_backup(o->backup_path, s);
        return s->position_known ? 1 : 0;
}

static uint64_t front_array(const struct geometry *g, const struct sample *s)
{
        uint64_t dev;

        if (!s->sync_max_numeric)
                return progress_to_array(g, s->progress_dev);
        dev = (s->sync_max_dev + g->unit_dev_sectors - 1) / g->unit_dev_sectors * g->unit_dev_sectors;
        return progress_to_array(g, dev);
}

static void csv_header(FILE *f)
{
        fprintf(f, "time_s,sync_action,sync_completed_dev_sectors,mdstat_progress_dev_sectors,"
                "sync_max_dev_sectors,reshape_position_array_sectors,suspend_lo_array_sectors,"
                "suspend_hi_array_sectors,backup_header,section1_start_array_sectors,"
                "section1_length_array_sectors,section2_start_array_sectors,"
                "section2_length_array_sectors,front_array_sectors,front_kind,lag_array_sectors,"
                "unprotected_total_array_sectors\n");
}

static void csv_line(FILE *f, const struct sample *s, const struct totals *t,
                     uint64_t front, uint64_t lag)
{
        struct range none = { 0, 0 };
        struct range s1 = s->n_held > 0 ? s->held[0] : none;
        struct range s2 = s->n_held > 1 ? s->held[1] : none;

        fprintf(f, "%.3f,%s,%s,%" PRIu64 ",%s,%s,%s,%s,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%"
                PRIu64 ",%" PRIu64 ",%s,%" PRIu64 ",%" PRIu64 "\n",
                s->t_s - t->t_first_s, s->sync_action, s->sync_completed, s->mdstat_dev, s->sync_max,
                s->reshape_position, s->suspend_lo, s->suspend_hi, s->backup_state, s1.lo,
                range_len(s1), s2.lo, range_len(s2), front,
                s->sync_max_numeric ? "bound" : "lower-bound", lag, t->unprotected_sectors);
}

/* What may cover a step from @before (NULL for the first sample) to @after:
 * the sections of either header, into @cover (room for 4). The later
 * header's join every section ever held. */
static int step_cover(const struct sample *before, const struct sample *after, struct totals *t,
                      struct range *cover, size_t *ret_n)
{
        size_t n = 0;

        for (unsigned i = 0; before && i < before->n_held; i++)
                cover[n++] = before->held[i];
        for (unsigned i = 0; i < after->n_held; i++) {
                cover[n++] = after->held[i];
                if (range_set_add(&t->ever_held, after->held[i]) < 0)
                        return -ENOMEM;
        }
        *ret_n = n;
        return 0;
}

/* Accounts the step from @prev to @cur (prev is NULL for the first sample). */
static int account(const struct geometry *g, const struct sample *prev, const struct sample *cur,
                   struct totals *t, uint64_t *ret_front, uint64_t *ret_lag)
{
        struct range cover[4];
        size_t n;
        uint64_t front = front_array(g, cur);
        uint64_t reached = progress_to_array(g, cur->progress_dev);
        uint64_t lag = uncovered(ahead(g, cur->position_array, front), cur->held, cur->n_held);
        int r;

        t->samples++;
        t->lower_bound_samples += !cur->sync_max_numeric;
        t->lag_max_sectors = lag > t->lag_max_sectors ? lag : t->lag_max_sectors;
        if (!prev) {
                t->t_first_s = cur->t_s;
                t->start_array = cur->position_array;
                t->reached_array = cur->position_array;
        }
        r = step_cover(prev, cur, t, cover, &n);
        if (r < 0)
                return r;
        t->unprotected_sectors += uncovered(ahead(g, t->reached_array, reached), cover, n);
        if (range_len(ahead(g, t->reached_array, reached)) > 0)
                t->reached_array = reached;
        if (!t->backup_seen && cur->n_held > 0) {
                t->backup_seen = true;
                t->first_backup_at_sectors = range_len(ahead(g, t->start_array, t->reached_array));
        }
        if (prev && prev->sync_max_numeric && prev->progress_dev >= prev->sync_max_dev &&
            cur->progress_dev == prev->progress_dev)
                t->stall_s += cur->t_s - prev->t_s;
        t->wall_s = cur->t_s - t->t_first_s;
        *ret_front = front;
        *ret_lag = lag;
        return 0;
}

/* The reshape completed after @last: the kernel rewrote everything up to
 * the end. As for any step, either neighbouring header may cover it: the
 * last one running, or @final, read once the reshape had ended (the last
 * window can be backed up and reshaped within one interval). */
static int account_completion(const struct geometry *g, const struct sample *last,
                              const struct sample *final, struct totals *t)
{
        uint64_t end = progress_to_array(g, g->end_dev_sectors);
        struct range cover[4];
        size_t n;
        int r;

        r = step_cover(last, final, t, cover, &n);
        if (r < 0)
                return r;
        t->unprotected_sectors += uncovered(ahead(g, t->reached_array, end), cover, n);
        t->reached_array = end;
        t->wall_s = final->t_s - t->t_first_s;
        return 0;
}

static void sleep_until(double t_s)
{
        struct timespec ts = {
                .tv_sec = (time_t) t_s,
                .tv_nsec = (long) ((t_s - (double) (time_t) t_s) * 1e9),
        };

        /* EINTR from a stop signal ends the wait early, as it should. */
        (void) clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static int wait_for_start(const struct options *o, struct sample *s)
{
        double deadline = vm_now_s() + o->start_timeout_s;
        int r;

        while (!stop_requested) {
                r = take_sample(o, s);
                if (r == 1)
                        return 0;
                if (vm_now_s() >= deadline) {
                        fprintf(stderr, "vm-probe: no reshape started on %s within %u s "
                                "(reshape_position stayed '%s')\n", o->md, o->start_timeout_s,
                                r < 0 ? "unreadable" : s->reshape_position);
                        return -ETIMEDOUT;
                }
                sleep_until(vm_now_s() + o->interval_ms / 1000.0);
        }
        fprintf(stderr, "vm-probe: stopped before a reshape started on %s\n", o->md);
        return -EINTR;
}

static int watch(const struct options *o, const struct geometry *g, const struct sample *first,
                 FILE *csv, struct totals *t)
{
        struct sample samples[2] = { *first };
        struct sample *prev = NULL, *cur = &samples[0];
        uint64_t front, lag;
        double next = first->t_s;
        int r;

        for (;;) {
                if (account(g, prev, cur, t, &front, &lag) < 0)
                        return -ENOMEM;
                csv_line(csv, cur, t, front, lag);
                prev = cur;
                cur = prev == &samples[0] ? &samples[1] : &samples[0];
                next += o->interval_ms / 1000.0;
                sleep_until(next);
                if (stop_requested) {
                        t->end = "interrupted";
                        return 0;
                }
                r = take_sample(o, cur);
                if (r < 0) {
                        t->end = "array-gone";
                        return 0;
                }
                if (r == 0) {
                        if (account_completion(g, prev, cur, t) < 0)
                                return -ENOMEM;
                        t->end = "completed";
                        return 0;
                }
        }
}

static void summarize(const struct options *o, const struct geometry *g, const struct totals *t)
{
        struct range reshaped = ahead(g, t->start_array, t->reached_array);
        double pct = t->wall_s > 0 ? 100.0 * t->stall_s / t->wall_s : 0.0;

        printf("probe: wall=%.1fs lag_max=%" PRIu64 " bytes unprotected_total=%" PRIu64
               " bytes stall=%.1fs (%.1f%%)\n", t->wall_s, t->lag_max_sectors * SECTOR_BYTES,
               t->unprotected_sectors * SECTOR_BYTES, t->stall_s, pct);
        printf("probe: end=%s samples=%" PRIu64 " reshaped=%" PRIu64 " bytes never_backed_up=%"
               PRIu64 " bytes first_backup_at=", t->end, t->samples,
               range_len(reshaped) * SECTOR_BYTES,
               range_set_uncovered(&t->ever_held, reshaped) * SECTOR_BYTES);
        if (t->backup_seen)
                printf("%" PRIu64 " bytes", t->first_backup_at_sectors * SECTOR_BYTES);
        else
                printf("never");
        printf(" lag_max_mib=%.1f data_disks=%u (was %u) unit=%" PRIu64 " sectors direction=%s\n",
               (double) t->lag_max_sectors * SECTOR_BYTES / (1 << 20), g->data_disks,
               g->old_data_disks, g->unit_dev_sectors, g->backwards ? "backwards" : "forwards");
        if (g->old_data_disks != g->data_disks)
                printf("probe: the number of data disks changes: past its first (grow) or last "
                       "(shrink) critical section the kernel writes only where old data has already "
                       "been checkpointed, so lag and unprotected_total overstate the risk there\n");
        if (t->lower_bound_samples > 0)
                printf("probe: sync_max was 'max' in %" PRIu64 " of %" PRIu64 " samples: the front "
                       "there is the observed progress, a lower bound; the kernel may have been "
                       "further ahead\n", t->lower_bound_samples, t->samples);
        printf("probe: csv=%s\n", o->csv_path);
}

static int run(const struct options *o)
{
        struct totals t = { .end = "unknown" };
        struct geometry g;
        struct sample first;
        FILE *csv;
        int r;

        r = wait_for_start(o, &first);
        if (r < 0)
                return 1;
        if (read_geometry(o->md, &g) < 0)
                return 1;
        csv = fopen(o->csv_path, "we");
        if (!csv) {
                fprintf(stderr, "vm-probe: cannot create %s: %m\n", o->csv_path);
                return 1;
        }
        setvbuf(csv, NULL, _IOLBF, 0);
        csv_header(csv);
        r = watch(o, &g, &first, csv, &t);
        if (fclose(csv) != 0 && r == 0) {
                fprintf(stderr, "vm-probe: writing %s failed: %m\n", o->csv_path);
                r = -EIO;
        }
        if (r == 0)
                summarize(o, &g, &t);
        free(t.ever_held.r);
        return r < 0 ? 1 : 0;
}

static int parse_uint(const char *s, const char *what, unsigned lo, unsigned hi, unsigned *ret)
{
        uint64_t v;

        if (vm_parse_u64(s, &v) < 0 || v < lo || v > hi) {
                fprintf(stderr, "vm-probe: %s must be an integer from %u to %u, not '%s'\n",
                        what, lo, hi, s);
                return -EINVAL;
        }
        *ret = (unsigned) v;
        return 0;
}

static void usage(FILE *f)
{
        fprintf(f, "usage: vm-probe --md mdN --csv PATH [--backup FILE] [--interval-ms MS]"
                " [--start-timeout SECONDS]\n");
}

/* Returns 0 and fills @o, 1 after printing the help, or -EINVAL. */
static int parse_options(int argc, char **argv, struct options *o)
{
        static const struct option longopts[] = {
                { "md", required_argument, NULL, 'm' },
                { "backup", required_argument, NULL, 'b' },
                { "csv", required_argument, NULL, 'c' },
                { "interval-ms", required_argument, NULL, 'i' },
                { "start-timeout", required_argument, NULL, 't' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c;

        *o = (struct options) { .interval_ms = 50, .start_timeout_s = 60 };
        while ((c = getopt_long(argc, argv, "m:b:c:i:t:h", longopts, NULL)) >= 0) {
                int r = 0;

                switch (c) {
                case 'm':
                        o->md = strncmp(optarg, "/dev/", 5) == 0 ? optarg + 5 : optarg;
                        break;
                case 'b':
                        o->backup_path = optarg;
                        break;
                case 'c':
                        o->csv_path = optarg;
                        break;
                case 'i':
                        r = parse_uint(optarg, "--interval-ms", 1, 10000, &o->interval_ms);
                        break;
                case 't':
                        r = parse_uint(optarg, "--start-timeout", 0, 86400, &o->start_timeout_s);
                        break;
                case 'h':
                        usage(stdout);
                        return 1;
                default:
                        usage(stderr);
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }
        if (optind != argc || !o->md || !o->csv_path) {
                usage(stderr);
                return -EINVAL;
        }
        if (strchr(o->md, '/')) {
                fprintf(stderr, "vm-probe: --md takes an array name like md0, not '%s'\n", o->md);
                return -EINVAL;
        }
        return 0;
}

static int install_signals(void)
{
        struct sigaction sa = { .sa_handler = on_signal };

        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) {
                fprintf(stderr, "vm-probe: cannot install signal handlers: %m\n");
                return -errno;
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct options o;
        int r;

        r = parse_options(argc, argv, &o);
        if (r != 0)
                return r > 0 ? 0 : 2;
        if (install_signals() < 0)
                return 1;
        return run(&o);
}
