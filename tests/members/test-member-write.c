// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The stripe writer against image files standing in for members: what it
 * writes reads back through the old-layout reader (member-read.c) as the
 * array content it was given, also with one or two members left out, so
 * the parity it computed is md's (the reader rebuilds from it). Only the
 * stripes written change, each member's data offset is honoured, and a
 * missing slot is refused before anything is written.
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

#include "reshaped/plan/geometry.h"
#include "reshaped/members/member-read.h"
#include "reshaped/members/member-write.h"

#define MEMBER_BYTES (1u << 20)
#define CHUNK_SECTORS 16u

struct images {
        unsigned n;
        char path[STRIPE_MAX_DISKS][64];
        struct member_source src[STRIPE_MAX_DISKS];
};

static void images_make(struct images *im, unsigned n)
{
        uint8_t *fill = malloc(MEMBER_BYTES);

        assert_non_null(fill);
        memset(fill, 0xa5, MEMBER_BYTES);
        im->n = n;
        for (unsigned i = 0; i < n; i++) {
                int fd;

                snprintf(im->path[i], sizeof(im->path[i]), "/tmp/test-member-write.XXXXXX");
                fd = mkstemp(im->path[i]);
                assert_true(fd >= 0);
                assert_int_equal(pwrite(fd, fill, MEMBER_BYTES, 0), MEMBER_BYTES);
                close(fd);
                im->src[i].path = im->path[i];
                /* members need not start their data alike */
                im->src[i].data_offset_dev_sectors = 8 * i;
        }
        free(fill);
}

static void images_remove(struct images *im)
{
        for (unsigned i = 0; i < im->n; i++)
                assert_int_equal(unlink(im->path[i]), 0);
}

static void *pattern(size_t bytes, unsigned seed)
{
        uint8_t *p = NULL;

        assert_int_equal(posix_memalign((void **) &p, 4096, bytes), 0);
        for (size_t i = 0; i < bytes; i++)
                p[i] = (uint8_t) ((i + seed) * 2654435761u >> 11);
        return p;
}

/* Reads array sectors [lo, hi) back with the slots in @leave_out missing. */
static void read_back(const struct images *im, const struct stripe_layout *l, uint64_t leave_out,
                      uint64_t lo, uint64_t hi, void *buf)
{
        struct member_source src[STRIPE_MAX_DISKS];
        struct member_scratch *sc = NULL;
        struct member_set *ms = NULL;
        uint64_t usable = 0;

        memcpy(src, im->src, sizeof(src));
        for (unsigned i = 0; i < im->n; i++)
                if (leave_out >> i & 1)
                        src[i].path = NULL;
        assert_int_equal(member_set_open(l, src, im->n, UINT64_MAX / 2, &ms), 0);
        assert_int_equal(member_set_refresh(ms, NULL, &usable), 0);
        assert_int_equal(member_scratch_new(ms, &sc), 0);
        assert_int_equal(member_set_read(ms, usable, (struct array_range) { lo, hi }, lo, hi, buf, sc), 0);
        member_scratch_free(sc);
        member_set_free(ms);
}

static void check_layout(const struct stripe_layout *l, unsigned max_missing)
{
        uint64_t row = stripe_layout_stripe_sectors(l);
        uint64_t lo = 3 * row, hi = 11 * row;
        size_t bytes = sectors_to_bytes(hi - lo);
        struct member_writer *w = NULL;
        struct images im;
        void *data = pattern(bytes, 7), *buf = NULL, *before, *after;

        images_make(&im, l->raid_disks);
        assert_int_equal(posix_memalign(&buf, 4096, bytes), 0);
        before = pattern(sectors_to_bytes(row), 0);
        after = pattern(sectors_to_bytes(row), 0);
        read_back(&im, l, 0, lo - row, lo, before);

        assert_int_equal(member_writer_open(l, im.src, &w), 0);
        assert_int_equal(member_writer_put(w, lo / row, (hi - lo) / row, data), 0);
        assert_int_equal(member_writer_sync(w), 0);
        member_writer_free(w);

        for (uint64_t missing = 0; missing < 1ull << l->raid_disks; missing++) {
                if ((unsigned) __builtin_popcountll(missing) > max_missing)
                        continue;
                memset(buf, 0, bytes);
                read_back(&im, l, missing, lo, hi, buf);
                assert_memory_equal(buf, data, bytes);
        }
        /* the stripe before the range is as it was */
        read_back(&im, l, 0, lo - row, lo, after);
        assert_memory_equal(before, after, sectors_to_bytes(row));

        images_remove(&im);
        free(data);
        free(buf);
        free(before);
        free(after);
}

static void test_raid5(void **state)
{
        (void) state;
        for (uint32_t alg = 0; alg <= 3; alg++) {
                struct stripe_layout l = { .level = 5, .raid_disks = 4, .chunk_sectors = CHUNK_SECTORS,
                                           .algorithm = alg };

                check_layout(&l, 1);
        }
}

static void test_raid6(void **state)
{
        const uint32_t algs[] = { 0, 1, 2, 3, 16, 17, 18, 19, 20 };

        (void) state;
        for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
                struct stripe_layout l = { .level = 6, .raid_disks = 6, .chunk_sectors = CHUNK_SECTORS,
                                           .algorithm = algs[i] };

                check_layout(&l, 2);
        }
}

static void test_raid4(void **state)
{
        struct stripe_layout l = { .level = 4, .raid_disks = 3, .chunk_sectors = CHUNK_SECTORS };

        (void) state;
        check_layout(&l, 1);
}

static void test_missing_slot(void **state)
{
        struct stripe_layout l = { .level = 5, .raid_disks = 4, .chunk_sectors = CHUNK_SECTORS, .algorithm = 2 };
        struct member_writer *w = NULL;
        struct images im;

        (void) state;
        images_make(&im, 4);
        im.src[2].path = NULL;
        assert_int_equal(member_writer_open(&l, im.src, &w), -ENODEV);
        assert_null(w);
        im.src[2].path = im.path[2];
        images_remove(&im);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_raid5),
                cmocka_unit_test(test_raid6),
                cmocka_unit_test(test_raid4),
                cmocka_unit_test(test_missing_slot),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
