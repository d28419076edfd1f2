// SPDX-License-Identifier: GPL-2.0-or-later
/* One reshape three ways, and the window size every command agrees on. */
#include <errno.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reshaped/plan/reshape-shape.h"

#define MiB (1024ULL * 1024)

static struct reshape_geometry shape(unsigned od, unsigned nd, uint32_t ochunk, uint32_t nchunk,
                                     uint64_t comp_kib, uint64_t array_kib)
{
        struct md_geometry mg = {
                .level = 5, .raid_disks_old = od, .raid_disks_new = nd,
                .chunk_bytes_old = ochunk, .chunk_bytes_new = nchunk,
                .layout_old = 2, .layout_new = 2, .component_kib = comp_kib,
                .direction = nd < od ? MD_RESHAPE_DIRECTION_BACKWARDS : MD_RESHAPE_DIRECTION_FORWARDS,
        };
        struct reshape_geometry g;
        struct backup_identity id = {};
        const char *why = NULL;

        assert_int_equal(reshape_shape_geometry(&mg, array_kib, &g, &why), 0);
        reshape_shape_identity(&mg, &g, &id);
        assert_int_equal(id.before.raid_disks, od);
        assert_int_equal(id.after.raid_disks, nd);
        assert_int_equal(id.after.chunk_bytes, nchunk);
        assert_int_equal(id.component_dev_sectors, comp_kib * 2);
        assert_int_equal(id.backwards, nd < od);
        return g;
}

static void test_slots(void **state)
{
        struct reshape_geometry g;
        uint64_t slot, least;

        (void) state;
        /* a large same-size reshape: --max-window */
        g = shape(4, 4, 65536, 131072, 1024 * 1024, 0);
        reshape_shape_slots(&g, 64 * MiB, 4 * MiB, &slot, &least);
        assert_int_equal(slot, 64 * MiB);
        assert_int_equal(least, 4 * MiB);

        /* a 78 MiB array: two slots hold all of it, no more */
        g = shape(4, 4, 65536, 131072, 26 * 1024, 0);
        reshape_shape_slots(&g, 64 * MiB, 4 * MiB, &slot, &least);
        assert_int_equal(slot, 39 * MiB);

        /* a grow: only its first units are at risk */
        g = shape(3, 4, 65536, 65536, 1024 * 1024, 0);
        reshape_shape_slots(&g, 64 * MiB, 4 * MiB, &slot, &least);
        assert_int_equal(slot, 4 * MiB);
        assert_int_equal(least, 4 * MiB);

        /* a wide grow whose one window needs more than --max-window */
        g = shape(15, 16, 524288, 524288, 4 * 1024 * 1024, 0);
        reshape_shape_slots(&g, 64 * MiB, 4 * MiB, &slot, &least);
        assert_true(slot > 64 * MiB);
        assert_int_equal(least, slot);
        assert_int_equal(slot % 4096, 0);
}

static void test_refused(void **state)
{
        struct md_geometry mg = {
                .level = 5, .raid_disks_old = 3, .raid_disks_new = 4,
                .chunk_bytes_old = 65536, .chunk_bytes_new = 65536, .component_kib = 1024,
                .direction = MD_RESHAPE_DIRECTION_BACKWARDS,
        };
        struct reshape_geometry g;
        const char *why = NULL;

        (void) state;
        assert_int_equal(reshape_shape_geometry(&mg, 0, &g, &why), -EINVAL);
        assert_non_null(why);
}

/* Which reshapes end at raid5, and in which layout: md's numbers. */
static void test_final_level(void **state)
{
        static const struct {
                int level;
                unsigned disks_old, disks_new;
                uint32_t layout_old, layout_new;
                bool to_raid5;
                uint32_t layout;
                unsigned raid_disks;
        } t[] = {
                /* mdadm --grow --level=5 of a raid6 of 5, each raid5 layout */
                { 6, 5, 5, 2, 18, true, 2, 4 },   /* left-symmetric -> left-symmetric-6 */
                { 6, 5, 5, 0, 16, true, 0, 4 },
                { 6, 5, 5, 1, 17, true, 1, 4 },
                { 6, 5, 5, 3, 19, true, 3, 4 },
                { 6, 5, 5, 2, 20, true, 4, 4 },   /* parity-first-6 */
                /* ... keeping 4 data disks: a grow to 6 first */
                { 6, 5, 6, 2, 18, true, 2, 5 },
                /* raid5 -> raid6: out of a "-6" layout, not into one */
                { 6, 5, 5, 18, 2, false, 0, 0 },
                /* a grow that keeps a "-6" layout (--layout=preserve) */
                { 6, 5, 6, 18, 18, false, 0, 0 },
                /* between "-6" layouts: not mdadm's level change */
                { 6, 5, 5, 18, 16, false, 0, 0 },
                /* parity-last is the same at both levels: says nothing */
                { 6, 5, 5, 2, 5, false, 0, 0 },
                /* a raid6 layout or chunk change */
                { 6, 5, 5, 2, 3, false, 0, 0 },
                { 6, 5, 5, 2, 2, false, 0, 0 },
                /* raid5 reshapes never change the level */
                { 5, 4, 4, 2, 18, false, 0, 0 },
                { 5, 4, 4, 2, 3, false, 0, 0 },
        };

        (void) state;
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                struct md_geometry mg = {
                        .level = t[i].level, .raid_disks_old = t[i].disks_old,
                        .raid_disks_new = t[i].disks_new, .chunk_bytes_old = 65536,
                        .chunk_bytes_new = 65536, .layout_old = t[i].layout_old,
                        .layout_new = t[i].layout_new, .component_kib = 1024,
                };
                struct reshape_final_level f = { .level = -1 };
                bool r = reshape_shape_final_level(&mg, &f);

                print_message("row %zu: raid%d %u -> %u, layout %u -> %u\n", i, t[i].level,
                              t[i].disks_old, t[i].disks_new, t[i].layout_old, t[i].layout_new);
                assert_int_equal(r, t[i].to_raid5);
                if (!r) {
                        assert_int_equal(f.level, -1);
                        continue;
                }
                assert_int_equal(f.level, 5);
                assert_int_equal(f.layout, t[i].layout);
                assert_int_equal(f.raid_disks, t[i].raid_disks);
        }
}

/* Only a raid6 at rest in a "-6" layout is where the first half of a
 * change to raid5 stops. */
static void test_half_level(void **state)
{
        static const struct {
                int level;
                unsigned disks_old, disks_new;
                uint32_t layout_old, layout_new;
                bool half;
        } t[] = {
                { 6, 5, 5, 18, 18, true },   /* left-symmetric-6, at rest */
                { 6, 4, 4, 16, 16, true },
                { 6, 5, 5, 20, 20, true },   /* parity-first-6 */
                { 6, 5, 5, 2, 2, false },    /* a standard raid6 layout */
                { 6, 5, 5, 5, 5, false },    /* parity-last: the same at both levels */
                { 6, 5, 5, 2, 18, false },   /* the reshape still runs */
                { 6, 5, 6, 18, 18, false },  /* a grow in a "-6" layout */
                { 6, 3, 3, 18, 18, false },  /* raid5 on 2 would not be a change md makes */
                { 5, 4, 4, 2, 2, false },
                { 6, 5, 5, 21, 21, false },  /* past the "-6" layouts */
        };

        (void) state;
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                struct md_geometry mg = {
                        .level = t[i].level, .raid_disks_old = t[i].disks_old,
                        .raid_disks_new = t[i].disks_new, .chunk_bytes_old = 65536,
                        .chunk_bytes_new = 65536, .layout_old = t[i].layout_old,
                        .layout_new = t[i].layout_new, .component_kib = 1024,
                };

                print_message("row %zu: raid%d %u -> %u, layout %u -> %u\n", i, t[i].level,
                              t[i].disks_old, t[i].disks_new, t[i].layout_old, t[i].layout_new);
                assert_int_equal(reshape_shape_half_level(&mg), t[i].half);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_slots),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_final_level),
                cmocka_unit_test(test_half_level),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
