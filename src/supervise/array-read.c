// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "reshaped/supervise/array-read.h"
#include "reshaped/util/log.h"
#include "reshaped/members/member-read.h"

/* 4 MiB pieces, four in flight: with one read at a time the backup writes
 * waited a third of each window for reads on the 8 MiB/s bench. */
#define PIECE_BYTES        ((uint64_t) 4 << 20)
#define READERS            4
/* mlockall() pins every thread's whole stack: a reader needs little. */
#define READER_STACK_BYTES (256 * 1024)

struct array_read {
        const struct member_set *ms;
        uint64_t usable;           /* slots to read from (member_set_refresh) */
        char *buf;
        struct array_range range;
        uint64_t bytes, pieces;
        pthread_t readers[READERS];
        unsigned started;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        uint64_t next;            /* the next piece a reader takes */
        bool *done;               /* per piece: read */
        uint64_t failed_piece;
        int error;                /* negative errno of the first failed read */
        bool stop;
};

static uint64_t piece_bytes(const struct array_read *rd, uint64_t piece)
{
        uint64_t off = piece * PIECE_BYTES;

        return rd->bytes - off < PIECE_BYTES ? rd->bytes - off : PIECE_BYTES;
}

static int read_piece(struct array_read *rd, uint64_t piece, struct member_scratch *sc)
{
        uint64_t off = piece * PIECE_BYTES;
        uint64_t lo = rd->range.lo_array_sectors + bytes_to_sectors(off);

        return member_set_read(rd->ms, rd->usable, rd->range, lo,
                               lo + bytes_to_sectors(piece_bytes(rd, piece)), rd->buf + off, sc);
}

static void *reader(void *userdata)
{
        struct array_read *rd = userdata;
        struct member_scratch *sc = NULL;
        int r;

        r = member_scratch_new(rd->ms, &sc);
        if (r < 0) {
                pthread_mutex_lock(&rd->lock);
                if (!rd->error)
                        rd->error = r;
                pthread_cond_broadcast(&rd->cond);
                pthread_mutex_unlock(&rd->lock);
                return NULL;
        }
        for (;;) {
                uint64_t piece;

                pthread_mutex_lock(&rd->lock);
                if (rd->stop || rd->error || rd->next >= rd->pieces) {
                        pthread_mutex_unlock(&rd->lock);
                        member_scratch_free(sc);
                        return NULL;
                }
                piece = rd->next++;
                pthread_mutex_unlock(&rd->lock);

                r = read_piece(rd, piece, sc);

                pthread_mutex_lock(&rd->lock);
                if (r < 0 && !rd->error) {
                        rd->error = r;
                        rd->failed_piece = piece;
                }
                if (r == 0)
                        rd->done[piece] = true;
                pthread_cond_broadcast(&rd->cond);
                pthread_mutex_unlock(&rd->lock);
        }
}

int array_read_start(const struct member_set *ms, uint64_t usable, void *buf, uint64_t buf_bytes,
                     struct array_range range, struct array_read **ret)
{
        struct array_read *rd;
        pthread_attr_t attr;
        int r;

        if (sectors_to_bytes(array_range_sectors(range)) > buf_bytes)
                return log_error_errno(E2BIG, "Internal error: a read of array sectors %" PRIu64 "-%" PRIu64
                                       " does not fit its %" PRIu64 "-byte buffer.",
                                       range.lo_array_sectors, range.hi_array_sectors, buf_bytes);
        rd = calloc(1, sizeof(*rd));
        if (!rd)
                return log_error_errno(ENOMEM, "Out of memory.");
        *rd = (struct array_read) {
                .ms = ms,
                .usable = usable,
                .buf = buf,
                .range = range,
                .bytes = sectors_to_bytes(array_range_sectors(range)),
                .lock = PTHREAD_MUTEX_INITIALIZER,
                .cond = PTHREAD_COND_INITIALIZER,
        };
        rd->pieces = (rd->bytes + PIECE_BYTES - 1) / PIECE_BYTES;
        rd->done = calloc(rd->pieces ? rd->pieces : 1, sizeof(bool));
        if (!rd->done) {
                free(rd);
                return log_error_errno(ENOMEM, "Out of memory.");
        }
        r = -pthread_attr_init(&attr);
        if (r < 0) {
                array_read_free(rd);
                return log_error_errno(r, "Failed to set up the reader threads: %m");
        }
        r = -pthread_attr_setstacksize(&attr, READER_STACK_BYTES);
        while (r == 0 && rd->started < READERS && rd->started < rd->pieces) {
                r = -pthread_create(&rd->readers[rd->started], &attr, reader, rd);
                if (r == 0)
                        rd->started++;
        }
        pthread_attr_destroy(&attr);
        if (r < 0) {
                array_read_free(rd);
                return log_error_errno(r, "Failed to start a reader thread: %m");
        }
        *ret = rd;
        return 0;
}

int array_read_wait(struct array_read *rd, uint64_t lo_array_sectors, uint64_t hi_array_sectors)
{
        uint64_t first, last, failed = 0;
        int r = 0;

        if (hi_array_sectors <= lo_array_sectors)
                return 0;
        if (lo_array_sectors < rd->range.lo_array_sectors || hi_array_sectors > rd->range.hi_array_sectors)
                return log_error_errno(EINVAL, "Internal error: array sectors %" PRIu64 "-%" PRIu64
                                       " are outside the read of %" PRIu64 "-%" PRIu64 ".",
                                       lo_array_sectors, hi_array_sectors,
                                       rd->range.lo_array_sectors, rd->range.hi_array_sectors);
        first = sectors_to_bytes(lo_array_sectors - rd->range.lo_array_sectors) / PIECE_BYTES;
        last = (sectors_to_bytes(hi_array_sectors - rd->range.lo_array_sectors) - 1) / PIECE_BYTES;

        pthread_mutex_lock(&rd->lock);
        for (uint64_t piece = first; piece <= last && r == 0; piece++) {
                while (!rd->done[piece] && !rd->error)
                        pthread_cond_wait(&rd->cond, &rd->lock);
                if (!rd->done[piece]) {
                        r = rd->error;
                        failed = rd->failed_piece;
                }
        }
        pthread_mutex_unlock(&rd->lock);
        if (r < 0)
                return log_error_errno(r, "Failed to read the array at byte %" PRIu64 " from its members: %m",
                                       sectors_to_bytes(rd->range.lo_array_sectors) + failed * PIECE_BYTES);
        return 0;
}

struct array_range array_read_range(const struct array_read *rd)
{
        return rd->range;
}

void *array_read_buffer(const struct array_read *rd)
{
        return rd->buf;
}

struct array_read *array_read_free(struct array_read *rd)
{
        if (!rd)
                return NULL;
        pthread_mutex_lock(&rd->lock);
        rd->stop = true;
        pthread_mutex_unlock(&rd->lock);
        for (unsigned i = 0; i < rd->started; i++)
                pthread_join(rd->readers[i], NULL);
        free(rd->done);
        free(rd);
        return NULL;
}
