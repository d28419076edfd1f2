// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "reshaped/util/log.h"
#include "reshaped/md/md.h"
#include "reshaped/members/member-read.h"
#include "reshaped/members/parity.h"

/* Rebuilds go in slices of this many bytes per member, so the scratch
 * stays small however large the chunk. */
#define SLICE_BYTES   ((size_t) 128 << 10)
/* iovecs gathered into one read of a member. */
#define BATCH_IOVECS  64

struct member {
        char *path;
        int fd;                    /* -1: missing */
        uint64_t data_offset_dev_sectors;
};

struct member_set {
        struct stripe_layout layout;
        uint64_t array_sectors;
        unsigned n;
        struct member m[STRIPE_MAX_DISKS];
        uint64_t opened;           /* slots with a descriptor */
};

/* Consecutive dev sectors of one member, scattered into the buffer. */
struct batch {
        uint64_t dev_lo, dev_hi;
        int n;
        struct iovec iov[BATCH_IOVECS];
};

struct member_scratch {
        struct batch batch[STRIPE_MAX_DISKS];
        void *block[STRIPE_MAX_DISKS];
        void *zero;
        void *tmp[3];
        void *mem;
};

static unsigned redundancy(const struct member_set *ms)
{
        return ms->layout.level == 6 ? 2 : 1;
}

static unsigned count_bits(uint64_t v)
{
        return (unsigned) __builtin_popcountll(v);
}

static uint64_t all_slots(const struct member_set *ms)
{
        return ms->n >= 64 ? UINT64_MAX : (UINT64_C(1) << ms->n) - 1;
}

int member_set_open(const struct stripe_layout *layout, const struct member_source *src,
                    unsigned n, uint64_t array_sectors, struct member_set **ret)
{
        struct member_set *ms;
        const char *why = NULL;
        int r;

        if (stripe_layout_check(layout, &why) < 0)
                return log_error_errno(EINVAL, "Cannot read the members in the old layout: %s.", why);
        if (n != layout->raid_disks)
                return log_error_errno(EINVAL, "Internal error: %u member sources for %u slots.", n,
                                       layout->raid_disks);
        ms = calloc(1, sizeof(*ms));
        if (!ms)
                return log_error_errno(ENOMEM, "Out of memory.");
        ms->layout = *layout;
        ms->array_sectors = array_sectors;
        ms->n = n;
        for (unsigned i = 0; i < n; i++) {
                ms->m[i].fd = -1;
                ms->m[i].data_offset_dev_sectors = src[i].data_offset_dev_sectors;
                if (!src[i].path)
                        continue;
                ms->m[i].path = strdup(src[i].path);
                if (!ms->m[i].path) {
                        member_set_free(ms);
                        return log_error_errno(ENOMEM, "Out of memory.");
                }
                ms->m[i].fd = open(src[i].path, O_RDONLY | O_DIRECT | O_CLOEXEC);
                if (ms->m[i].fd < 0) {
                        r = log_error_errno(errno, "Failed to open member %s (slot %u) to read the old layout from: %m",
                                            src[i].path, i);
                        member_set_free(ms);
                        return r;
                }
                ms->opened |= UINT64_C(1) << i;
        }
        if (count_bits(all_slots(ms) & ~ms->opened) > redundancy(ms)) {
                member_set_free(ms);
                return log_error_errno(EIO, "Only %u of %u members are present: more are missing than the parity can rebuild.",
                                       count_bits(ms->opened), n);
        }
        *ret = ms;
        return 0;
}

static bool usable_member(const struct md_member *m)
{
        return (m->state & MD_MEMBER_IN_SYNC) && !(m->state & MD_MEMBER_FAULTY);
}

int member_set_open_md(struct md *md, const struct stripe_layout *layout, uint64_t array_sectors,
                       struct member_set **ret)
{
        struct member_source src[STRIPE_MAX_DISKS] = {};
        struct md_member *m = NULL;
        size_t n = 0;
        int r;

        if (layout->raid_disks > STRIPE_MAX_DISKS)
                return log_error_errno(EOPNOTSUPP, "%s has %u members; reshaped reads at most %d.",
                                       md_name(md), layout->raid_disks, STRIPE_MAX_DISKS);
        r = md_get_members(md, &m, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (m[i].slot == MD_SLOT_JOURNAL || (m[i].state & MD_MEMBER_JOURNAL)) {
                        r = log_error_errno(EOPNOTSUPP, "%s has a journal (%s): data may sit in it that the members do not hold yet, so reshaped cannot back up from them.",
                                            md_name(md), m[i].name);
                        goto out;
                }
                if (m[i].slot < 0 || (unsigned) m[i].slot >= layout->raid_disks || !usable_member(&m[i]))
                        continue;
                src[m[i].slot] = (struct member_source) {
                        .path = m[i].devnode,
                        .data_offset_dev_sectors = m[i].data_offset_dev_sectors,
                };
        }
        r = member_set_open(layout, src, layout->raid_disks, array_sectors, ret);
out:
        md_members_free(m, n);
        return r;
}

int member_set_refresh(struct member_set *ms, struct md *md, uint64_t *ret_usable)
{
        struct md_member *m = NULL;
        uint64_t usable = 0;
        size_t n = 0;
        int r;

        if (!md) {
                *ret_usable = ms->opened;
                return 0;
        }
        r = md_get_members(md, &m, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (m[i].slot >= 0 && (unsigned) m[i].slot < ms->n && usable_member(&m[i]) &&
                    ms->m[m[i].slot].path && strcmp(ms->m[m[i].slot].path, m[i].devnode) == 0)
                        usable |= UINT64_C(1) << m[i].slot;
        md_members_free(m, n);
        usable &= ms->opened;
        if (count_bits(all_slots(ms) & ~usable) > redundancy(ms))
                return log_error_errno(EIO, "%s: only %u of %u members are in sync; the array has lost more than its parity can rebuild.",
                                       md_name(md), count_bits(usable), ms->n);
        *ret_usable = usable;
        return 0;
}

struct member_set *member_set_free(struct member_set *ms)
{
        if (!ms)
                return NULL;
        for (unsigned i = 0; i < ms->n; i++) {
                if (ms->m[i].fd >= 0)
                        close(ms->m[i].fd);
                free(ms->m[i].path);
        }
        free(ms);
        return NULL;
}

int member_scratch_new(const struct member_set *ms, struct member_scratch **ret)
{
        struct member_scratch *sc;
        size_t blocks = ms->n + 4;
        char *mem;

        sc = calloc(1, sizeof(*sc));
        if (!sc)
                return log_error_errno(ENOMEM, "Out of memory.");
        if (posix_memalign(&sc->mem, 4096, blocks * SLICE_BYTES) != 0) {
                free(sc);
                return log_error_errno(ENOMEM, "Out of memory for the rebuild buffers.");
        }
        mem = sc->mem;
        for (unsigned i = 0; i < ms->n; i++)
                sc->block[i] = mem + i * SLICE_BYTES;
        sc->zero = mem + ms->n * SLICE_BYTES;
        memset(sc->zero, 0, SLICE_BYTES);
        for (unsigned t = 0; t < 3; t++)
                sc->tmp[t] = mem + (ms->n + 1 + t) * SLICE_BYTES;
        *ret = sc;
        return 0;
}

struct member_scratch *member_scratch_free(struct member_scratch *sc)
{
        if (!sc)
                return NULL;
        free(sc->mem);
        free(sc);
        return NULL;
}

/* The whole of @iov (@n entries, @bytes in all) from @fd at @off. */
static int read_fully(int fd, struct iovec *iov, int n, uint64_t bytes, uint64_t off)
{
        uint64_t got = 0;

        while (got < bytes) {
                ssize_t k;

                k = preadv(fd, iov, n, (off_t) (off + got));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -EIO;
                got += (uint64_t) k;
                /* A short read (rare on block devices): skip what came in. */
                while (n > 0 && (uint64_t) k >= iov->iov_len) {
                        k -= (ssize_t) iov->iov_len;
                        iov++;
                        n--;
                }
                if (n > 0 && k > 0) {
                        iov->iov_base = (char *) iov->iov_base + k;
                        iov->iov_len -= (size_t) k;
                }
        }
        return 0;
}

static int read_member(const struct member_set *ms, unsigned slot, uint64_t dev_sector,
                       struct iovec *iov, int n, uint64_t bytes)
{
        const struct member *m = &ms->m[slot];
        int r;

        r = read_fully(m->fd, iov, n, bytes,
                       sectors_to_bytes(m->data_offset_dev_sectors + dev_sector));
        if (r < 0)
                log_warning("Failed to read member %s (slot %u) at dev sector %" PRIu64 ": %s; rebuilding its chunks from parity.",
                            m->path, slot, dev_sector, strerror(-r));
        return r;
}

static int flush_batch(const struct member_set *ms, struct member_scratch *sc, unsigned slot,
                       int *failed)
{
        struct batch *b = &sc->batch[slot];
        int r;

        if (!b->n)
                return 0;
        r = read_member(ms, slot, b->dev_lo, b->iov, b->n, sectors_to_bytes(b->dev_hi - b->dev_lo));
        b->n = 0;
        if (r < 0)
                *failed = (int) slot;
        return r;
}

static int add_to_batch(const struct member_set *ms, struct member_scratch *sc, unsigned slot,
                        uint64_t dev_sector, uint64_t sectors, void *dest, int *failed)
{
        struct batch *b = &sc->batch[slot];
        int r;

        if (b->n && (b->dev_hi != dev_sector || b->n == BATCH_IOVECS)) {
                r = flush_batch(ms, sc, slot, failed);
                if (r < 0)
                        return r;
        }
        if (!b->n)
                b->dev_lo = b->dev_hi = dev_sector;
        b->iov[b->n++] = (struct iovec) { .iov_base = dest, .iov_len = sectors_to_bytes(sectors) };
        b->dev_hi += sectors;
        return 0;
}

/* Rebuilds chunk rows [@dev, @dev + @sectors) of the data slot @slot of
 * @stripe into @dest. A member whose read fails is named in *@failed. */
static int rebuild(const struct member_set *ms, uint64_t usable, struct array_range window,
                   uint64_t stripe, const struct stripe_row *row, unsigned slot, uint64_t dev,
                   uint64_t sectors, char *dest, struct member_scratch *sc, int *failed)
{
        uint64_t ss = stripe_layout_stripe_sectors(&ms->layout);
        uint64_t s_lo = stripe * ss, s_hi = s_lo + ss;
        uint64_t missing = all_slots(ms) & ~usable;

        if (s_hi > ms->array_sectors)
                s_hi = ms->array_sectors;
        if (s_lo < window.lo_array_sectors || s_hi > window.hi_array_sectors)
                return log_error_errno(EINVAL, "Internal error: rebuilding stripe %" PRIu64 " (array sectors %" PRIu64 "-%" PRIu64
                                       ") needs chunks outside the suspended window %" PRIu64 "-%" PRIu64 ".",
                                       stripe, s_lo, s_hi, window.lo_array_sectors, window.hi_array_sectors);
        for (uint64_t done = 0; done < sectors;) {
                uint64_t n = sectors - done;
                size_t len;
                int r;

                if (sectors_to_bytes(n) > SLICE_BYTES)
                        n = bytes_to_sectors(SLICE_BYTES);
                len = (size_t) sectors_to_bytes(n);
                for (unsigned i = 0; i < ms->n; i++) {
                        struct iovec iov = { .iov_base = sc->block[i], .iov_len = len };

                        if (!((usable >> i) & 1))
                                continue;
                        r = read_member(ms, i, dev + done, &iov, 1, len);
                        if (r < 0) {
                                *failed = (int) i;
                                return r;
                        }
                }
                r = parity_rebuild(row, missing, sc->block, len, sc->zero, sc->tmp);
                if (r < 0)
                        return log_error_errno(EIO, "Cannot rebuild stripe %" PRIu64 ": more members are missing than the parity covers.",
                                               stripe);
                memcpy(dest + sectors_to_bytes(done), sc->block[slot], len);
                done += n;
        }
        return 0;
}

static int read_with(const struct member_set *ms, uint64_t usable, struct array_range window,
                     uint64_t lo, uint64_t hi, char *buf, struct member_scratch *sc, int *failed)
{
        const struct stripe_layout *l = &ms->layout;
        uint64_t ss = stripe_layout_stripe_sectors(l);
        uint64_t row_stripe = UINT64_MAX;
        struct stripe_row row;
        int r = 0;

        for (unsigned i = 0; i < ms->n; i++)
                sc->batch[i].n = 0;
        for (uint64_t at = lo; at < hi && r == 0;) {
                uint64_t stripe = at / ss, in = at % ss;
                uint64_t k = in / l->chunk_sectors, c = in % l->chunk_sectors;
                uint64_t n = l->chunk_sectors - c;
                uint64_t dev = stripe * l->chunk_sectors + c;
                unsigned slot;

                if (n > hi - at)
                        n = hi - at;
                if (stripe != row_stripe) {
                        stripe_layout_row(l, stripe, &row);
                        row_stripe = stripe;
                }
                slot = (unsigned) row.data_disk[k];
                if ((usable >> slot) & 1)
                        r = add_to_batch(ms, sc, slot, dev, n, buf + sectors_to_bytes(at - lo),
                                         failed);
                else
                        r = rebuild(ms, usable, window, stripe, &row, slot, dev, n,
                                    buf + sectors_to_bytes(at - lo), sc, failed);
                at += n;
        }
        for (unsigned i = 0; i < ms->n && r == 0; i++)
                r = flush_batch(ms, sc, i, failed);
        return r;
}

int member_set_read(const struct member_set *ms, uint64_t usable, struct array_range window,
                    uint64_t lo, uint64_t hi, void *buf, struct member_scratch *sc)
{
        for (;;) {
                int failed = -1;
                int r = read_with(ms, usable, window, lo, hi, buf, sc, &failed);

                if (r >= 0 || failed < 0)
                        return r;
                /* A member failed a read: take it as missing and read again. */
                usable &= ~(UINT64_C(1) << failed);
                if (count_bits(all_slots(ms) & ~usable) > redundancy(ms))
                        return log_error_errno(EIO, "Failed to read array sectors %" PRIu64 "-%" PRIu64
                                               " from the members: %s failed too, and more members are missing than the parity can rebuild.",
                                               lo, hi, ms->m[failed].path);
        }
}
