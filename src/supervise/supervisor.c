// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "reshaped/supervise/array-read.h"
#include "reshaped/backup/backup.h"
#include "reshaped/cli/cli-util.h"
#include "reshaped/util/fs-util.h"
#include "reshaped/plan/geometry.h"
#include "reshaped/util/log.h"
#include "reshaped/md/md-assemble.h"
#include "reshaped/md/md.h"
#include "reshaped/members/member-read.h"
#include "reshaped/placement/placement.h"
#include "reshaped/plan/planner.h"
#include "reshaped/supervise/record.h"
#include "reshaped/report/report.h"
#include "reshaped/plan/reshape-shape.h"
#include "reshaped/supervise/supervise-lock.h"
#include "reshaped/supervise/supervisor.h"

/* A window should keep the kernel busy this long, up to the largest
 * window (--max-window, the memory bound). Each window has fixed costs:
 * two suspend stores that each drain all I/O of the array, two
 * fdatasyncs, and about log2(window / reshape unit) kernel checkpoints. On
 * disks throttled to 8 MiB/s, 4 s windows (~23 MiB) lost a quarter of the
 * time to them; so on all but very fast arrays the largest window wins. */
#define WINDOW_TARGET_MS        30000
/* Without halfway updates, a window must outlast the kernel's own 10 s
 * checkpoint timer. */
#define LOCKSTEP_WINDOW_MS      15000
#define DRAIN_TIMEOUT_MS        60000
#define FREEZE_TIMEOUT_MS       30000
#define FRONT_TIMEOUT_MS        10000
/* How long a blocking read of the reshape's first block may take before
 * the kernel counts as begun (see kernel_has_begun()). */
#define BEGUN_PROBE_TIMEOUT_MS  3000
/* How long sync_action may pass through idle mid-reshape. */
#define SETTLE_TIMEOUT_MS       2000
/* How long the kernel may wait for a backup before the journal hears of
 * it: a window's backup normally keeps ahead of it. */
#define HELD_REPORT_MS          10000

struct sup {
        struct md *md;
        const struct supervisor_options *o;
        struct md_geometry mdg;
        struct reshape_geometry geo;
        struct backup_identity id;
        char uuid[BACKUP_UUID_STRING_MAX];
        struct planner plan;
        struct backup_file *bf;
        struct record_token *token;  /* the newest durable generation, for restore */
        char *rename_from;        /* new backup file, until it replaces the old one */
        struct member_set *members;  /* the old layout's members, read for backups */
        int signal_fd;
        void *bufs[2];            /* a window each: one written, one read ahead */
        struct {
                uint64_t from_progress;
                struct array_read *rd;
        } reads[2];               /* the planner's read-aheads, oldest first */
        unsigned n_reads;
        uint64_t slot_bytes;
        uint64_t slot_min_bytes;        /* the smallest the windows may be */

        uint64_t t0_ms, last_obs_ms, last_obs_completed;
        double rate_progress_per_ms;
        uint64_t stall_ms;
        uint64_t parked_since_ms;  /* seen parked at sync_max; 0: not */
        bool held_reported;        /* this park was reported (REPORT_MID_HELD) */
        uint64_t backed_up_bytes, backup_ms;
        bool acted;               /* actions ran since the last observation */
        bool protecting;          /* the kernel has run held within the backup */
        struct plan_action guard; /* PLAN_BACKUP: slot 0 held since the take-over */
        bool froze;               /* the take-over froze the reshape */
        bool frozen_by_other;     /* someone else froze it (mdadm --stop, an admin) */
        unsigned raises;          /* sync_max raises, the release included */
        unsigned degraded;        /* members missing, as last seen */
        int stop_signal;
        /* reshaped pause: the record says paused (request number); the
         * hold confirmed for that request; a pause signal came in. */
        bool paused, pause_confirmed, pause_check;
        uint64_t pause_request;
};

static uint64_t now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Where a grow or shrink is at risk follows raid5's rule for data that
 * stays at the same offset on every member; a reshape that moves the data
 * offset (mdadm does for 1.x when there is room) shifts that rule, and
 * needs no backup when mdadm chose the offsets for it. */
static int check_in_place(struct sup *s)
{
        struct md_member *m = NULL;
        size_t n = 0;
        int r;

        r = md_get_members(s->md, &m, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (m[i].slot >= 0 && m[i].new_data_offset_dev_sectors != m[i].data_offset_dev_sectors) {
                        r = log_error_errno(EOPNOTSUPP,
                                            "%s: the reshape moves the data on %s (offset %" PRIu64 " -> %" PRIu64 " sectors) instead of rewriting it in place; it needs no backup file and reshaped does not supervise it. Let mdadm run it (mdadm --grow --continue %s).",
                                            md_name(s->md), m[i].name, m[i].data_offset_dev_sectors,
                                            m[i].new_data_offset_dev_sectors, md_devnode(s->md));
                        break;
                }
        md_members_free(m, n);
        return r < 0 ? r : 0;
}

static int read_geometry(struct sup *s)
{
        uint64_t array_kib = 0;
        char buf[64];
        const char *why = NULL;
        int r;

        r = md_get_geometry(s->md, &s->mdg);
        if (r < 0)
                return r;
        if (s->mdg.metadata.kind != MD_METADATA_NATIVE)
                return log_error_errno(EOPNOTSUPP,
                                       "%s has %s metadata; only native 0.90 and 1.x arrays are supervised.",
                                       md_name(s->md),
                                       s->mdg.metadata.kind == MD_METADATA_NONE ? "no" : "external");
        /* "default" while md computes the size itself; a number (KiB) after
         * mdadm --grow --array-size, as before a shrink. */
        if (md_read_attr(s->md, "array_size", buf, sizeof(buf)) > 0 &&
            strncmp(buf, "default", 7) != 0)
                array_kib = strtoull(buf, NULL, 10);

        r = reshape_shape_geometry(&s->mdg, array_kib, &s->geo, &why);
        if (r < 0)
                return log_error_errno(r, "Cannot supervise the reshape of %s: %s.", md_name(s->md), why);
        if (s->geo.old_data_disks != s->geo.new_data_disks) {
                r = check_in_place(s);
                if (r < 0)
                        return r;
        }

        reshape_shape_identity(&s->mdg, &s->geo, &s->id);
        return md_read_uuid_and_events(s->md, s->id.uuid, &s->id.events);
}

/* The checkpoint the superblocks hold, as progress. */
static int disk_checkpoint(struct sup *s, uint64_t *ret_progress)
{
        uint64_t pos;
        bool active;
        int r;

        r = md_read_disk_checkpoint(s->md, &active, &pos);
        if (r < 0)
                return r;
        if (!active)
                return -ENODATA;
        *ret_progress = geometry_position_to_progress(&s->geo, pos);
        return 0;
}

static int wait_sync_action(struct sup *s, enum md_sync_action want1, enum md_sync_action want2)
{
        uint64_t deadline = now_ms() + FREEZE_TIMEOUT_MS;
        enum md_sync_action a;
        int r;

        for (;;) {
                r = md_get_sync_action(s->md, &a);
                if (r < 0)
                        return r;
                if (a == want1 || a == want2)
                        return 0;
                if (now_ms() > deadline)
                        return log_error_errno(ETIMEDOUT, "%s: sync_action still reads %s after %d s.",
                                               md_name(s->md), md_sync_action_to_string(a),
                                               FREEZE_TIMEOUT_MS / 1000);
                usleep(20000);
        }
}

static uint64_t section_progress_for(const struct sup *s, uint64_t bytes)
{
        return bytes_to_sectors(bytes) / s->geo.old_data_disks;
}

static int finish_rename(struct sup *s)
{
        int r;

        if (!s->rename_from)
                return 0;
        r = backup_file_rename(s->bf, s->o->backup_path);
        if (r < 0)
                return r;
        free(s->rename_from);
        s->rename_from = NULL;
        return 0;
}

/* Where the members' superblocks say the reshape is, in array sectors;
 * before the first superblock write, where it starts. */
static int disk_position(struct sup *s, uint64_t *ret)
{
        bool active;
        int r;

        r = md_read_disk_checkpoint(s->md, &active, ret);
        if (r < 0)
                return r;
        if (!active)
                *ret = geometry_progress_to_position(&s->geo, 0);
        return 0;
}

/* The generation in the header of the file at @path; 0 when it has none
 * (no file, mdadm's, damaged). */
static uint64_t file_generation(const char *path)
{
        uint8_t buf[BACKUP_HEADER_BYTES];
        struct backup_header h;
        struct backup_verify v;
        ssize_t n;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        n = pread(fd, buf, sizeof(buf), 0);
        close(fd);
        if (n != (ssize_t) sizeof(buf))
                return 0;
        v = backup_header_decode(buf, &h);
        return v.reason == BACKUP_VERIFY_OK ? h.generation : 0;
}

/* The new file's generations go on from the file it replaces and from the
 * token (which a leftover of an earlier run may hold), so that restore,
 * refusing generations below the token, never refuses it, and a copy of
 * an older file never passes for it. */
static int continue_generations(struct sup *s, uint64_t replaced_generation)
{
        uint64_t token = 0;
        int r;

        r = record_token_read(s->uuid, &token);
        if (r < 0 && r != -ENOENT)
                log_warning("%s: the generation token will be written anew.", md_name(s->md));
        if (r < 0)
                token = 0;
        return backup_file_continue_generation(s->bf, token > replaced_generation ? token : replaced_generation);
}

/*
 * A supervisor killed with SIGKILL leaves its file with sections beyond the
 * on-disk checkpoint (a window backed up ahead, the kernel parked short of
 * it) and writes to them still suspended: the running array then holds
 * exactly what those sections hold, and the take-over backs up again
 * whatever the kernel rewrote past its checkpoint, so the file may be
 * replaced without a restore. Restore's write-back cut short, or an array
 * mdadm started torn, holds something else there; only then are the
 * sections the only good copy. Returns 1 when every section beyond @pos
 * of this array's reshaped-written file equals the array's content, 0 when
 * not (or nothing to compare), <0 on errors.
 */
static int array_holds_backup(struct sup *s, const char *path, uint64_t pos)
{
        struct backup_file *bf = NULL;
        void *file = NULL, *arr = NULL;
        const struct backup_header *h;
        int fd = -1, r;

        if (backup_file_open(path, &bf) < 0)
                return 0;
        h = backup_file_header(bf);
        r = 0;
        if (!h->has_extension || memcmp(h->identity.uuid, s->id.uuid, 16) != 0 ||
            !backup_header_beyond(h, s->geo.backwards, pos))
                goto out;
        fd = open(md_devnode(s->md), O_RDONLY | O_DIRECT | O_CLOEXEC);
        if (fd < 0) {
                r = log_error_errno(errno, "Failed to open %s: %m", md_devnode(s->md));
                goto out;
        }
        for (unsigned i = 0; i < BACKUP_SLOTS; i++) {
                const struct backup_section *sec = &h->sections[i];
                size_t bytes = (size_t) sectors_to_bytes(sec->length_sectors);
                ssize_t n;

                if (!sec->length_sectors)
                        continue;
                free(file);
                free(arr);
                file = arr = NULL;
                if (posix_memalign(&file, BACKUP_ALIGN_BYTES, bytes) != 0 ||
                    posix_memalign(&arr, BACKUP_ALIGN_BYTES, bytes) != 0) {
                        r = log_error_errno(ENOMEM, "Out of memory for a %zu-byte section.", bytes);
                        goto out;
                }
                if (backup_file_read_section(bf, i, file) != 0)
                        goto out;
                n = pread(fd, arr, bytes, (off_t) sectors_to_bytes(sec->array_start_sectors));
                if (n < 0) {
                        r = log_error_errno(errno, "Failed to read %s: %m", md_devnode(s->md));
                        goto out;
                }
                if ((size_t) n != bytes || memcmp(file, arr, bytes) != 0)
                        goto out;
        }
        log_notice("%s: %s holds sections beyond the on-disk checkpoint (array sector %" PRIu64 "), and the array holds the same bytes there (a supervisor was killed): replacing it, no restore needed.",
                   md_name(s->md), path, pos);
        r = 1;
out:
        if (fd >= 0)
                close(fd);
        free(file);
        free(arr);
        backup_file_free(bf);
        return r;
}

/*
 * A file already at the path is replaced atomically (a new file, synced,
 * renamed over it) before the array is touched, never truncated in place:
 * a crash in between leaves the one or the other, whole. A file of this
 * array with sections beyond the on-disk checkpoint is refused: this
 * process did not write them, so they may be the only good copy of what
 * the kernel was rewriting (an interrupted restore leaves exactly that,
 * with the array's copy torn), and only `reshaped restore` may use them.
 */
static int open_backup(struct sup *s)
{
        const char *path = s->o->backup_path;
        char *tmp = NULL;
        uint64_t pos, replaced_generation = 0;
        struct stat st;
        int r;

        r = disk_position(s, &pos);
        if (r < 0)
                return r;
        r = record_token_open(s->uuid, &s->token);
        if (r < 0)
                return r;
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
                r = backup_file_create(path, &s->id, s->slot_bytes, BACKUP_CREATE_OVERWRITE, &s->bf);
        } else {
                r = array_holds_backup(s, path, pos);
                if (r == 0)
                        r = backup_file_may_replace(path, s->id.uuid, md_devnode(s->md), s->geo.backwards, pos);
                if (r < 0)
                        return r;
                replaced_generation = file_generation(path);
                if (asprintf(&tmp, "%s.new", path) < 0)
                        return log_error_errno(ENOMEM, "Out of memory.");
                r = backup_file_create(tmp, &s->id, s->slot_bytes, BACKUP_CREATE_OVERWRITE, &s->bf);
                if (r < 0) {
                        free(tmp);
                        return r;
                }
                s->rename_from = tmp;
        }
        if (r < 0)
                return r;
        r = continue_generations(s, replaced_generation);
        if (r < 0)
                return r;
        /* The file it replaces may say the kernel is held at the checkpoint
         * (restore's emptied backup): so must this one, before it counts
         * (see set_resume()). */
        if (!s->geo.backwards) {
                r = backup_file_set_resume(s->bf, pos);
                if (r < 0)
                        return r;
        }
        r = finish_rename(s);
        if (r < 0)
                return r;
        return record_token_write(s->token, backup_file_header(s->bf)->generation);
}

/* Writes are issued in pieces of this size as the reads bring them in. */
#define WRITE_PIECE_BYTES ((uint64_t) 4 << 20)

/* A window buffer no read uses; the planner keeps at most two windows in
 * memory, the one written and the one read ahead. */
static void *free_buffer(const struct sup *s)
{
        for (unsigned b = 0; b < 2; b++) {
                bool used = false;

                for (unsigned i = 0; i < s->n_reads; i++)
                        used |= array_read_buffer(s->reads[i].rd) == s->bufs[b];
                if (!used)
                        return s->bufs[b];
        }
        return NULL;
}

/*
 * Starts reading @range, which the caller has suspended, from the members
 * in the old layout. That layout holds everything the kernel has not
 * passed, and it stops at sync_max: a range on its near side would read
 * as garbage, so it is refused. Which members to trust is asked anew
 * each time (md stops writing to a member once it fails it).
 */
static int start_read(struct sup *s, struct array_range range, struct array_read **ret)
{
        void *buf = free_buffer(s);
        uint64_t usable;
        int r;

        if (!buf)
                return log_error_errno(EBUSY, "Internal error: both window buffers are in use.");
        if (!array_range_inside(geometry_old_layout(&s->geo, s->plan.sync_max), range))
                return log_error_errno(EINVAL, "Internal error: array sectors %" PRIu64 "-%" PRIu64
                                       " are not all in the old layout with sync_max at %" PRIu64 ".",
                                       range.lo_array_sectors, range.hi_array_sectors, s->plan.sync_max);
        r = member_set_refresh(s->members, s->md, &usable);
        if (r < 0)
                return r;
        return array_read_start(s->members, usable, buf, s->slot_bytes, range, ret);
}

/* Takes the read-ahead of the window @a backs up, if there is one. */
static struct array_read *take_read(struct sup *s, const struct plan_action *a)
{
        struct array_read *rd;

        if (!s->n_reads || s->reads[0].from_progress != a->from_progress)
                return NULL;
        rd = s->reads[0].rd;
        s->reads[0] = s->reads[1];
        s->n_reads--;
        return rd;
}

/* Drops the reads the planner no longer keeps ahead. */
static void sync_reads(struct sup *s)
{
        unsigned kept = 0;

        for (unsigned i = 0; i < s->n_reads; i++) {
                bool wanted = false;

                for (unsigned k = 0; k < s->plan.n_ahead; k++)
                        wanted |= s->plan.ahead[k].from_progress == s->reads[i].from_progress;
                if (wanted)
                        s->reads[kept++] = s->reads[i];
                else
                        array_read_free(s->reads[i].rd);
        }
        s->n_reads = kept;
}

static int read_ahead(struct sup *s, const struct plan_action *a)
{
        int r;

        if (s->n_reads >= 2)
                return log_error_errno(EBUSY, "Internal error: a third read-ahead.");
        r = start_read(s, a->range, &s->reads[s->n_reads].rd);
        if (r < 0)
                return r;
        s->reads[s->n_reads++].from_progress = a->from_progress;
        return 0;
}

/* A write or sync of the backup file failed (backup-file.c said which):
 * the journal's event for it; the kernel stays held, as the stop says. */
static int backup_failed(struct sup *s, int r)
{
        report_event(REPORT_MID_BACKUP_ERROR, md_name(s->md),
                     "%s: the backup %s could not be written (%s); the kernel is held at what is durably backed up.",
                     md_name(s->md), s->o->backup_path, strerror(-r));
        return r;
}

/* Writes @a's range from @rd into its slot piece by piece as the reads
 * bring it in. @ret_read_wait_ms: how long the writes waited for them. */
static int write_window(struct sup *s, const struct plan_action *a, struct array_read *rd,
                        uint32_t *ret_crc, uint64_t *ret_read_wait_ms)
{
        struct array_range rr = array_read_range(rd);
        const char *buf = array_read_buffer(rd);
        uint64_t lo = a->range.lo_array_sectors, hi = a->range.hi_array_sectors;
        uint64_t piece = bytes_to_sectors(WRITE_PIECE_BYTES), wait_ms = 0;
        uint32_t crc = 0;
        int r;

        for (uint64_t at = lo; at < hi; at += piece) {
                uint64_t n = hi - at < piece ? hi - at : piece, t = now_ms();
                const char *data = buf + sectors_to_bytes(at - rr.lo_array_sectors);

                /* The reads and writes of a window outlast a watchdog
                 * quarter on slow disks; each piece is progress. */
                report_watchdog(t);
                r = array_read_wait(rd, at, at + n);
                wait_ms += now_ms() - t;
                if (r < 0)
                        return r;
                r = backup_file_write_data(s->bf, a->slot, sectors_to_bytes(at - lo), data,
                                           (size_t) sectors_to_bytes(n));
                if (r < 0)
                        return backup_failed(s, r);
                crc = backup_crc32c(crc, data, (size_t) sectors_to_bytes(n));
        }
        *ret_crc = crc;
        *ret_read_wait_ms = wait_ms;
        return 0;
}

/* What mdadm's restore must read when the backup holds nothing: the
 * on-disk position (see backup.h). Only a forwards reshape can say it:
 * backwards, mdadm takes a section at the position as not needed. When
 * both slots are empty the kernel is held exactly at the checkpoint. */
static int set_resume(struct sup *s, uint64_t checkpoint_progress)
{
        if (s->geo.backwards)
                return 0;
        return backup_file_set_resume(s->bf, geometry_progress_to_position(&s->geo, checkpoint_progress));
}

/* Whether the planner forgets the other slot as soon as backup @a is
 * durable (the kernel is past it already): then the commit's header can
 * say so, saving a header write and sync per window. */
static bool forgets_other(const struct sup *s, const struct plan_action *a)
{
        struct planner q = s->plan;
        struct plan_action next;

        planner_applied(&q, a, now_ms());
        next = planner_next(&q);
        return next.kind == PLAN_FORGET && next.slot != a->slot;
}

/* @release_other: the commit also empties the other slot. */
static int do_backup(struct sup *s, const struct plan_action *a, bool release_other)
{
        uint64_t len = array_range_sectors(a->range);
        uint64_t bytes = sectors_to_bytes(len);
        uint64_t t = now_ms(), read_wait_ms = 0, t_data, t_token_us, token_us;
        struct array_read *rd;
        bool ahead;
        uint32_t crc = 0;
        int r;

        if (bytes > s->slot_bytes)
                return log_error_errno(E2BIG, "Internal error: a %" PRIu64 "-byte window exceeds the %" PRIu64 "-byte slot.",
                                       bytes, s->slot_bytes);
        if (len % BACKUP_ALIGN_SECTORS)
                return log_error_errno(EINVAL, "%s: window at sector %" PRIu64 " is not a multiple of 4 KiB; the array size must be.",
                                       md_name(s->md), a->range.lo_array_sectors);
        rd = take_read(s, a);
        if (rd && !array_range_inside(array_read_range(rd), a->range))
                rd = array_read_free(rd);
        ahead = rd;
        if (!rd) {
                r = start_read(s, a->range, &rd);
                if (r < 0)
                        return r;
        }
        r = write_window(s, a, rd, &crc, &read_wait_ms);
        array_read_free(rd);
        if (r < 0)
                return r;
        t_data = now_ms();
        if (release_other) {
                r = set_resume(s, s->plan.checkpoint);
                if (r < 0)
                        return r;
        }
        r = backup_file_commit(s->bf, a->slot, a->range.lo_array_sectors, len, crc, release_other);
        if (r < 0)
                return backup_failed(s, r);
        /* Before sync_max may pass the window: from now on a copy of the
         * backup older than this header is stale, and restore knows it. */
        t_token_us = now_us();
        r = record_token_write(s->token, backup_file_header(s->bf)->generation);
        if (r < 0)
                return r;
        token_us = now_us() - t_token_us;
        s->backed_up_bytes += bytes;
        s->backup_ms += now_ms() - t;
        log_debug("%s: backed up array sectors %" PRIu64 "-%" PRIu64 " into slot %u in %" PRIu64
                  " ms (%s; the writes waited %" PRIu64 " ms for reads, the commit took %" PRIu64
                  " ms, of which the generation token %.2f ms).",
                  md_name(s->md), a->range.lo_array_sectors, a->range.hi_array_sectors, a->slot,
                  now_ms() - t, ahead ? "read ahead" : "read now", read_wait_ms, now_ms() - t_data,
                  (double) token_us / 1000.0);
        return 0;
}

/* Freezes the reshape; returns its on-disk checkpoint (0 before the first). */
static int freeze(struct sup *s, uint64_t *ret_ckpt)
{
        uint64_t ckpt;
        int r;

        r = md_set_sync_action(s->md, MD_SYNC_ACTION_FROZEN);
        if (r < 0)
                return r;
        s->froze = true;
        r = wait_sync_action(s, MD_SYNC_ACTION_FROZEN, MD_SYNC_ACTION_IDLE);
        if (r < 0)
                return r;
        r = disk_checkpoint(s, &ckpt);
        if (r == -ENODATA)
                ckpt = 0;
        else if (r < 0)
                return r;
        *ret_ckpt = geometry_align_down(&s->geo, ckpt);
        return 0;
}

/* A blocking read of the reshape's first block, on a thread of its own:
 * it may wait until the restart, and is abandoned on a timeout. The last
 * of the two sides to let go frees it. */
struct begun_probe {
        int fd;
        off_t off;
        void *buf;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool done, abandoned;
        int error;
};

static void begun_probe_free(struct begun_probe *p)
{
        close(p->fd);
        free(p->buf);
        free(p);
}

static void *begun_probe_run(void *userdata)
{
        struct begun_probe *p = userdata;
        ssize_t n;
        bool abandoned;

        do
                n = pread(p->fd, p->buf, BACKUP_ALIGN_BYTES, p->off);
        while (n < 0 && errno == EINTR);
        pthread_mutex_lock(&p->lock);
        p->done = true;
        p->error = n == (ssize_t) BACKUP_ALIGN_BYTES ? 0 : n < 0 ? -errno : -EIO;
        abandoned = p->abandoned;
        pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);
        if (abandoned)
                begun_probe_free(p);
        return NULL;
}

/* 1 if the blocking read came back within BEGUN_PROBE_TIMEOUT_MS, 0 if not. */
static int blocking_read_returns(struct sup *s, int fd, off_t off)
{
        struct begun_probe *p;
        pthread_condattr_t ca;
        pthread_attr_t attr;
        pthread_t t;
        struct timespec deadline;
        bool done;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p || posix_memalign(&p->buf, BACKUP_ALIGN_BYTES, BACKUP_ALIGN_BYTES) != 0) {
                free(p);
                close(fd);
                return log_error_errno(ENOMEM, "Out of memory.");
        }
        p->fd = fd;
        p->off = off;
        pthread_mutex_init(&p->lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&p->cond, &ca);
        pthread_condattr_destroy(&ca);
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = -pthread_create(&t, &attr, begun_probe_run, p);
        pthread_attr_destroy(&attr);
        if (r < 0) {
                begun_probe_free(p);
                return log_error_errno(r, "Failed to start a thread: %m");
        }
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += BEGUN_PROBE_TIMEOUT_MS / 1000;
        pthread_mutex_lock(&p->lock);
        while (!p->done && pthread_cond_timedwait(&p->cond, &p->lock, &deadline) == 0)
                ;
        done = p->done;
        r = p->error;
        p->abandoned = !done;
        pthread_mutex_unlock(&p->lock);
        if (!done)
                return 0;
        begun_probe_free(p);
        if (r < 0)
                return log_error_errno(r, "%s: cannot tell whether the reshape has begun (reading %s failed: %m); the reshape stays frozen. Continue it with mdadm --grow --continue %s.",
                                       md_name(s->md), md_devnode(s->md), md_devnode(s->md));
        return 1;
}

/*
 * Whether a frozen reshape with no checkpoint yet has rewritten anything.
 * raid5 holds a request that falls between the kernel's last checkpoint
 * and its front until the next checkpoint (a REQ_NOWAIT one fails with
 * EAGAIN), so a read of the reshape's first block that returns proves the
 * kernel has not begun. A non-blocking read answers at once; its EAGAIN
 * can also mean dirty page cache over that block (a mounted filesystem's
 * superblock), and members without NOWAIT support refuse it, so those
 * are asked again with a blocking read, which either returns or waits for
 * the checkpoint that only the restart brings: not back within
 * BEGUN_PROBE_TIMEOUT_MS counts as begun (every early take-over of a
 * begun kernel waits that long, frozen). Only a read that returned may say
 * "not begun": that answer lets the first unit be backed up from the
 * members' old layout.
 */
static int kernel_has_begun(struct sup *s, bool *ret)
{
        uint64_t origin = geometry_progress_to_position(&s->geo, 0);
        struct iovec iov = { .iov_base = s->bufs[0], .iov_len = BACKUP_ALIGN_BYTES };
        off_t off = s->geo.backwards ? (off_t) (sectors_to_bytes(origin) - BACKUP_ALIGN_BYTES) : 0;
        ssize_t n;
        int fd, r, nowait_errno;

        fd = open(md_devnode(s->md), O_RDONLY | O_DIRECT | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open %s: %m", md_devnode(s->md));
        n = preadv2(fd, &iov, 1, off, RWF_NOWAIT);
        nowait_errno = errno;
        if (n >= 0) {
                close(fd);
                *ret = false;
                return 0;
        }
        if (errno != EAGAIN && errno != EOPNOTSUPP) {
                r = log_error_errno(errno, "%s: cannot tell whether the reshape has begun (a non-blocking read of %s failed: %m); the reshape stays frozen. Continue it with mdadm --grow --continue %s.",
                                    md_name(s->md), md_devnode(s->md), md_devnode(s->md));
                close(fd);
                return r;
        }
        r = blocking_read_returns(s, fd, off);
        if (r < 0)
                return r;
        *ret = r == 0;
        log_debug("%s: a non-blocking read of the reshape's first block failed (%s); a blocking one %s.",
                  md_name(s->md), strerror(nowait_errno), r ? "returned: the kernel has not begun"
                                                     : "did not return: the kernel has begun");
        return 0;
}

/* Backs up the reshape's first unit into slot 0 and keeps it suspended, so
 * that a kernel which has not begun may be let through it. */
static int guard_first_unit(struct sup *s)
{
        struct plan_action a = {
                .kind = PLAN_BACKUP,
                .slot = 0,
                .range = geometry_at_risk(&s->geo, 0, geometry_align_up(&s->geo, 1)),
                .from_progress = 0,
                .progress = geometry_align_up(&s->geo, 1),
        };
        int r;

        r = md_set_suspend(s->md, a.range.lo_array_sectors, a.range.hi_array_sectors);
        if (r < 0)
                return r;
        r = do_backup(s, &a, false);
        if (r < 0)
                return r;
        s->guard = a;
        return 0;
}

/*
 * Waits for a restarted reshape to park and checkpoint its front. After a
 * restart the kernel resumes from the front it keeps in memory, not from
 * the checkpoint: raid5's first request skips to it, notifies it, and,
 * since it is at or past sync_max, writes it to the superblocks and parks.
 * (The notification before is md_do_sync's 0, which says nothing.) A
 * kernel that had not begun works up to sync_max and checkpoints there.
 * Returns 1 if the reshape ended instead.
 */
static int wait_front(struct sup *s, uint64_t limit, uint64_t *ret_front)
{
        uint64_t deadline = now_ms() + FRONT_TIMEOUT_MS;
        uint64_t front = 0, ckpt = 0, pos;
        struct md_sync_completed sc;
        int r;

        for (;;) {
                r = md_get_reshape_position(s->md, &pos);
                if (r < 0)
                        return r;
                if (pos == MD_RESHAPE_POSITION_NONE)
                        return 1;
                r = md_get_sync_completed(s->md, &sc);
                if (r < 0)
                        return r;
                if (!front && sc.state == MD_SYNC_COMPLETED_RUNNING &&
                    sc.completed_dev_sectors >= limit)
                        front = sc.completed_dev_sectors;
                if (front) {
                        r = disk_checkpoint(s, &ckpt);
                        if (r < 0 && r != -ENODATA)
                                return r;
                        if (r == 0 && ckpt >= front) {
                                *ret_front = ckpt;
                                return 0;
                        }
                }
                if (now_ms() > deadline && s->geo.relocates) {
                        /* Nothing is at risk, so the front need not be
                         * durable: pacing goes on from the last report. */
                        log_warning("%s: the restarted reshape did not checkpoint its position in %d s (sync_completed %" PRIu64 ", on disk %" PRIu64 ", sync_max %" PRIu64 "): this raid10 lacks the halfway checkpoint of kernel/patches. Nothing is at risk; pacing goes on.",
                                    md_name(s->md), FRONT_TIMEOUT_MS / 1000,
                                    sc.completed_dev_sectors, ckpt, limit);
                        *ret_front = front > limit ? front : limit;
                        return 0;
                }
                if (now_ms() > deadline)
                        return log_error_errno(ETIMEDOUT, "%s: the restarted reshape did not checkpoint its position in %d s (sync_completed %" PRIu64 ", on disk %" PRIu64 ", sync_max %" PRIu64 ").",
                                               md_name(s->md), FRONT_TIMEOUT_MS / 1000,
                                               sc.completed_dev_sectors, ckpt, limit);
                r = md_wait_sync_completed(s->md, 100, &sc);
                if (r < 0)
                        return r;
        }
}

/*
 * A grow or shrink that mdadm ran may stop anywhere; parked where an old
 * stripe is split, every read of that stripe waits for the kernel to move
 * on, and the first backup would wait for ever. Inside a stretch at risk
 * the kernel is let on to the next park point (what it rewrites meanwhile
 * is counted with the rest of the unprotected run before the take-over).
 */
static int park_aligned(struct sup *s, uint64_t *front)
{
        uint64_t next = geometry_align_up(&s->geo, *front);
        int r;

        if (next == *front || next >= s->geo.end_progress_sectors ||
            geometry_next_at_risk(&s->geo, *front) != geometry_align_down(&s->geo, *front))
                return 0;
        log_notice("%s: the kernel stopped inside an old stripe; letting it on to the stripe's end before taking over.",
                   md_name(s->md));
        r = md_set_sync_max(s->md, next);
        if (r < 0)
                return r;
        return wait_front(s, next, front);
}

/*
 * Makes sync_max a number no larger than the on-disk checkpoint, freezing
 * and restarting the reshape if it had to be lowered, and returns the
 * checkpoint, which is then the kernel's front too. A reshape mdadm
 * started runs with sync_max=max, and whatever it rewrote up to its front
 * was never protected; the restart makes the kernel checkpoint there, so
 * none of it needs a backup any more, and its size is logged. Returns 1 if
 * the reshape ended before it could be taken over.
 */
static int establish(struct sup *s, uint64_t *ret_ckpt, bool *ret_frozen)
{
        struct md_sync_completed sc;
        enum md_sync_action action;
        uint64_t sync_max, ckpt, front, limit, pos_start, pos_front;
        bool begun = true;
        char b1[32], distance[64];
        int r;

        r = md_get_sync_action(s->md, &action);
        if (r < 0)
                return r;
        r = md_get_sync_max(s->md, &sync_max);
        if (r < 0)
                return r;
        r = md_get_sync_completed(s->md, &sc);
        if (r < 0)
                return r;

        r = disk_checkpoint(s, &ckpt);
        if (r == -ENODATA) {
                uint64_t pos;

                /* The reshape was set up but its first superblock write is
                 * not done yet: only the very start is acceptable. */
                r = md_get_reshape_position(s->md, &pos);
                if (r < 0)
                        return r;
                if (pos == MD_RESHAPE_POSITION_NONE ||
                    geometry_position_to_progress(&s->geo, pos) != 0)
                        return log_error_errno(EPROTO,
                                               "%s: no reshape recorded in the members' superblocks; is a reshape running? (sync_action=%s)",
                                               md_name(s->md), md_sync_action_to_string(action));
                ckpt = 0;
        } else if (r < 0) {
                return r;
        }

        front = sc.state == MD_SYNC_COMPLETED_RUNNING ? sc.completed_dev_sectors : ckpt;
        if (sync_max != MD_SYNC_MAX_UNLIMITED && sync_max <= ckpt && front <= ckpt) {
                *ret_ckpt = ckpt;
                *ret_frozen = action != MD_SYNC_ACTION_RESHAPE;
                return 0;
        }

        log_notice("%s: sync_max is %s, beyond the durable checkpoint; freezing the reshape to take over.",
                   md_name(s->md), sync_max == MD_SYNC_MAX_UNLIMITED ? "max" : "a number");
        r = freeze(s, &ckpt);
        if (r < 0)
                return r;
        /* A restart with sync_max at 0 makes no request, so reports nothing:
         * before the first checkpoint the limit is one unit, which a kernel
         * that had not begun may then rewrite, from a backup. A relocating
         * reshape (raid10) rewrites nothing it still needs: no backup. */
        limit = ckpt ? ckpt : geometry_align_up(&s->geo, 1);
        if (ckpt == 0 && !s->geo.relocates) {
                r = kernel_has_begun(s, &begun);
                if (r < 0)
                        return r;
                if (!begun) {
                        r = guard_first_unit(s);
                        if (r < 0)
                                return r;
                }
        }
        r = md_set_sync_min(s->md, 0);
        if (r < 0)
                return r;
        r = md_set_sync_max(s->md, limit);
        if (r < 0)
                return r;
        r = md_set_sync_action(s->md, MD_SYNC_ACTION_RESHAPE);
        if (r < 0)
                return r;
        r = wait_front(s, limit, &front);
        if (r != 0)
                return r;
        r = park_aligned(s, &front);
        if (r != 0)
                return r;

        pos_start = geometry_progress_to_position(&s->geo, 0);
        pos_front = geometry_progress_to_position(&s->geo, begun ? front : 0);
        snprintf(distance, sizeof(distance), "RESHAPE_UNPROTECTED_BYTES=%" PRIu64,
                 sectors_to_bytes(pos_start > pos_front ? pos_start - pos_front : pos_front - pos_start));
        if (s->geo.relocates)
                report_event_field(REPORT_MID_TAKEOVER, md_name(s->md), distance,
                             "%s: took over at %.1f%%; before this point the kernel reshaped %s unpaced, which put nothing at risk (raid10 writes its new layout at a new data offset). From here on it is paced in windows.",
                             md_name(s->md), 100.0 * (double) front / (double) s->geo.end_progress_sectors,
                             report_bytes(sectors_to_bytes(pos_start > pos_front ? pos_start - pos_front
                                                                                 : pos_front - pos_start),
                                          b1, sizeof(b1)));
        else
                report_event_field(REPORT_MID_TAKEOVER, md_name(s->md), distance,
                             "%s: took over at %.1f%%; before this point the kernel reshaped %s with nothing holding it back. From here on every window is backed up before the kernel may rewrite it.",
                             md_name(s->md), 100.0 * (double) front / (double) s->geo.end_progress_sectors,
                             report_bytes(sectors_to_bytes(pos_start > pos_front ? pos_start - pos_front
                                                                                 : pos_front - pos_start),
                                          b1, sizeof(b1)));
        *ret_ckpt = front;
        *ret_frozen = false;
        return 0;
}

static int execute(struct sup *s, const struct plan_action *a)
{
        int r;

        switch (a->kind) {
        case PLAN_SUSPEND:
                return md_set_suspend(s->md, a->range.lo_array_sectors, a->range.hi_array_sectors);
        case PLAN_BACKUP:
                return do_backup(s, a, forgets_other(s, a));
        case PLAN_SET_SYNC_MAX:
                return md_set_sync_max(s->md, a->progress);
        case PLAN_FORGET:
                r = set_resume(s, s->plan.checkpoint);
                if (r < 0)
                        return r;
                return backup_file_release(s->bf, a->slot);
        case PLAN_READ_AHEAD:
                return read_ahead(s, a);
        case PLAN_CANCEL_READS:
                /* sync_reads() drops them once the planner has. */
                return 0;
        case PLAN_RELEASE:
                return md_set_sync_max_unlimited(s->md);
        case PLAN_RESUME:
                return md_set_sync_action(s->md, MD_SYNC_ACTION_RESHAPE);
        case PLAN_WAIT:
        case PLAN_DONE:
                return 0;
        }
        return -EINVAL;
}

/* A member lost mid-reshape: md reconstructs what we read through it, so
 * within the level's redundancy the backups stay exact; beyond it the
 * array has failed and nothing more may be written. */
static int check_degraded(struct sup *s)
{
        unsigned degraded, tolerated = s->geo.redundancy;
        int r;

        r = md_get_degraded(s->md, &degraded);
        if (r < 0)
                return r;
        if (degraded == s->degraded)
                return 0;
        if (degraded > tolerated)
                return log_error_errno(EIO, "%s lost %u members, more than %s survives; the array has failed.",
                                       md_name(s->md), degraded,
                                       md_level_to_string(s->mdg.level) ? md_level_to_string(s->mdg.level) : "its level");
        if (degraded > s->degraded)
                log_warning("%s is now missing %u member(s); the reshape goes on and backups are reconstructed by md. Replace the failed member after the reshape.",
                            md_name(s->md), degraded);
        s->degraded = degraded;
        return 0;
}

/*
 * sync_action reads neither reshape nor frozen-by-us mid-reshape. md
 * passes through idle between a finished reshape and reshape_position
 * reading none, and while it restarts the thread: look again for a
 * moment. Frozen by someone else (mdadm --stop freezes first), the
 * kernel cannot move, so there is nothing to wait for: stop at once,
 * holding what the backup holds.
 */
static int reshape_stopped(struct sup *s, enum md_sync_action action, bool *ret_finished)
{
        uint64_t deadline = now_ms() + SETTLE_TIMEOUT_MS, pos;
        int r;

        for (;;) {
                if (action == MD_SYNC_ACTION_FROZEN) {
                        s->frozen_by_other = true;
                        return log_warning_errno(ECANCELED, "%s: someone else froze the reshape (sync_action=frozen; mdadm --stop does): stopping supervision.",
                                                 md_name(s->md));
                }
                if (now_ms() > deadline)
                        return log_error_errno(EPROTO, "%s: the reshape stopped (sync_action=%s for %d s) although reshape_position still reads a position.",
                                               md_name(s->md), md_sync_action_to_string(action),
                                               SETTLE_TIMEOUT_MS / 1000);
                usleep(50000);
                r = md_get_reshape_position(s->md, &pos);
                if (r < 0)
                        return r;
                if (pos == MD_RESHAPE_POSITION_NONE) {
                        *ret_finished = true;
                        return 0;
                }
                r = md_get_sync_action(s->md, &action);
                if (r < 0)
                        return r;
                if (action == MD_SYNC_ACTION_RESHAPE)
                        return 0;
        }
}

/* Reads what the kernel shows now. @notified: a notification was taken. */
static int observe(struct sup *s, bool notified)
{
        struct plan_observation o = { .notified = notified, .now_ms = now_ms() };
        struct md_sync_completed sc;
        enum md_sync_action action;
        uint64_t pos;
        int r;

        r = md_get_sync_action(s->md, &action);
        if (r < 0)
                return r;
        r = md_get_reshape_position(s->md, &pos);
        if (r < 0)
                return r;
        r = md_get_sync_completed(s->md, &sc);
        if (r < 0)
                return r;
        r = check_degraded(s);
        if (r < 0)
                return r;
        o.reshaping = action == MD_SYNC_ACTION_RESHAPE;
        o.finished = pos == MD_RESHAPE_POSITION_NONE;
        o.completed_progress = sc.state == MD_SYNC_COMPLETED_RUNNING ? sc.completed_dev_sectors
                                                                     : s->plan.completed;
        if (!o.finished) {
                r = disk_checkpoint(s, &o.checkpoint_progress);
                if (r < 0 && r != -ENODATA)
                        return r;
                o.checkpoint_valid = r == 0;
        }
        if (!o.finished && !o.reshaping && !s->plan.frozen) {
                r = reshape_stopped(s, action, &o.finished);
                if (r < 0)
                        return r;
                o.reshaping = !o.finished;
        }

        /* Speed accounting between observations. */
        if (o.completed_progress > s->last_obs_completed && o.now_ms > s->last_obs_ms) {
                double rate = (double) (o.completed_progress - s->last_obs_completed) /
                              (double) (o.now_ms - s->last_obs_ms);

                s->rate_progress_per_ms = s->rate_progress_per_ms > 0
                                          ? 0.7 * s->rate_progress_per_ms + 0.3 * rate : rate;
        }
        s->last_obs_ms = o.now_ms;
        s->last_obs_completed = o.completed_progress;

        planner_observe(&s->plan, &o);
        /* The kernel waits from when it reaches sync_max until we raise it;
         * counted from when we see it there, so a lower bound. */
        if (!s->parked_since_ms && o.reshaping && !s->plan.released &&
            o.completed_progress >= s->plan.sync_max &&
            s->plan.sync_max < s->geo.end_progress_sectors)
                s->parked_since_ms = o.now_ms;
        return 0;
}

static void adapt_section(struct sup *s)
{
        uint64_t target_ms = s->plan.lockstep ? LOCKSTEP_WINDOW_MS : WINDOW_TARGET_MS;
        uint64_t lo = section_progress_for(s, s->o->section_min_bytes);
        uint64_t hi = section_progress_for(s, s->slot_bytes);
        uint64_t want;

        if (s->rate_progress_per_ms <= 0)
                return;
        want = (uint64_t) (s->rate_progress_per_ms * (double) target_ms);
        want = want < lo ? lo : want > hi ? hi : want;
        planner_set_section(&s->plan, want);
}

static void progress(struct sup *s, bool force)
{
        uint64_t t = now_ms(), elapsed = t - s->t0_ms;
        double rate = s->rate_progress_per_ms * 1000.0 *
                      (double) sectors_to_bytes(s->geo.new_data_disks);
        uint64_t left = s->geo.end_progress_sectors > s->plan.completed
                        ? s->geo.end_progress_sectors - s->plan.completed : 0;
        struct report_progress p = {
                .array = md_name(s->md),
                /* The last checkpoint the kernel notified may fall short of
                 * the end it reached. */
                .completed_progress = s->plan.finished ? s->geo.end_progress_sectors : s->plan.completed,
                .end_progress = s->geo.end_progress_sectors,
                .position_array_sectors = geometry_progress_to_position(&s->geo, s->plan.completed),
                .protected_array_sectors = geometry_progress_to_position(&s->geo, s->plan.protected_to),
                .protected_progress = s->plan.protected_to,
                .rate_bytes_per_sec = rate,
                .eta_sec = s->rate_progress_per_ms > 0
                           ? (double) left / s->rate_progress_per_ms / 1000.0 : -1,
                .backed_up_bytes = s->backed_up_bytes,
                .stall_fraction = elapsed ? (double) s->stall_ms / (double) elapsed : 0,
        };

        report_progress(&p, t, force);
        /* A kernel that waits a moment for the next backup is normal; one
         * that waits this long says the backup device is the bottleneck,
         * or failing. */
        if (s->parked_since_ms && !s->held_reported && t - s->parked_since_ms >= HELD_REPORT_MS) {
                char field[48];

                snprintf(field, sizeof(field), "RESHAPE_HELD_S=%" PRIu64, (t - s->parked_since_ms) / 1000);
                report_event_field(REPORT_MID_HELD, md_name(s->md), field,
                                   "%s: the kernel has waited %" PRIu64 " s at %.1f%% for the backup of the next window (%s).",
                                   md_name(s->md), (t - s->parked_since_ms) / 1000,
                                   100.0 * (double) s->plan.sync_max / (double) s->geo.end_progress_sectors,
                                   s->o->backup_path);
                s->held_reported = true;
        }
}

/* The first sync_max the kernel runs to lies within what the backup
 * holds (or, released, needs none): only now is the service ready. */
static void protection_established(struct sup *s)
{
        double to = 100.0 * (double) s->plan.protected_to / (double) s->geo.end_progress_sectors;

        s->protecting = true;
        if (s->geo.relocates)
                report_event(REPORT_MID_PROTECTED, md_name(s->md),
                             "%s: protected: the kernel is paced, held at %.1f%%, its position recorded as it goes.",
                             md_name(s->md), to);
        else
                report_event(REPORT_MID_PROTECTED, md_name(s->md),
                             "%s: protected: %s durably holds what the kernel rewrites up to %.1f%%, and the kernel is held there.",
                             md_name(s->md), s->o->backup_path, to);
        report_notify_ready("protected");
        /* After READY's own STATUS=, which it replaces. */
        progress(s, true);
}

static void pause_take_pending(struct sup *s);

/* Carries out actions until the planner waits; 1 when the reshape is done. */
static int run_actions(struct sup *s)
{
        for (;;) {
                struct plan_action a;
                int r;

                pause_take_pending(s);
                a = planner_next(&s->plan);

                if (a.kind == PLAN_WAIT || a.kind == PLAN_DONE)
                        return a.kind == PLAN_DONE;
                log_debug("%s: %s slot=%u range=%" PRIu64 "-%" PRIu64 " progress=%" PRIu64,
                          md_name(s->md), plan_action_name(a.kind), a.slot,
                          a.range.lo_array_sectors, a.range.hi_array_sectors, a.progress);
                r = execute(s, &a);
                if (r < 0)
                        return r;
                if (a.kind == PLAN_SET_SYNC_MAX || a.kind == PLAN_RELEASE)
                        s->raises++;
                if ((a.kind == PLAN_SET_SYNC_MAX || a.kind == PLAN_RELEASE) && s->parked_since_ms) {
                        s->stall_ms += now_ms() - s->parked_since_ms;
                        s->parked_since_ms = 0;
                        s->held_reported = false;
                }
                planner_applied(&s->plan, &a, now_ms());
                sync_reads(s);
                s->acted = true;
                if (!s->protecting && (a.kind == PLAN_SET_SYNC_MAX || a.kind == PLAN_RELEASE))
                        protection_established(s);
        }
}

/* Waits for a notification, a signal or the planner's timeout, then observes. */
static int wait_and_observe(struct sup *s, uint64_t timeout_ms)
{
        struct pollfd fds[2] = {
                { .fd = md_sync_completed_fd(s->md), .events = POLLPRI | POLLERR },
                { .fd = s->signal_fd, .events = POLLIN },
        };
        bool notified = false;
        int r;

        if (fds[0].fd < 0)
                return fds[0].fd;
        /* Woken often enough to ping the watchdog and refresh STATUS=
         * even while the kernel notifies nothing. */
        report_watchdog(now_ms());
        if (timeout_ms > report_wait_ms())
                timeout_ms = report_wait_ms();
        r = poll(fds, 2, timeout_ms > INT32_MAX ? INT32_MAX : (int) timeout_ms);
        if (r < 0 && errno != EINTR)
                return log_error_errno(errno, "poll() failed: %m");
        if (r > 0 && (fds[1].revents & POLLIN)) {
                struct signalfd_siginfo si = {};

                if (read(s->signal_fd, &si, sizeof(si)) != (ssize_t) sizeof(si) ||
                    si.ssi_signo != SUPERVISE_PAUSE_SIGNAL) {
                        s->stop_signal = (int) si.ssi_signo;
                        return -EINTR;
                }
                /* Pause or resume: the main loop reads the record. */
                s->pause_check = true;
        }
        if (r > 0 && (fds[0].revents & (POLLPRI | POLLERR))) {
                struct md_sync_completed sc;

                r = md_sync_completed_consume(s->md, &sc);
                if (r < 0)
                        return r;
                notified = true;
        }
        return observe(s, notified);
}

/* What the kernel is doing now, read back rather than assumed, for the
 * messages that tell an admin the state a stop or failure left. */
static void describe_kernel(struct sup *s, char *buf, size_t size)
{
        enum md_sync_action action;
        uint64_t sync_max, pos;

        if (md_get_reshape_position(s->md, &pos) == 0 && pos == MD_RESHAPE_POSITION_NONE) {
                snprintf(buf, size, "the reshape has finished");
                return;
        }
        if (md_get_sync_action(s->md, &action) < 0 || md_get_sync_max(s->md, &sync_max) < 0) {
                snprintf(buf, size, "its state cannot be read");
                return;
        }
        if (action == MD_SYNC_ACTION_FROZEN)
                snprintf(buf, size, "the reshape is frozen");
        else if (sync_max == MD_SYNC_MAX_UNLIMITED)
                snprintf(buf, size, "the reshape runs (sync_action=%s) with sync_max=max",
                         md_sync_action_to_string(action));
        else
                snprintf(buf, size, "the reshape runs (sync_action=%s), held at sync_max=%" PRIu64 " (%.1f%%)",
                         md_sync_action_to_string(action), sync_max,
                         100.0 * (double) sync_max / (double) s->geo.end_progress_sectors);
}

static bool holds_any(const struct sup *s)
{
        return s->plan.slot[0].held || s->plan.slot[1].held;
}

/* Freezes the reshape, checked: sync_action must read frozen after it. */
static int freeze_checked(struct sup *s)
{
        enum md_sync_action a;
        int r;

        r = md_get_sync_action(s->md, &a);
        if (r < 0 || a == MD_SYNC_ACTION_FROZEN)
                return r;
        r = md_set_sync_action(s->md, MD_SYNC_ACTION_FROZEN);
        if (r < 0)
                return r;
        return wait_sync_action(s, MD_SYNC_ACTION_FROZEN, MD_SYNC_ACTION_FROZEN);
}

/*
 * Stops without leaving anything at risk. First lets the kernel reach
 * sync_max, the end of what is backed up, where it checkpoints (after the
 * final release, the end of the reshape); then every window is behind
 * the checkpoint and is forgotten, and the suspend range empties. If
 * that does not happen in time, or the kernel cannot move because
 * someone else froze it, the reshape is frozen with the backup and a
 * suspend range that matches it. Every store is checked, and the message
 * says the state read back.
 */
/* Whether windows still held lie beyond the checkpoint the frozen kernel
 * left on disk. When the drain could not forget them (the backup device
 * failed), the kernel may still have passed them all: then a restart needs
 * none of them, and nothing need stay suspended. */
static bool held_needed(struct sup *s, struct array_range held)
{
        uint64_t pos;
        bool active;

        if (array_range_sectors(held) == 0)
                return false;
        if (md_read_disk_checkpoint(s->md, &active, &pos) < 0 || !active)
                return true;
        return s->geo.backwards ? held.lo_array_sectors < pos : held.hi_array_sectors > pos;
}

/*
 * The array was stopped under us (mdadm --stop: md checkpointed on the
 * way down and removed its attributes). Nothing is left to drain or
 * freeze; the backup keeps what lies beyond the checkpoint for restore.
 */
static bool array_stopped(struct sup *s)
{
        bool running = true;

        if (md_array_is_running(md_name(s->md), &running) < 0 || running)
                return false;
        if (s->geo.relocates)
                report_event(REPORT_MID_STOPPED, md_name(s->md),
                             "%s: the array was stopped (mdadm --stop) at %.1f%%; nothing is at risk (raid10 writes its new layout at a new data offset). Once it is assembled again (mdadm --assemble), continue with: reshaped supervise %s",
                             md_name(s->md), 100.0 * (double) s->plan.checkpoint / (double) s->geo.end_progress_sectors,
                             md_devnode(s->md));
        else
                report_event(REPORT_MID_STOPPED, md_name(s->md),
                             "%s: the array was stopped (mdadm --stop) at %.1f%%; %s keeps what lies beyond its checkpoint. Continue with: reshaped restore %s --backup-file %s (at boot, reshaped-recover.service does it)",
                             md_name(s->md), 100.0 * (double) s->plan.checkpoint / (double) s->geo.end_progress_sectors,
                             s->o->backup_path, md_devnode(s->md), s->o->backup_path);
        return true;
}

static void stop_safely(struct sup *s, const char *why)
{
        uint64_t deadline = now_ms() + DRAIN_TIMEOUT_MS;
        struct array_range held;
        char cont[512], state[160];
        int r = 0, rf = 0, rs;

        report_notify_stopping(why);
        s->plan.draining = true;
        while (!s->frozen_by_other && !s->plan.finished && holds_any(s) && now_ms() < deadline) {
                /* The drain and the freeze after it are bounded; systemd
                 * is to wait for them rather than SIGKILL at TimeoutStopSec=,
                 * which would leave writes suspended. */
                report_notify_extend_stop((deadline - now_ms() + FREEZE_TIMEOUT_MS + 10000) * 1000);
                r = run_actions(s);
                if (r < 0 || !holds_any(s))
                        break;
                r = wait_and_observe(s, 1000);
                if (r < 0 && r != -EINTR)
                        break;
        }
        /* Also after the last observation: a finish is acted on here. */
        (void) run_actions(s);

        /* Released with nothing held, the kernel runs to the end with
         * nothing at risk; otherwise it stops where the backup holds. */
        if (!s->plan.finished && (holds_any(s) || !s->plan.released))
                rf = freeze_checked(s);
        held = s->plan.finished ? (struct array_range) { 0, 0 } : planner_held(&s->plan);
        if (rf >= 0 && !held_needed(s, held))
                held = (struct array_range) { 0, 0 };
        rs = md_set_suspend(s->md, held.lo_array_sectors, held.hi_array_sectors);
        describe_kernel(s, state, sizeof(state));

        if (s->geo.relocates)
                snprintf(cont, sizeof(cont), "reshaped supervise %s", md_devnode(s->md));
        else
                snprintf(cont, sizeof(cont), "reshaped supervise %s --backup-file %s",
                         md_devnode(s->md), s->o->backup_path);
        if (rf < 0 || rs < 0)
                report_event(REPORT_MID_STOPPED, md_name(s->md),
                             "%s: %s. Stopping did not complete: %s%s (%s); %s. %s holds array sectors %" PRIu64 "-%" PRIu64
                             ". Check the array, then continue with: %s",
                             md_name(s->md), why, rf < 0 ? "the freeze failed" : "setting the suspend range failed",
                             rf < 0 && rs < 0 ? ", and so did setting the suspend range" : "",
                             strerror(-(rf < 0 ? rf : rs)), state, s->o->backup_path ? s->o->backup_path : "no backup",
                             held.lo_array_sectors, held.hi_array_sectors, cont);
        else if (s->plan.finished)
                report_event(REPORT_MID_STOPPED, md_name(s->md), "%s: %s; the reshape had finished, and no writes are suspended.",
                             md_name(s->md), why);
        else if (s->geo.relocates)
                report_event(REPORT_MID_STOPPED, md_name(s->md),
                             "%s: %s; %s. Nothing is at risk (raid10 writes its new layout at a new data offset) and no writes are suspended. Continue with: %s",
                             md_name(s->md), why, state, cont);
        else if (array_range_sectors(held) == 0)
                report_event(REPORT_MID_STOPPED, md_name(s->md),
                             "%s: %s. Stopped safely at %.1f%%: %s at its last checkpoint, nothing is at risk and no writes are suspended. Continue with: %s",
                             md_name(s->md), why,
                             100.0 * (double) s->plan.checkpoint / (double) s->geo.end_progress_sectors, state, cont);
        else
                report_event(REPORT_MID_STOPPED, md_name(s->md),
                             "%s: %s; %s. %s holds array sectors %" PRIu64 "-%" PRIu64
                             " beyond the kernel's checkpoint, and writes to them stay suspended so that it stays valid."
                             " Continue with: mdadm --stop %s, then reshaped restore %s (or mdadm --assemble --backup-file %s)",
                             md_name(s->md), why, state, s->o->backup_path, held.lo_array_sectors,
                             held.hi_array_sectors, md_devnode(s->md), md_devnode(s->md), s->o->backup_path);
}

static int setup_signals(struct sup *s)
{
        sigset_t mask;
        int r;

        r = cli_block_stop_signals(&mask);
        if (r < 0)
                return r;
        /* Blocked since the lock was taken (supervise-lock.h). */
        sigaddset(&mask, SUPERVISE_PAUSE_SIGNAL);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block the pause signal: %m");
        s->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (s->signal_fd < 0)
                return log_error_errno(errno, "Failed to create a signalfd: %m");
        return 0;
}

/*
 * A relocating reshape (raid10) is paced without a backup: no file, no
 * placement check, no window buffer; and with no writes ever suspended,
 * no memory to lock.
 */
static int prepare_paced(struct sup *s)
{
        int r;

        if (s->o->backup_path)
                log_notice("%s: a raid10 reshape writes its new layout at a new data offset and needs no backup; %s is not used.",
                           md_name(s->md), s->o->backup_path);
        r = setup_signals(s);
        if (r < 0)
                return r;
        /* Armed before anything changes, so no notification is missed. */
        r = md_sync_completed_fd(s->md);
        return r < 0 ? r : 0;
}

static uint64_t align_up_bytes(uint64_t bytes)
{
        return (bytes + BACKUP_ALIGN_BYTES - 1) / BACKUP_ALIGN_BYTES * BACKUP_ALIGN_BYTES;
}

/*
 * A slot (and each of the two window buffers) holds --max-window, or more
 * when the geometry needs more: the kernel can be held only at park
 * points, and the window between two of them must fit whole (a 14 -> 15
 * disk grow with 512 KiB chunks needs 84.5 MiB). Both buffers are locked
 * in memory, so they may take at most half of it. Two slots never need to
 * hold more than the reshape ever puts at risk (a small array, a grow's
 * first units); slot_min_bytes is what is left when space is short.
 */
static int size_slots(struct sup *s)
{
        uint64_t need = align_up_bytes(sectors_to_bytes(geometry_min_window_array_sectors(&s->geo)));
        uint64_t want = align_up_bytes(s->o->section_max_bytes);
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        uint64_t memory = pages > 0 && page > 0 ? (uint64_t) pages * (uint64_t) page : 0;
        char b1[32], b2[32], b3[32];

        reshape_shape_slots(&s->geo, s->o->section_max_bytes, SUPERVISOR_SECTION_MIN_BYTES,
                            &s->slot_bytes, &s->slot_min_bytes);
        if (memory && 2 * need > memory / 2)
                return log_error_errno(E2BIG, "%s: this reshape (%u -> %u data disks, chunk %u -> %u KiB) can be held only at steps of %s of the array, and needs two window buffers that size locked in memory, more than half of the %s this machine has; it cannot be supervised here.",
                                       md_name(s->md), s->geo.old_data_disks, s->geo.new_data_disks,
                                       s->mdg.chunk_bytes_old / 1024, s->mdg.chunk_bytes_new / 1024,
                                       report_bytes(need, b1, sizeof(b1)), report_bytes(memory, b2, sizeof(b2)));
        if (memory && 2 * s->slot_bytes > memory / 2)
                return log_error_errno(E2BIG, "--max-window %s: two window buffers that size would lock more than half of the %s of memory; pass --max-window %" PRIu64 "M or less.",
                                       report_bytes(want, b1, sizeof(b1)), report_bytes(memory, b2, sizeof(b2)),
                                       (memory / 4) >> 20);
        if (need > want)
                log_notice("%s: windows are %s, more than --max-window %s: this reshape (%u -> %u data disks, chunk %u -> %u KiB) can be held only at steps that size; %s of memory is locked for the two window buffers.",
                           md_name(s->md), report_bytes(need, b1, sizeof(b1)), report_bytes(want, b2, sizeof(b2)),
                           s->geo.old_data_disks, s->geo.new_data_disks,
                           s->mdg.chunk_bytes_old / 1024, s->mdg.chunk_bytes_new / 1024,
                           report_bytes(2 * need, b3, sizeof(b3)));
        return 0;
}

/* Judged before the array is touched, so a refusal leaves it as it was. A
 * file already there is replaced by a second one beside it (open_backup()),
 * so its blocks are not free for the new one. Where the windows do not fit,
 * smaller ones may. */
static int place_backup(struct sup *s)
{
        struct placement_verdict v;
        struct stat st;
        /* Placement counts a file's own blocks as room for it; these stay
         * taken until the new file replaces it. */
        uint64_t kept = stat(s->o->backup_path, &st) == 0 && S_ISREG(st.st_mode)
                                ? (uint64_t) st.st_blocks * 512 : 0;
        char b1[32], b2[32];
        int r;

        for (;;) {
                uint64_t need = backup_file_size_bytes(s->slot_bytes) + kept;

                r = placement_check(s->o->backup_path, md_name(s->md), need, &v);
                if (r != -ENOSPC || s->slot_bytes <= s->slot_min_bytes)
                        break;
                log_notice("%s: no room at %s for windows of %s; trying %s.", md_name(s->md),
                           s->o->backup_path, report_bytes(s->slot_bytes, b1, sizeof(b1)),
                           report_bytes(s->slot_min_bytes, b2, sizeof(b2)));
                s->slot_bytes = s->slot_min_bytes;
        }
        if (r < 0)
                return log_error_errno(r, "%s", v.message);
        return 0;
}

/* The reshape is over: nothing needs the backup any more. Removed as
 * mdadm's monitor removes it, with mdadm's record of it (a leftover makes
 * the next mdadm --grow fail) and ours. */
static void forget_backup(struct sup *s)
{
        char link[PATH_MAX], *target;
        struct backup_report rep = {};
        bool ours = s->bf != NULL;

        /* Not opened (the reshape ended before we could begin): a file
         * there is removed only when it is a backup of this array. */
        if (!ours && s->o->backup_path && access(s->o->backup_path, F_OK) == 0 &&
            backup_file_verify(s->o->backup_path, NULL, 0, &rep) == 0 && rep.header_read)
                ours = memcmp(rep.header.identity.uuid, s->id.uuid, 16) == 0;
        if (ours) {
                s->bf = backup_file_free(s->bf);
                if (unlink(s->o->backup_path) < 0 && errno != ENOENT)
                        log_warning_errno(errno, "%s: failed to remove the backup %s after the reshape: %m",
                                          md_name(s->md), s->o->backup_path);
        }
        target = record_mdadm_lookup(md_name(s->md));
        record_mdadm_link(md_name(s->md), link, sizeof(link));
        if (target && s->o->backup_path && strcmp(target, s->o->backup_path) == 0 && unlink(link) < 0)
                log_warning_errno(errno, "%s: failed to remove mdadm's record %s: %m", md_name(s->md), link);
        free(target);
        (void) record_remove(s->uuid, md_name(s->md));
}

/* Returns 1 if no reshape runs, or it ended before it could be taken over. */
static int prepare(struct sup *s, uint64_t *ckpt, bool *frozen)
{
        uint64_t pos;
        int r;

        /* mdadm's hand-off of a small reshape can start us after its end. */
        r = md_get_reshape_position(s->md, &pos);
        if (r < 0)
                return r;
        if (pos == MD_RESHAPE_POSITION_NONE) {
                uint64_t lo, hi;

                /* A supervisor stopped or killed with windows held leaves
                 * writes to them suspended; once the reshape is over
                 * nothing needs them, and they would hang for good. */
                r = md_get_suspend(s->md, &lo, &hi);
                if (r < 0)
                        return r;
                if (hi > lo) {
                        log_notice("%s: the reshape is over; letting go of the writes to array sectors %" PRIu64 "-%" PRIu64 " still suspended.",
                                   md_name(s->md), lo, hi);
                        r = md_set_suspend(s->md, 0, 0);
                        if (r < 0)
                                return r;
                }
                r = md_read_uuid_and_events(s->md, s->id.uuid, &s->id.events);
                if (r < 0)
                        return r;
                backup_uuid_format(s->id.uuid, s->uuid);
                return 1;
        }
        r = read_geometry(s);
        if (r < 0)
                return r;
        backup_uuid_format(s->id.uuid, s->uuid);
        report_identity(s->uuid, s->geo.relocates ? NULL : s->o->backup_path);
        r = md_get_degraded(s->md, &s->degraded);
        if (r < 0)
                return r;

        r = size_slots(s);
        if (r < 0)
                return r;
        if (s->geo.relocates) {
                r = prepare_paced(s);
                if (r < 0)
                        return r;
                return establish(s, ckpt, frozen);
        }
        if (!s->o->backup_path)
                return log_error_errno(EINVAL, "No backup file for %s: pass --backup-file FILE (mdadm's record /run/mdadm/backup_file-%s and reshaped's own record are both missing).",
                                       md_name(s->md), md_name(s->md));

        {
                struct stripe_layout old = {
                        .level = s->mdg.level,
                        .raid_disks = s->mdg.raid_disks_old,
                        .chunk_sectors = bytes_to_sectors(s->mdg.chunk_bytes_old),
                        .algorithm = s->mdg.layout_old,
                };

                r = member_set_open_md(s->md, &old, s->geo.array_sectors, &s->members);
                if (r < 0)
                        return r;
        }

        r = place_backup(s);
        if (r < 0)
                return r;

        for (unsigned b = 0; b < 2; b++) {
                if (posix_memalign(&s->bufs[b], BACKUP_ALIGN_BYTES, s->slot_bytes) != 0) {
                        s->bufs[b] = NULL;
                        return log_error_errno(ENOMEM, "Failed to allocate a %" PRIu64 "-byte window buffer.",
                                               s->slot_bytes);
                }
                /* Touch it so mlockall() pins real pages. */
                memset(s->bufs[b], 0, s->slot_bytes);
        }
        r = open_backup(s);
        if (r < 0)
                return r;
        r = record_save(s->uuid, md_name(s->md), s->o->backup_path);
        if (r < 0)
                return r;
        /* With writes suspended, a page fault that needs writeback to the
         * array would deadlock us. */
        if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
                return log_error_errno(errno, "Failed to lock memory (mlockall): %m");
        r = setup_signals(s);
        if (r < 0)
                return r;

        /* Armed before anything changes, so no notification is missed. */
        r = md_sync_completed_fd(s->md);
        if (r < 0)
                return r;
        r = establish(s, ckpt, frozen);
        if (r != 0)
                return r;
        return set_resume(s, *ckpt);
}

/*
 * reshaped pause / resume. The pause lives in the record (record.h), so a
 * supervisor started on a paused array (supervise, restore, recover, a
 * restart by systemd) holds it too. Paused, the planner drains: no new
 * windows, no raises; the kernel runs on to sync_max, the end of what is
 * backed up, and checkpoints there; then every window is behind the
 * checkpoint and let go, and nothing stays suspended: the kernel cannot
 * pass sync_max, and restore finds it held exactly at the checkpoint
 * (set_resume()). Writes anywhere would hang for the whole pause if a
 * window stayed suspended, so none does. A kernel already let go to the
 * end (sync_max=max, the last window) cannot be held without freezing;
 * it is left to finish, and the answer says so. The hold is confirmed in
 * RUN_DIR/MDNAME.held for `reshaped pause` to wait on.
 */
#define PAUSED_POLL_MS 5000

static double progress_percent(const struct sup *s, uint64_t progress)
{
        return 100.0 * (double) progress / (double) s->geo.end_progress_sectors;
}

/* Where the paused kernel is held, once it is. */
static bool pause_holding(const struct sup *s)
{
        const struct planner *p = &s->plan;

        if (!s->paused)
                return false;
        if (p->released)
                return true;
        return !p->frozen && !p->n_ahead && !holds_any(s) && array_range_sectors(p->suspended) == 0 &&
               p->completed >= p->sync_max && (p->checkpoint >= p->sync_max || s->geo.relocates);
}

static void pause_refresh(struct sup *s)
{
        uint64_t request = 0;
        bool was = s->paused;
        int r;

        s->pause_check = false;
        r = record_pause_get(s->uuid, &request);
        if (r < 0 && r != -ENOENT && r != -EBADMSG) {
                log_warning("%s: the pause record cannot be read; %s as before.", md_name(s->md),
                            s->paused ? "staying paused" : "going on");
                return;
        }
        s->paused = r != -ENOENT;
        if (s->paused && (!was || request != s->pause_request))
                s->pause_confirmed = false;
        s->pause_request = request;
        s->plan.draining = s->paused;
        if (s->paused && !was)
                log_notice("%s: pausing: no more windows; the kernel goes on to %.1f%% (sync_max, the end of what is backed up) and is held there until 'reshaped resume %s'.",
                           md_name(s->md), progress_percent(s, s->plan.sync_max), md_devnode(s->md));
        else if (!s->paused && was) {
                supervise_held_remove(md_name(s->md));
                s->pause_confirmed = false;
                /* The pause is not time the kernel waited for backups. */
                if (s->parked_since_ms)
                        s->parked_since_ms = now_ms();
                report_resumed(md_name(s->md), progress_percent(s, s->plan.completed));
        }
}

static void pause_confirm(struct sup *s)
{
        struct supervise_held h = {
                .request = s->pause_request,
                .pid = getpid(),
                .progress_sectors = s->plan.released ? s->plan.completed : s->plan.sync_max,
                .final_window = s->plan.released,
        };

        if (s->pause_confirmed || !pause_holding(s))
                return;
        /* Started paused, the kernel may never get a raise: held within
         * what is durable it is protected, and systemd, waiting for
         * READY=1, is to hear so. */
        if (!s->protecting)
                protection_established(s);
        h.position_array_sectors = geometry_progress_to_position(&s->geo, h.progress_sectors);
        if (h.final_window)
                log_notice("%s: cannot pause at %.1f%%: the kernel is in its last window, protected to the end with sync_max=max, and cannot be held without freezing; it finishes on its own.",
                           md_name(s->md), progress_percent(s, h.progress_sectors));
        else
                report_paused(md_name(s->md), progress_percent(s, h.progress_sectors), h.position_array_sectors);
        if (supervise_held_write(md_name(s->md), &h) == 0)
                s->pause_confirmed = true;
}

/* A pause asked for while actions run (a backup takes a while) takes
 * effect before the next one, not after the raise that follows it. */
static void pause_take_pending(struct sup *s)
{
        struct timespec zero = { 0, 0 };
        sigset_t pending, one;

        if (s->plan.draining || sigpending(&pending) < 0 || !sigismember(&pending, SUPERVISE_PAUSE_SIGNAL))
                return;
        sigemptyset(&one);
        sigaddset(&one, SUPERVISE_PAUSE_SIGNAL);
        if (sigtimedwait(&one, NULL, &zero) == SUPERVISE_PAUSE_SIGNAL)
                pause_refresh(s);
}

static uint64_t wait_timeout_ms(const struct sup *s)
{
        if (s->acted)
                return 0;
        /* Held, the kernel sends no news: only a look now and then. */
        if (pause_holding(s))
                return PAUSED_POLL_MS;
        return planner_wait_ms(&s->plan, now_ms());
}

static void cleanup(struct sup *s)
{
        /* The readers use the member set and the buffers. */
        for (unsigned i = 0; i < s->n_reads; i++)
                array_read_free(s->reads[i].rd);
        if (s->bf)
                s->bf = backup_file_free(s->bf);
        s->token = record_token_close(s->token);
        if (s->rename_from) {
                (void) unlink(s->rename_from);
                free(s->rename_from);
        }
        s->members = member_set_free(s->members);
        if (s->signal_fd >= 0)
                close(s->signal_fd);
        if (s->pause_confirmed)
                supervise_held_remove(md_name(s->md));
        free(s->bufs[0]);
        free(s->bufs[1]);
}

void supervisor_options_init(struct supervisor_options *o)
{
        *o = (struct supervisor_options) {
                .section_min_bytes = SUPERVISOR_SECTION_MIN_BYTES,
                .section_max_bytes = SUPERVISOR_SECTION_MAX_BYTES,
                .quiet = log_get_max_level() < LOG_INFO,
        };
}

int supervisor_options_max_window(struct supervisor_options *o, const char *arg)
{
        uint64_t bytes;

        if (cli_parse_size(arg, &bytes) < 0 || bytes < o->section_min_bytes)
                return log_error_errno(EINVAL, "--max-window: '%s' is not a size of at least %llu MiB (like 64M).",
                                       arg, (unsigned long long) (o->section_min_bytes >> 20));
        o->section_max_bytes = bytes;
        return 0;
}

int supervisor_run(struct md *md, const struct supervisor_options *o)
{
        struct sup s = { .md = md, .o = o, .signal_fd = -1 };
        uint64_t ckpt = 0, elapsed;
        bool frozen = false;
        char b1[32], b2[32];
        int r;

        report_init(o->quiet);
        r = prepare(&s, &ckpt, &frozen);
        if (r == 1) {
                report_notify_stopping("no reshape");
                forget_backup(&s);
                report_event(REPORT_MID_FINISHED, md_name(md),
                             "%s: no reshape is running (reshape_position reads none): it has ended, or never began; nothing to supervise.",
                             md_name(md));
                r = 0;
        }
        if (r < 0 && s.froze) {
                char state[160];

                describe_kernel(&s, state, sizeof(state));
                if (s.geo.relocates)
                        report_event(REPORT_MID_STOPPED, md_name(md),
                                     "%s: the take-over failed; %s, with nothing at risk. Continue with: reshaped supervise %s",
                                     md_name(md), state, md_devnode(md));
                else
                        report_event(REPORT_MID_STOPPED, md_name(md),
                                     "%s: the take-over failed; %s%s. Continue with: reshaped supervise %s --backup-file %s",
                                     md_name(md), state,
                                     s.guard.kind == PLAN_BACKUP ? ", its first unit backed up and suspended" : "",
                                     md_devnode(md), o->backup_path);
        }
        if (r != 0)
                goto out;

        s.t0_ms = s.last_obs_ms = now_ms();
        s.last_obs_completed = ckpt;
        planner_init(&s.plan, &s.geo, ckpt, ckpt, section_progress_for(&s, o->section_min_bytes),
                     s.t0_ms);
        r = planner_set_max_range(&s.plan, bytes_to_sectors(s.slot_bytes));
        if (r < 0) {
                /* size_slots() sized them for the geometry: a bug. */
                log_error_errno(r, "Internal error: %s: the %" PRIu64 "-byte window slots are smaller than the geometry needs.",
                                md_name(md), s.slot_bytes);
                stop_safely(&s, "stopping after an internal error");
                goto out;
        }
        if (s.guard.kind == PLAN_BACKUP)
                planner_adopt(&s.plan, &s.guard);
        s.plan.frozen = frozen;
        pause_refresh(&s);

        if (s.geo.relocates)
                report_event(REPORT_MID_STARTED, md_name(md),
                             "%s: pacing the reshape from %.1f%% (raid10, %u disks, chunk %u -> %u KiB) in windows up to %s: sync_max is raised one window at a time, at the kernel's halfway checkpoints, so its position is recorded as it goes and a stop holds it where it is. No backup file is needed: raid10 writes its new layout at a new data offset, never over data it still needs.",
                             md_name(md), 100.0 * (double) ckpt / (double) s.geo.end_progress_sectors,
                             s.mdg.raid_disks_new, s.mdg.chunk_bytes_old / 1024, s.mdg.chunk_bytes_new / 1024,
                             report_bytes(s.slot_bytes, b1, sizeof(b1)));
        else
                report_event(REPORT_MID_STARTED, md_name(md),
                             "%s: supervising the reshape from %.1f%% (%s, %u -> %u data disks, chunk %u -> %u KiB), backup %s, windows up to %s.",
                             md_name(md), 100.0 * (double) ckpt / (double) s.geo.end_progress_sectors,
                             md_level_to_string(s.mdg.level) ? md_level_to_string(s.mdg.level) : "raid",
                             s.geo.old_data_disks, s.geo.new_data_disks, s.mdg.chunk_bytes_old / 1024,
                             s.mdg.chunk_bytes_new / 1024, o->backup_path, report_bytes(s.slot_bytes, b1, sizeof(b1)));

        for (;;) {
                bool was_lockstep = s.plan.lockstep;

                r = run_actions(&s);
                if (r < 0)
                        break;
                if (r == 1) {
                        r = 0;
                        break;
                }
                progress(&s, false);
                pause_confirm(&s);
                /* A backup takes long enough for the kernel to move on or park:
                 * look again before sleeping. */
                r = wait_and_observe(&s, wait_timeout_ms(&s));
                s.acted = false;
                if (r < 0)
                        break;
                if (s.pause_check)
                        pause_refresh(&s);
                if (s.plan.lockstep && !was_lockstep && s.plan.pacing)
                        report_event(REPORT_MID_LOCKSTEP, md_name(md),
                                     "%s: no halfway checkpoint from the kernel for %" PRIu64 " s although it had work; falling back to lock-step pacing: sync_max stays two windows ahead of the kernel's own 10 s checkpoints (a raid10 without kernel/patches).",
                                     md_name(md), s.plan.contract_timeout_ms / 1000);
                else if (s.plan.lockstep && !was_lockstep)
                        report_event(REPORT_MID_LOCKSTEP, md_name(md),
                                     "%s: no halfway checkpoint from the kernel for %" PRIu64 " s although it had work; falling back to lock-step windows of about %d s (an old or unpatched kernel).",
                                     md_name(md), s.plan.contract_timeout_ms / 1000, LOCKSTEP_WINDOW_MS / 1000);
                adapt_section(&s);
        }

        if (r < 0) {
                char why[128];

                if (r == -EINTR && s.stop_signal)
                        snprintf(why, sizeof(why), "stopping on %s", strsignal(s.stop_signal));
                else if (s.frozen_by_other)
                        snprintf(why, sizeof(why), "stopping: someone else froze the reshape");
                else
                        snprintf(why, sizeof(why), "stopping after an error (%s)", strerror(-r));
                if (array_stopped(&s)) {
                        /* As stopped on request: held safely, not a failure. */
                        r = -EINTR;
                        goto out;
                }
                stop_safely(&s, why);
                goto out;
        }

        elapsed = now_ms() - s.t0_ms;
        progress(&s, true);
        report_notify_stopping("finished");
        forget_backup(&s);
        if (s.geo.relocates)
                report_event(REPORT_MID_FINISHED, md_name(md),
                             "%s: reshape finished in %.1f s, paced with %u sync_max raises; the kernel waited at the limit %.1f%% of the time.",
                             md_name(md), (double) elapsed / 1000.0, s.raises,
                             elapsed ? 100.0 * (double) s.stall_ms / (double) elapsed : 0.0);
        else
                report_event(REPORT_MID_FINISHED, md_name(md),
                             "%s: reshape finished in %.1f s; %s backed up in %.1f s, the kernel waited for backups %.1f%% of the time.",
                             md_name(md), (double) elapsed / 1000.0,
                             report_bytes(s.backed_up_bytes, b2, sizeof(b2)), (double) s.backup_ms / 1000.0,
                             elapsed ? 100.0 * (double) s.stall_ms / (double) elapsed : 0.0);
out:
        cleanup(&s);
        return r;
}
