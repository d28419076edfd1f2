// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * reshaped restore once the array is assembled read-only: the reshape
 * held at its on-disk checkpoint, the array made writable and the part of
 * the backup beyond the checkpoint written back through it (md maps it to
 * the old layout there), then the backup emptied.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reshaped/util/fs-util.h"
#include "reshaped/util/log.h"
#include "reshaped/md/md.h"
#include "restore/restore-internal.h"

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
static int write_back(struct restore_ctx *c, struct md *md)
{
        uint64_t pos = c->freshest->reshape_position_array_sectors;
        struct backup_file *bf = NULL;
        int fd = -1, r;

        r = backup_file_open(c->backup_path, &bf);
        if (r < 0)
                return r;
        if (c->plan.n_ranges > 0) {
                fd = open(md_devnode(md), O_WRONLY | O_DIRECT | O_CLOEXEC);
                if (fd < 0) {
                        r = log_error_errno(errno, "Failed to open %s for writing: %m", md_devnode(md));
                        goto out;
                }
        }
        for (unsigned i = 0; i < c->plan.n_ranges && r >= 0; i++)
                r = write_back_range(c, bf, fd, &c->plan.ranges[i]);
        if (r >= 0 && fd >= 0 && fsync(fd) < 0)
                r = log_error_errno(errno, "Failed to flush %s: %m", md_devnode(md));
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

int restore_write_back(struct restore_ctx *c, struct md **ret)
{
        struct md *md = NULL;
        int r;

        r = hold_and_open(c, &md);
        if (r < 0)
                return r;
        r = write_back(c, md);
        if (r < 0) {
                md_close(md);
                log_error("%s: the reshape stays frozen at its checkpoint; after fixing the cause, stop the array (mdadm --stop %s) and run reshaped restore again.",
                          c->md_name, c->devnode);
                return r;
        }
        *ret = md;
        return 0;
}
