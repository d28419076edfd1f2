// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The background reader against a regular file standing in for the array:
 * the file is the data member of a two-disk raid4 (whose one data chunk
 * per stripe is the array's content in order), or, with that member
 * missing, its parity, from which every chunk is rebuilt. What it brings
 * in is the file's content at the range asked for, parts can be taken as
 * they arrive, a read past the end fails the waits, and freeing it
 * mid-read stops the readers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "reshaped/array-read.h"
#include "reshaped/member-read.h"

#define FILE_BYTES (20u << 20)   /* five 4 MiB pieces */

struct fixture {
        char path[64];
        int fd;
        uint8_t *content;
        void *buf;
        struct member_set *ms;
        uint64_t usable;
};

/* The file as raid4's data member (slot 0) or as its parity (slot 1). */
static void open_members(struct fixture *f, unsigned file_slot)
{
        struct stripe_layout l = { .level = 4, .raid_disks = 2, .chunk_sectors = 128 };
        struct member_source src[2] = {};

        src[file_slot].path = f->path;
        assert_int_equal(member_set_open(&l, src, 2, UINT64_MAX / 2, &f->ms), 0);
        assert_int_equal(member_set_refresh(f->ms, NULL, &f->usable), 0);
        assert_int_equal(f->usable, 1u << file_slot);
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        snprintf(f->path, sizeof(f->path), "/tmp/test-array-read.XXXXXX");
        f->fd = mkstemp(f->path);
        assert_true(f->fd >= 0);
        f->content = malloc(FILE_BYTES);
        assert_non_null(f->content);
        for (size_t i = 0; i < FILE_BYTES; i++)
                f->content[i] = (uint8_t) (i * 2654435761u >> 13);
        assert_int_equal(pwrite(f->fd, f->content, FILE_BYTES, 0), FILE_BYTES);
        assert_int_equal(posix_memalign(&f->buf, 4096, FILE_BYTES), 0);
        open_members(f, 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        member_set_free(f->ms);
        close(f->fd);
        unlink(f->path);
        free(f->content);
        free(f->buf);
        free(f);
        return 0;
}

static void reads_the_range(struct fixture *f)
{
        /* array sectors 2048..38912: 1 MiB in, 18 MiB long, pieces not
         * aligned to the file */
        struct array_range r = { 2048, 2048 + 36864 };
        struct array_read *rd;

        /* a buffer one sector short is refused */
        assert_int_equal(array_read_start(f->ms, f->usable, f->buf, 36864 * 512 - 512, r, &rd), -E2BIG);
        assert_int_equal(array_read_start(f->ms, f->usable, f->buf, FILE_BYTES, r, &rd), 0);
        assert_ptr_equal(array_read_buffer(rd), f->buf);
        assert_int_equal(array_read_range(rd).lo_array_sectors, 2048);
        /* the tail first: waiting for a part does not need the parts before */
        assert_int_equal(array_read_wait(rd, 30000, 38912), 0);
        assert_memory_equal((uint8_t *) f->buf + (30000 - 2048) * 512, f->content + 30000 * 512,
                            (38912 - 30000) * 512);
        assert_int_equal(array_read_wait(rd, 2048, 38912), 0);
        assert_memory_equal(f->buf, f->content + 2048 * 512, 36864 * 512);
        /* outside the range */
        assert_int_equal(array_read_wait(rd, 0, 4096), -EINVAL);
        assert_int_equal(array_read_wait(rd, 100, 100), 0);
        array_read_free(rd);
}

static void test_reads_the_range(void **state)
{
        reads_the_range(*state);
}

/* Slot 0 missing: every chunk comes from the parity. */
static void test_rebuilds_from_parity(void **state)
{
        struct fixture *f = *state;

        member_set_free(f->ms);
        open_members(f, 1);
        reads_the_range(f);
}

static void test_past_the_end(void **state)
{
        struct fixture *f = *state;
        /* the last 8 MiB of the file and 4 MiB beyond it */
        uint64_t end = FILE_BYTES / 512;
        struct array_range r = { end - 16384, end + 8192 };
        struct array_read *rd;

        /* the first error fails every wait not yet satisfied: the window
         * is lost either way, and the readers stop at once */
        assert_int_equal(array_read_start(f->ms, f->usable, f->buf, FILE_BYTES, r, &rd), 0);
        assert_int_equal(array_read_wait(rd, end - 16384, end + 8192), -EIO);
        assert_int_equal(array_read_wait(rd, end, end + 8192), -EIO);
        array_read_free(rd);
}

static void test_free_mid_read(void **state)
{
        struct fixture *f = *state;
        struct array_read *rd;

        assert_int_equal(array_read_start(f->ms, f->usable, f->buf, FILE_BYTES,
                                          (struct array_range) { 0, FILE_BYTES / 512 }, &rd), 0);
        assert_null(array_read_free(rd));
        assert_null(array_read_free(NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_reads_the_range, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rebuilds_from_parity, setup, teardown),
                cmocka_unit_test_setup_teardown(test_past_the_end, setup, teardown),
                cmocka_unit_test_setup_teardown(test_free_mid_read, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
