// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The backup file of a supervised reshape and its windows: opening or
 * replacing the file, reading a window from the members (ahead, in the
 * background) and making it durable.
 */
#include "supervise/supervise-internal.h"

uint64_t sup_section_progress_for(const struct sup *s, uint64_t bytes)
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
int sup_open_backup(struct sup *s)
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
         * (see sup_set_resume()). */
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
        uint64_t usable, sync_max = planner_status(&s->plan).sync_max;
        int r;

        if (!buf)
                return log_error_errno(EBUSY, "Internal error: both window buffers are in use.");
        if (!array_range_inside(geometry_old_layout(&s->geo, sync_max), range))
                return log_error_errno(EINVAL, "Internal error: array sectors %" PRIu64 "-%" PRIu64
                                       " are not all in the old layout with sync_max at %" PRIu64 ".",
                                       range.lo_array_sectors, range.hi_array_sectors, sync_max);
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
void sup_sync_reads(struct sup *s)
{
        unsigned kept = 0;

        for (unsigned i = 0; i < s->n_reads; i++) {
                if (planner_keeps_read(&s->plan, s->reads[i].from_progress))
                        s->reads[kept++] = s->reads[i];
                else
                        array_read_free(s->reads[i].rd);
        }
        s->n_reads = kept;
}

int sup_read_ahead(struct sup *s, const struct plan_action *a)
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
                uint64_t n = hi - at < piece ? hi - at : piece, t = sup_now_ms();
                const char *data = buf + sectors_to_bytes(at - rr.lo_array_sectors);

                /* The reads and writes of a window outlast a watchdog
                 * quarter on slow disks; each piece is progress. */
                report_watchdog(t);
                r = array_read_wait(rd, at, at + n);
                wait_ms += sup_now_ms() - t;
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
int sup_set_resume(struct sup *s, uint64_t checkpoint_progress)
{
        if (s->geo.backwards)
                return 0;
        return backup_file_set_resume(s->bf, geometry_progress_to_position(&s->geo, checkpoint_progress));
}

/* @release_other: the commit also empties the other slot (the planner
 * forgets it as soon as this one is durable), saving a header write and
 * sync per window. */
int sup_do_backup(struct sup *s, const struct plan_action *a, bool release_other)
{
        uint64_t len = array_range_sectors(a->range);
        uint64_t bytes = sectors_to_bytes(len);
        uint64_t t = sup_now_ms(), read_wait_ms = 0, t_data, t_token_us, token_us;
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
        t_data = sup_now_ms();
        if (release_other) {
                r = sup_set_resume(s, planner_status(&s->plan).checkpoint);
                if (r < 0)
                        return r;
        }
        r = backup_file_commit(s->bf, a->slot, a->range.lo_array_sectors, len, crc, release_other);
        if (r < 0)
                return backup_failed(s, r);
        /* Before sync_max may pass the window: from now on a copy of the
         * backup older than this header is stale, and restore knows it. */
        t_token_us = sup_now_us();
        r = record_token_write(s->token, backup_file_header(s->bf)->generation);
        if (r < 0)
                return r;
        token_us = sup_now_us() - t_token_us;
        s->backed_up_bytes += bytes;
        s->backup_ms += sup_now_ms() - t;
        log_debug("%s: backed up array sectors %" PRIu64 "-%" PRIu64 " into slot %u in %" PRIu64
                  " ms (%s; the writes waited %" PRIu64 " ms for reads, the commit took %" PRIu64
                  " ms, of which the generation token %.2f ms).",
                  md_name(s->md), a->range.lo_array_sectors, a->range.hi_array_sectors, a->slot,
                  sup_now_ms() - t, ahead ? "read ahead" : "read now", read_wait_ms, sup_now_ms() - t_data,
                  (double) token_us / 1000.0);
        return 0;
}
