// SPDX-License-Identifier: GPL-2.0-or-later
/* One reshape three ways, and the window size every command agrees on. */
#include <errno.h>
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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_slots),
                cmocka_unit_test(test_refused),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
