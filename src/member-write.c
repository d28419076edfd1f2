// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reshaped/geometry.h"
#include "reshaped/log.h"
#include "reshaped/member-write.h"
#include "reshaped/parity.h"

struct member_writer {
        struct stripe_layout layout;
        unsigned n;
        int fd[STRIPE_MAX_DISKS];
        char *path[STRIPE_MAX_DISKS];
        uint64_t data_offset_dev_sectors[STRIPE_MAX_DISKS];
        void *parity[2];
        void *zero;
};

struct member_writer *member_writer_free(struct member_writer *w)
{
        if (!w)
                return NULL;
        for (unsigned i = 0; i < w->n; i++) {
                if (w->fd[i] >= 0)
                        close(w->fd[i]);
                free(w->path[i]);
        }
        free(w->parity[0]);
        free(w->parity[1]);
        free(w->zero);
        free(w);
        return NULL;
}

/* Block devices around the page cache; image files (tests) as they are. */
static int open_member(const char *path, int *ret_fd)
{
        struct stat st;
        int fd;

        if (stat(path, &st) < 0)
                return log_error_errno(errno, "Failed to stat member %s: %m", path);
        fd = open(path, O_WRONLY | O_CLOEXEC | (S_ISBLK(st.st_mode) ? O_DIRECT : 0));
        if (fd < 0)
                return log_error_errno(errno, "Failed to open member %s for writing: %m", path);
        *ret_fd = fd;
        return 0;
}

int member_writer_open(const struct stripe_layout *layout, const struct member_source *src,
                       struct member_writer **ret)
{
        size_t chunk_bytes = sectors_to_bytes(layout->chunk_sectors);
        struct member_writer *w;
        const char *why = NULL;
        int r;

        r = stripe_layout_check(layout, &why);
        if (r < 0)
                return log_error_errno(r, "Cannot write this layout: %s.", why);
        w = calloc(1, sizeof(*w));
        if (!w)
                return log_error_errno(ENOMEM, "Out of memory.");
        w->layout = *layout;
        for (unsigned i = 0; i < layout->raid_disks; i++)
                w->fd[i] = -1;
        w->n = layout->raid_disks;
        if (posix_memalign(&w->parity[0], 4096, chunk_bytes) != 0 ||
            posix_memalign(&w->parity[1], 4096, chunk_bytes) != 0 ||
            posix_memalign(&w->zero, 4096, chunk_bytes) != 0) {
                member_writer_free(w);
                return log_error_errno(ENOMEM, "Out of memory for a %zu-byte chunk.", chunk_bytes);
        }
        memset(w->zero, 0, chunk_bytes);
        for (unsigned i = 0; i < w->n; i++) {
                if (!src[i].path) {
                        member_writer_free(w);
                        return log_error_errno(ENODEV, "Slot %u of the array has no member: writing its new layout needs every member.", i);
                }
                w->path[i] = strdup(src[i].path);
                if (!w->path[i]) {
                        member_writer_free(w);
                        return log_error_errno(ENOMEM, "Out of memory.");
                }
                w->data_offset_dev_sectors[i] = src[i].data_offset_dev_sectors;
                r = open_member(src[i].path, &w->fd[i]);
                if (r < 0) {
                        member_writer_free(w);
                        return r;
                }
        }
        *ret = w;
        return 0;
}

static int write_chunk(const struct member_writer *w, unsigned slot, uint64_t stripe, const void *buf)
{
        size_t len = sectors_to_bytes(w->layout.chunk_sectors);
        uint64_t off = sectors_to_bytes(w->data_offset_dev_sectors[slot] + stripe * w->layout.chunk_sectors);
        ssize_t n = pwrite(w->fd[slot], buf, len, (off_t) off);

        if (n < 0)
                return log_error_errno(errno, "Failed to write %zu bytes at byte %" PRIu64 " of member %s: %m",
                                       len, off, w->path[slot]);
        if ((size_t) n != len)
                return log_error_errno(EIO, "Short write to member %s at byte %" PRIu64 ": %zd of %zu bytes.",
                                       w->path[slot], off, n, len);
        return 0;
}

int member_writer_put(struct member_writer *w, uint64_t first_stripe, uint64_t n_stripes,
                      void *data)
{
        size_t chunk_bytes = sectors_to_bytes(w->layout.chunk_sectors);
        unsigned data_disks = stripe_layout_data_disks(&w->layout);

        for (uint64_t s = 0; s < n_stripes; s++) {
                char *stripe_data = (char *) data + s * data_disks * chunk_bytes;
                void *blocks[STRIPE_MAX_DISKS];
                struct stripe_row row;
                int r;

                stripe_layout_row(&w->layout, first_stripe + s, &row);
                for (unsigned k = 0; k < row.data_disks; k++)
                        blocks[row.data_disk[k]] = stripe_data + k * chunk_bytes;
                blocks[row.p_disk] = w->parity[0];
                if (row.q_disk >= 0)
                        blocks[row.q_disk] = w->parity[1];
                parity_compute(&row, blocks, chunk_bytes, w->zero);
                for (unsigned i = 0; i < w->n; i++) {
                        r = write_chunk(w, i, first_stripe + s, blocks[i]);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int member_writer_sync(struct member_writer *w)
{
        for (unsigned i = 0; i < w->n; i++)
                if (fsync(w->fd[i]) < 0)
                        return log_error_errno(errno, "Failed to flush member %s: %m", w->path[i]);
        return 0;
}
