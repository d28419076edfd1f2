// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "reshaped/plan/geometry.h"

#define KIB 2ULL  /* sectors per KiB */

/* md's raid10 layout numbers: near 2, near 3, far 2, offset 2 */
#define N2 0x102
#define N3 0x103
#define F2 0x201
#define O2 0x10201

static struct reshape_geometry make(int ol, unsigned od, int nl, unsigned nd,
                                    uint64_t ochunk, uint64_t nchunk,
                                    uint64_t comp_kib, uint64_t array_kib, bool back)
{
        struct geometry_input in = {
                .old_level = ol, .new_level = nl,
                .old_raid_disks = od, .new_raid_disks = nd,
                .old_chunk_bytes = ochunk, .new_chunk_bytes = nchunk,
                .component_kib = comp_kib, .array_kib = array_kib,
                .backwards = back,
        };
        struct reshape_geometry g;
        const char *why = NULL;

        assert_int_equal(geometry_init(&g, &in, &why), 0);
        return g;
}

static void test_init_table(void **state)
{
        static const struct {
                struct geometry_input in;
                int ret;
                unsigned odd, ndd;
                uint64_t unit, end, array;
        } t[] = {
                /* raid5 4 disks, 64K -> 128K, 256 MiB members */
                { { 5, 5, 4, 4, 65536, 131072, 262144, 0, false, 0, 0, 0 }, 0, 3, 3, 256, 524288, 524288 * 3 },
                /* 128K -> 64K: the unit is still the larger chunk */
                { { 5, 5, 4, 4, 131072, 65536, 262144, 0, false, 0, 0, 0 }, 0, 3, 3, 256, 524288, 524288 * 3 },
                /* member not a multiple of the unit: end rounds down */
                { { 5, 5, 4, 4, 65536, 65536, 262100, 0, false, 0, 0, 0 }, 0, 3, 3, 128, 524160, 524160 * 3 },
                /* raid5(4) -> raid6(5): same data disks */
                { { 5, 6, 4, 5, 524288, 524288, 262144, 0, false, 0, 0, 0 }, 0, 3, 3, 1024, 524288, 524288 * 3 },
                /* raid6(5) -> raid5(4) */
                { { 6, 5, 5, 4, 65536, 65536, 262144, 0, false, 0, 0, 0 }, 0, 3, 3, 128, 524288, 524288 * 3 },
                /* grow 3 -> 4 */
                { { 5, 5, 3, 4, 524288, 524288, 262144, 0, false, 0, 0, 0 }, 0, 2, 3, 1024, 524288, 524288 * 2 },
                /* shrink 5 -> 4 after reducing the array */
                { { 5, 5, 5, 4, 524288, 524288, 262144, 786432, true, 0, 0, 0 }, 0, 4, 3, 1024, 524288, 786432 * 2 },
                /* shrink without reducing the array first */
                { { 5, 5, 5, 4, 524288, 524288, 262144, 1048576, true, 0, 0, 0 }, -EINVAL, 0, 0, 0, 0, 0 },
                /* a shrink that claims to run forwards */
                { { 5, 5, 5, 4, 524288, 524288, 262144, 786432, false, 0, 0, 0 }, -EINVAL, 0, 0, 0, 0, 0 },
                /* raid1 is not ours */
                { { 1, 1, 2, 2, 65536, 65536, 262144, 0, false, 0, 0, 0 }, -EINVAL, 0, 0, 0, 0, 0 },
                /* raid10 near-2, 4 disks, 64K -> 128K, 32 MiB members (the VM
                 * scenarios): progress is array sectors (scale 1), the unit
                 * is the old chunk, the end is the array */
                { { 10, 10, 4, 4, 65536, 131072, 32768, 0, false, N2, N2, 0 }, 0, 1, 1, 128, 131072, 131072 },
                /* 128K -> 64K: sync_max must be a multiple of the old chunk */
                { { 10, 10, 4, 4, 131072, 65536, 32768, 0, true, N2, N2, 0 }, 0, 1, 1, 256, 131072, 131072 },
                /* members not a multiple of the larger chunk, 3 disks: md sizes
                 * a backwards reshape by the new layout (769 half chunks of
                 * 64K, rounded to whole ones: 98432), forwards the smaller */
                { { 10, 10, 3, 3, 131072, 65536, 32832, 0, true, N2, N2, 0 }, 0, 1, 1, 256, 98432, 98432 },
                { { 10, 10, 3, 3, 131072, 65536, 32832, 0, false, N2, N2, 0 }, 0, 1, 1, 256, 98304, 98304 },
                /* near-3 on 4 disks */
                { { 10, 10, 4, 4, 65536, 131072, 32768, 0, false, N3, N3, 0 }, 0, 1, 1, 128, 87296, 87296 },
                /* an array reduced below the capacity keeps its size */
                { { 10, 10, 4, 4, 65536, 131072, 32768, 32768, false, N2, N2, 0 }, 0, 1, 1, 128, 131072, 65536 },
                /* raid10 refusals: disk-count change, far and offset layouts,
                 * a change of copies, another level, bad chunks, an array
                 * larger than the layout holds */
                { { 10, 10, 4, 5, 65536, 65536, 262144, 0, false, N2, N2, 0 }, -EINVAL, 0, 0, 0, 0, 0 },
                { { 10, 10, 4, 4, 65536, 131072, 32768, 0, false, F2, F2, 0 }, -EINVAL, 0, 0, 0, 0, 0 },
                { { 10, 10, 4, 4, 65536, 131072, 32768, 0, false, O2, O2, 0 }, -EINVAL, 0, 0, 0, 0, 0 },
                { { 10, 10, 4, 4, 65536, 131072, 32768, 0, false, N2, O2, 0 }, -EINVAL, 0, 0, 0, 0, 0 },
                { { 10, 10, 4, 4, 65536, 131072, 32768, 0, false, N2, N3, 0 }, -EINVAL, 0, 0, 0, 0, 0 },
                { { 10, 0, 4, 4, 65536, 131072, 32768, 0, false, N2, 0, 0 }, -EINVAL, 0, 0, 0, 0, 0 },
                { { 10, 10, 4, 4, 65536, 98304, 32768, 0, false, N2, N2, 0 }, -EINVAL, 0, 0, 0, 0, 0 },
                { { 10, 10, 4, 4, 2048, 65536, 32768, 0, false, N2, N2, 0 }, -EINVAL, 0, 0, 0, 0, 0 },
                { { 10, 10, 4, 4, 65536, 131072, 32768, 65600, false, N2, N2, 0 }, -EINVAL, 0, 0, 0, 0, 0 },
                { { 10, 10, 4, 4, 65536, 131072, 32, 0, false, N2, N2, 0 }, -EINVAL, 0, 0, 0, 0, 0 },
                /* chunks md would not accept */
                { { 5, 5, 4, 4, 65536, 98304, 262144, 0, false, 0, 0, 0 }, -EINVAL, 0, 0, 0, 0, 0 },
                { { 5, 5, 4, 4, 2048, 65536, 262144, 0, false, 0, 0, 0 }, -EINVAL, 0, 0, 0, 0, 0 },
                /* members smaller than a chunk */
                { { 5, 5, 4, 4, 65536, 131072, 64, 0, false, 0, 0, 0 }, -EINVAL, 0, 0, 0, 0, 0 },
        };

        (void) state;
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                struct reshape_geometry g;
                const char *why = NULL;
                int r = geometry_init(&g, &t[i].in, &why);

                assert_int_equal(r, t[i].ret);
                if (r < 0) {
                        assert_non_null(why);
                        continue;
                }
                assert_int_equal(g.old_data_disks, t[i].odd);
                assert_int_equal(g.new_data_disks, t[i].ndd);
                assert_int_equal(g.unit_progress_sectors, t[i].unit);
                assert_int_equal(g.end_progress_sectors, t[i].end);
                assert_int_equal(g.array_sectors, t[i].array);
        }
}

static struct reshape_geometry make_raid10(uint64_t ochunk, uint64_t nchunk, uint64_t comp_kib,
                                           bool back)
{
        struct geometry_input in = {
                .old_level = 10, .new_level = 10,
                .old_raid_disks = 4, .new_raid_disks = 4,
                .old_chunk_bytes = ochunk, .new_chunk_bytes = nchunk,
                .component_kib = comp_kib, .backwards = back,
                .old_layout = N2, .new_layout = N2,
        };
        struct reshape_geometry g;
        const char *why = NULL;

        assert_int_equal(geometry_init(&g, &in, &why), 0);
        return g;
}

static void test_raid10(void **state)
{
        struct reshape_geometry g = make_raid10(65536, 131072, 32768, false);
        struct geometry_input in = {
                .old_level = 10, .new_level = 10, .old_raid_disks = 4, .new_raid_disks = 5,
                .old_chunk_bytes = 65536, .new_chunk_bytes = 65536, .component_kib = 32768,
                .old_layout = N2, .new_layout = N2,
        };
        struct reshape_geometry refused;
        const char *why = NULL;

        (void) state;
        assert_true(g.relocates);
        assert_int_equal(g.redundancy, 1);
        /* forwards: the position is the progress */
        assert_int_equal(geometry_progress_to_position(&g, 0), 0);
        assert_int_equal(geometry_progress_to_position(&g, 32768), 32768);
        assert_int_equal(geometry_position_to_progress(&g, 32768 + 5), 32768 + 5);
        /* nothing is ever at risk */
        assert_int_equal(array_range_sectors(geometry_at_risk(&g, 0, 131072)), 0);
        assert_int_equal(array_range_sectors(geometry_at_risk(&g, 4096, 8192)), 0);
        assert_int_equal(geometry_next_at_risk(&g, 0), g.end_progress_sectors);
        assert_int_equal(geometry_next_at_risk(&g, 65536), g.end_progress_sectors);
        /* sync_max values: multiples of the old chunk */
        assert_int_equal(geometry_align_down(&g, 200), 128);
        assert_int_equal(geometry_align_up(&g, 200), 256);

        /* backwards: counted from raid10_size(), the new layout's capacity */
        g = make_raid10(131072, 65536, 32768, true);
        assert_int_equal(geometry_progress_to_position(&g, 0), 131072);
        assert_int_equal(geometry_progress_to_position(&g, 256), 131072 - 256);
        assert_int_equal(geometry_progress_to_position(&g, 131072), 0);
        assert_int_equal(geometry_position_to_progress(&g, 131072 - 256), 256);
        assert_int_equal(geometry_position_to_progress(&g, 200000), 0);
        assert_int_equal(array_range_sectors(geometry_at_risk(&g, 0, 131072)), 0);
        assert_int_equal(geometry_next_at_risk(&g, 0), g.end_progress_sectors);

        /* near-3 survives the loss of any two members */
        in.new_raid_disks = 4;
        in.old_layout = in.new_layout = N3;
        assert_int_equal(geometry_init(&g, &in, &why), 0);
        assert_int_equal(g.redundancy, 2);

        /* a refusal says why, and says what to do */
        in.new_raid_disks = 5;
        assert_int_equal(geometry_init(&refused, &in, &why), -EINVAL);
        assert_non_null(strstr(why, "number of disks"));
        in.new_raid_disks = 4;
        in.old_layout = in.new_layout = F2;
        assert_int_equal(geometry_init(&refused, &in, &why), -EINVAL);
        assert_non_null(strstr(why, "near layouts"));

        /* raid5/6 keep their redundancy */
        assert_int_equal(make(5, 4, 5, 4, 65536, 131072, 262144, 0, false).redundancy, 1);
        assert_int_equal(make(6, 5, 6, 5, 65536, 131072, 262144, 0, false).redundancy, 2);
        assert_false(make(6, 5, 6, 5, 65536, 131072, 262144, 0, false).relocates);
}

static void test_align(void **state)
{
        struct reshape_geometry g = make(5, 4, 5, 4, 65536, 131072, 262144, 0, false);

        (void) state;
        /* sync_max must be a multiple of the old chunk (128 sectors) for the
         * kernel, and of the unit (256) for safety. */
        assert_int_equal(geometry_align_down(&g, 0), 0);
        assert_int_equal(geometry_align_down(&g, 255), 0);
        assert_int_equal(geometry_align_down(&g, 384), 256);
        assert_int_equal(geometry_align_down(&g, 512), 512);
        assert_int_equal(geometry_align_up(&g, 1), 256);
        assert_int_equal(geometry_align_up(&g, 256), 256);
        assert_int_equal(geometry_align_down(&g, 384) % (g.old_chunk_sectors), 0);
}

static void test_position_forwards(void **state)
{
        struct reshape_geometry g = make(5, 4, 5, 4, 65536, 131072, 262144, 0, false);

        (void) state;
        assert_int_equal(geometry_progress_to_position(&g, 0), 0);
        assert_int_equal(geometry_progress_to_position(&g, 256), 768);
        assert_int_equal(geometry_position_to_progress(&g, 768), 256);
        assert_int_equal(geometry_position_to_progress(&g, 770), 256);
        /* grow 3 -> 4: position counts new-layout stripes */
        g = make(5, 3, 5, 4, 524288, 524288, 262144, 0, false);
        assert_int_equal(geometry_progress_to_position(&g, 1024), 3072);
        assert_int_equal(geometry_position_to_progress(&g, 3072), 1024);
}

static void test_position_backwards(void **state)
{
        /* shrink 5 -> 4 disks; origin = end * new data disks */
        struct reshape_geometry g = make(5, 5, 5, 4, 524288, 524288, 262144, 786432, true);

        (void) state;
        assert_int_equal(geometry_progress_to_position(&g, 0), 524288 * 3);
        assert_int_equal(geometry_progress_to_position(&g, 1024), (524288 - 1024) * 3);
        assert_int_equal(geometry_progress_to_position(&g, 524288), 0);
        assert_int_equal(geometry_position_to_progress(&g, (524288 - 1024) * 3), 1024);
        assert_int_equal(geometry_position_to_progress(&g, (524288 - 1024) * 3 + 1), 1023);
        assert_int_equal(geometry_position_to_progress(&g, 524288 * 3 + 5), 0);
        /* same-size backwards */
        g = make(5, 4, 5, 4, 65536, 65536, 262144, 0, true);
        assert_int_equal(geometry_progress_to_position(&g, 128), (524288 - 128) * 3);
}

static void test_at_risk(void **state)
{
        static const struct {
                int ol; unsigned od; int nl; unsigned nd;
                uint64_t oc, nc, comp, array; bool back;
                uint64_t from, to, lo, hi;
        } t[] = {
                /* same size: everything rewritten is at risk */
                { 5, 4, 5, 4, 65536, 131072, 262144, 0, false, 0, 256, 0, 768 },
                { 5, 4, 5, 4, 65536, 131072, 262144, 0, false, 512, 1024, 1536, 3072 },
                /* the last window is clipped to the array */
                { 5, 4, 5, 4, 65536, 131072, 262144, 0, false, 524032, 600000, 524032 * 3, 524288 * 3 },
                /* same size backwards: from the end */
                { 5, 4, 5, 4, 65536, 65536, 262144, 0, true, 0, 128, (524288 - 128) * 3, 524288 * 3 },
                { 5, 4, 5, 4, 65536, 65536, 262144, 0, true, 128, 384, (524288 - 384) * 3, (524288 - 128) * 3 },
                /* grow 3 -> 4 (2 -> 3 data disks), unit 1024: at the start the
                 * old content of [0, 1024) is array [0, 2048) */
                { 5, 3, 5, 4, 524288, 524288, 262144, 0, false, 0, 1024, 0, 2048 },
                /* from 1024: array below 3072 moved; old content [2048, 4096) */
                { 5, 3, 5, 4, 524288, 524288, 262144, 0, false, 1024, 2048, 3072, 4096 },
                /* from 2048: moved below 6144, old content ends at 6144: safe */
                { 5, 3, 5, 4, 524288, 524288, 262144, 0, false, 2048, 3072, 6144, 6144 },
                /* shrink 5 -> 4 (4 -> 3 data disks), array reduced to 3/4:
                 * the start of the backwards run is beyond the array */
                { 5, 5, 5, 4, 524288, 524288, 262144, 786432, true, 0, 1024, 1572864, 1572864 },
                /* near the end of the run (low addresses) it is at risk:
                 * rewrites [0,1024); done above 3072; old content [0, 4096) */
                { 5, 5, 5, 4, 524288, 524288, 262144, 786432, true, 523264, 524288, 0, 3072 },
        };

        (void) state;
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                struct reshape_geometry g = make(t[i].ol, t[i].od, t[i].nl, t[i].nd, t[i].oc,
                                                 t[i].nc, t[i].comp, t[i].array, t[i].back);
                struct array_range r = geometry_at_risk(&g, t[i].from, t[i].to);

                assert_int_equal(r.lo_array_sectors, t[i].lo);
                assert_int_equal(r.hi_array_sectors, t[i].hi);
        }
}

static void test_next_at_risk(void **state)
{
        struct reshape_geometry g;
        uint64_t p;

        (void) state;
        /* same size: always at risk until the end */
        g = make(5, 4, 5, 4, 65536, 131072, 262144, 0, false);
        assert_int_equal(geometry_next_at_risk(&g, 0), 0);
        assert_int_equal(geometry_next_at_risk(&g, 1000), 768);
        assert_int_equal(geometry_next_at_risk(&g, 524288), 524288);

        /* grow 2 -> 3 data disks, unit 1024: raid5 guards itself once
         * 3p/2 - 1024 > p + 1024, i.e. past p = 4096; park points are
         * multiples of 2 x 1024 */
        g = make(5, 3, 5, 4, 524288, 524288, 262144, 0, false);
        assert_int_equal(g.park_progress_sectors, 2048);
        assert_int_equal(geometry_next_at_risk(&g, 0), 0);
        assert_int_equal(geometry_next_at_risk(&g, 1024), 0);
        assert_int_equal(geometry_next_at_risk(&g, 4096), 4096);
        assert_int_equal(geometry_next_at_risk(&g, 6144), g.end_progress_sectors);
        assert_int_equal(geometry_risk_end(&g, 0), 6144);
        assert_int_equal(geometry_risk_end(&g, 4096), 6144);
        /* the probe's bound (2u*od/(nd-od) + u) is inside it */
        assert_true(geometry_risk_end(&g, 0) >= 5 * 1024);

        /* same size: the stretch at risk never ends before the reshape */
        g = make(5, 4, 5, 4, 65536, 131072, 262144, 0, false);
        assert_int_equal(geometry_risk_end(&g, 0), g.end_progress_sectors);

        /* shrink 4 -> 3 data disks: safe until near the end of the run,
         * then at risk to the end; park points counted from the end */
        g = make(5, 5, 5, 4, 524288, 524288, 262144, 786432, true);
        assert_int_equal(g.park_progress_sectors, 4 * 1024);
        p = geometry_next_at_risk(&g, 0);
        assert_true(p > 0 && p < g.end_progress_sectors);
        assert_int_equal((g.end_progress_sectors - p) % g.park_progress_sectors, 0);
        /* per member, the kernel is at d = end - p; it guards while
         * d - 3d/4 > 2 x 1024, so p is within the last 8192 + one park */
        assert_true(g.end_progress_sectors - p <= 8192 + g.park_progress_sectors);
        assert_true(g.end_progress_sectors - p >= 8192);
        assert_int_equal(geometry_next_at_risk(&g, p + 1024), p);
        assert_int_equal(geometry_risk_end(&g, p), g.end_progress_sectors);
}

static void test_total_at_risk(void **state)
{
        struct reshape_geometry g;

        (void) state;
        g = make(5, 4, 5, 4, 65536, 131072, 262144, 0, false);
        assert_int_equal(geometry_total_at_risk_array_sectors(&g), g.array_sectors);
        /* grow 2 -> 3 data disks: the units before 6144 (see above) */
        g = make(5, 3, 5, 4, 524288, 524288, 262144, 0, false);
        assert_int_equal(geometry_total_at_risk_array_sectors(&g), 6144 * 2);
        /* shrink 4 -> 3 data disks: the old data the last stretch
         * rewrites, of which only what the reduced (3-disk) array still
         * holds */
        g = make(5, 5, 5, 4, 524288, 524288, 262144, 786432, true);
        assert_int_equal(geometry_total_at_risk_array_sectors(&g),
                         (g.end_progress_sectors - geometry_next_at_risk(&g, 0)) * 3);
        g = make_raid10(65536, 131072, 262144, false);
        assert_int_equal(geometry_total_at_risk_array_sectors(&g), 0);
}

/* Where a crash needs no backup: restore's rule. */
static void test_kernel_guards(void **state)
{
        struct reshape_geometry g;
        uint64_t p;

        (void) state;
        g = make(5, 4, 5, 4, 65536, 131072, 262144, 0, false);
        assert_false(geometry_kernel_guards(&g, 0));
        assert_false(geometry_kernel_guards(&g, 262144));

        /* grow 2 -> 3 data disks (units of 1024): guarded where raid5's
         * next read lies beyond its next write, p * 3/2 - 1024 > p + 1024,
         * from 4098 on, also between park points, never at the end */
        g = make(5, 3, 5, 4, 524288, 524288, 262144, 0, false);
        assert_false(geometry_kernel_guards(&g, 0));
        assert_false(geometry_kernel_guards(&g, 4096));
        assert_false(geometry_kernel_guards(&g, 4097));
        assert_true(geometry_kernel_guards(&g, 4098));
        assert_true(geometry_kernel_guards(&g, 6143));
        assert_true(geometry_kernel_guards(&g, 6144));
        assert_true(geometry_kernel_guards(&g, 100001));
        assert_false(geometry_kernel_guards(&g, g.end_progress_sectors));

        /* shrink 4 -> 3 data disks: guarded from the start until the last
         * stretch, and not at a checkpoint inside it even when the park
         * point below it is still guarded */
        g = make(5, 5, 5, 4, 524288, 524288, 262144, 786432, true);
        p = geometry_next_at_risk(&g, 0);
        assert_true(geometry_kernel_guards(&g, 0));
        assert_true(geometry_kernel_guards(&g, p - 1));
        assert_false(geometry_kernel_guards(&g, p));
        assert_false(geometry_kernel_guards(&g, p + 1));
}

/* raid5.c run(): which recorded positions md starts from. */
static void test_kernel_restarts(void **state)
{
        struct reshape_geometry g;

        (void) state;
        /* grow 2 -> 3 data disks, 64 KiB chunks: new stripes of 384 sectors */
        g = make(5, 3, 5, 4, 65536, 65536, 130048, 0, false);
        assert_false(geometry_kernel_restarts(&g, 0));
        assert_false(geometry_kernel_restarts(&g, 384));
        assert_true(geometry_kernel_restarts(&g, 768));
        assert_false(geometry_kernel_restarts(&g, 769));
        /* the larger chunk sets the stripe when both change */
        g = make(5, 3, 5, 4, 65536, 131072, 130048, 0, false);
        assert_false(geometry_kernel_restarts(&g, 768));
        assert_true(geometry_kernel_restarts(&g, 1536));
        /* shrink 4 -> 3 data disks: refused near the end (position 0) */
        g = make(5, 5, 5, 4, 65536, 65536, 130048, 0, true);
        assert_false(geometry_kernel_restarts(&g, 0));
        assert_true(geometry_kernel_restarts(&g, 384 * 100));
        /* same data disks: md checks nothing here (it runs read-only) */
        g = make(5, 4, 5, 4, 65536, 131072, 130048, 0, false);
        assert_true(geometry_kernel_restarts(&g, 0));
}

/* Where a grow cut in its first units is moved to. */
static void test_critical_restart(void **state)
{
        struct reshape_geometry g;
        const char *why = NULL;
        uint64_t pos = 0;

        (void) state;
        g = make(5, 3, 5, 4, 65536, 65536, 130048, 0, false);
        /* the backup's first window (8064 KiB): its end is a new-stripe
         * boundary md restarts from and guards */
        assert_int_equal(geometry_critical_restart(&g, 0, 16128, &pos, &why), 0);
        assert_int_equal(pos, 16128);
        assert_true(geometry_kernel_restarts(&g, pos));
        assert_true(geometry_kernel_guards(&g, geometry_position_to_progress(&g, pos)));
        /* not on a boundary: the next one */
        assert_int_equal(geometry_critical_restart(&g, 384, 16000, &pos, &why), 0);
        assert_int_equal(pos, 16128);
        /* a backup that ends inside the units: the first position past it
         * md restarts from (1536: 4 < 6) and guards (1920: 832 > 768) */
        assert_int_equal(geometry_critical_restart(&g, 0, 1000, &pos, &why), 0);
        assert_int_equal(pos, 1920);
        assert_int_equal(geometry_critical_restart(&g, 0, 0, &pos, &why), 0);
        assert_int_equal(pos, 1920);
        /* a checkpoint off the new stripes, or past the backup's end */
        assert_int_equal(geometry_critical_restart(&g, 100, 16128, &pos, &why), -ERANGE);
        assert_int_equal(geometry_critical_restart(&g, 16512, 16128, &pos, &why), -ERANGE);
        /* not a grow */
        g = make(5, 4, 5, 4, 65536, 131072, 130048, 0, false);
        assert_int_equal(geometry_critical_restart(&g, 0, 16128, &pos, &why), -ERANGE);
        g = make(5, 5, 5, 4, 65536, 65536, 130048, 0, true);
        assert_int_equal(geometry_critical_restart(&g, 0, 16128, &pos, &why), -ERANGE);
}

/* The largest at-risk range of any one-park window, with the checkpoint
 * anywhere behind it, found by walking every park point. */
static uint64_t widest_window(const struct reshape_geometry *g)
{
        uint64_t a = g->park_progress_sectors, end = g->end_progress_sectors, widest = 0;

        for (uint64_t from = geometry_align_down(g, 0); from < end;
             from = g->backwards ? geometry_align_up(g, from + 1) : from + a) {
                uint64_t to = g->backwards ? geometry_align_up(g, from + 1) : from + a;

                for (uint64_t base = 0; base <= from; base += a) {
                        struct array_range r = geometry_at_risk(g, base, to);

                        /* what a held window [.., from) does not cover */
                        if (!g->backwards && r.lo_array_sectors < from * g->old_data_disks)
                                r.lo_array_sectors = from * g->old_data_disks;
                        if (g->backwards && r.hi_array_sectors > (end - from) * g->old_data_disks)
                                r.hi_array_sectors = (end - from) * g->old_data_disks;
                        if (r.hi_array_sectors > r.lo_array_sectors &&
                            array_range_sectors(r) > widest)
                                widest = array_range_sectors(r);
                }
        }
        return widest;
}

static void test_min_window(void **state)
{
        struct reshape_geometry g;

        (void) state;
        /* raid5 14 -> 15 disks, 512 KiB chunks: park 13 units, 13 data
         * disks of old data each: 84.5 MiB, more than the default 64M */
        g = make(5, 14, 5, 15, 524288, 524288, 1048576, 0, false);
        assert_int_equal(g.park_progress_sectors, 13 * 1024);
        assert_int_equal(geometry_min_window_array_sectors(&g), 13 * 13 * 1024);
        assert_int_equal(sectors_to_bytes(geometry_min_window_array_sectors(&g)), 84.5 * (1 << 20));
        /* raid5 7 -> 6 disks shrink, 1 MiB chunks: park 6 units */
        g = make(5, 7, 5, 6, 1 << 20, 1 << 20, 1048576, 5 * 1048576, true);
        assert_int_equal(geometry_min_window_array_sectors(&g), 6 * 2048 * 6);
        /* 16 -> 32 MiB chunks on 6 data disks: one unit of 32 MiB per
         * member, 192 MiB of the array */
        g = make(5, 7, 5, 7, 16 << 20, 32 << 20, 4194304, 0, false);
        assert_int_equal(sectors_to_bytes(geometry_min_window_array_sectors(&g)), 192ULL << 20);
        /* an array reduced below one unit of members: never more than it */
        g = make(5, 7, 5, 7, 16 << 20, 32 << 20, 65536, 6 * 16384, false);
        assert_int_equal(g.array_sectors, 6 * 32768);
        assert_int_equal(geometry_min_window_array_sectors(&g), g.array_sectors);
        /* raid10 relocates: nothing */
        g = (struct reshape_geometry) { .relocates = true, .park_progress_sectors = 128,
                                        .old_data_disks = 1, .array_sectors = 1 << 20 };
        assert_int_equal(geometry_min_window_array_sectors(&g), 0);

        /* the bound is reached and never exceeded, by any window the
         * planner can plan, whatever the checkpoint's lag */
        {
                static const struct { unsigned od, nd; uint64_t oc, nc, comp, arr; bool back; } t[] = {
                        { 4, 5, 65536, 65536, 16384, 0, false },
                        { 5, 4, 65536, 65536, 16384, 36864, true },
                        { 4, 4, 65536, 131072, 16384, 0, false },
                        { 4, 4, 131072, 65536, 16384, 0, true },
                        { 14, 15, 524288, 524288, 65536, 0, false },
                        { 17, 16, 65536, 65536, 16384, 15 * 16384, true },
                };

                for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                        g = make(5, t[i].od, 5, t[i].nd, t[i].oc, t[i].nc, t[i].comp, t[i].arr, t[i].back);
                        assert_int_equal(widest_window(&g), geometry_min_window_array_sectors(&g));
                }
        }
}

/* A raid5 reshape that moves data_offset by two units and a park distance
 * or more relocates like raid10: nothing at risk, no minimum window, and
 * pacing windows of at most d - 2u; by less, or against its direction, it
 * is refused (it could be neither kept safe nor backed up). 4 x 128 MiB,
 * 64K -> 128K (unit 256 sectors), data_offset moved down 768 sectors. */
static void test_raid5_offset(void **state)
{
        struct geometry_input in = {
                .old_level = 5, .new_level = 5, .old_raid_disks = 4, .new_raid_disks = 4,
                .old_chunk_bytes = 65536, .new_chunk_bytes = 131072, .component_kib = 130048,
                .offset_diff_dev_sectors = -768,
        };
        struct reshape_geometry g;
        const char *why = NULL;

        (void) state;
        assert_int_equal(geometry_init(&g, &in, &why), 0);
        assert_true(g.relocates);
        assert_int_equal(g.pace_max_progress_sectors, 256);
        assert_int_equal(g.old_data_disks, 3);
        assert_int_equal(g.unit_progress_sectors, 256);
        assert_int_equal(array_range_sectors(geometry_at_risk(&g, 0, g.end_progress_sectors)), 0);
        assert_int_equal(geometry_next_at_risk(&g, 0), g.end_progress_sectors);
        assert_int_equal(geometry_total_at_risk_array_sectors(&g), 0);
        assert_int_equal(geometry_min_window_array_sectors(&g), 0);
        assert_true(geometry_kernel_restarts(&g, 12345 * 768));
        /* progress stays per member: three data disks per progress sector */
        assert_int_equal(geometry_progress_to_position(&g, 256), 768);

        /* the same in place is at risk all along */
        in.offset_diff_dev_sectors = 0;
        assert_int_equal(geometry_init(&g, &in, &why), 0);
        assert_false(g.relocates);
        assert_int_equal(g.pace_max_progress_sectors, 0);
        assert_int_equal(geometry_next_at_risk(&g, 0), 0);

        /* less than two units and a window: no window keeps it safe */
        in.offset_diff_dev_sectors = -767;
        assert_int_equal(geometry_init(&g, &in, &why), -EINVAL);
        assert_non_null(strstr(why, "two units"));
        /* windows are whole park distances */
        in.offset_diff_dev_sectors = -1791;
        assert_int_equal(geometry_init(&g, &in, &why), 0);
        assert_true(g.relocates);
        assert_int_equal(g.pace_max_progress_sectors, 1024);

        /* up runs backwards, down forwards */
        in.offset_diff_dev_sectors = 768;
        assert_int_equal(geometry_init(&g, &in, &why), -EINVAL);
        assert_non_null(strstr(why, "direction"));
        in.backwards = true;
        assert_int_equal(geometry_init(&g, &in, &why), 0);
        assert_true(g.relocates);
        assert_int_equal(geometry_next_at_risk(&g, 0), g.end_progress_sectors);

        /* a grow 3 -> 4 moving down: no critical section */
        in = (struct geometry_input) {
                .old_level = 5, .new_level = 5, .old_raid_disks = 3, .new_raid_disks = 4,
                .old_chunk_bytes = 524288, .new_chunk_bytes = 524288, .component_kib = 262144,
                .offset_diff_dev_sectors = -4096,
        };
        assert_int_equal(geometry_init(&g, &in, &why), 0);
        assert_true(g.relocates);
        /* park is unit x old data disks (2048) */
        assert_int_equal(g.pace_max_progress_sectors, 2048);
        assert_int_equal(geometry_total_at_risk_array_sectors(&g), 0);
        assert_false(geometry_critical_restart(&g, 0, 0, &(uint64_t) { 0 }, &why) == 0);
}

/* Room on 1.1/1.2 members: above the superblock's 36 KiB, below the end. */
static void test_member_room(void **state)
{
        struct offset_room r;

        (void) state;
        /* 1.2, data at 1 MiB, 128 MiB member of which 130048 KiB in use */
        r = geometry_member_room(1, 2, 2048, 260096 + 64, 260096);
        assert_int_equal(r.head_dev_sectors, 2048 - 8 - 72);
        assert_int_equal(r.tail_dev_sectors, 64);
        /* 1.1: the superblock at 0 */
        r = geometry_member_room(1, 1, 2048, 260096, 260096);
        assert_int_equal(r.head_dev_sectors, 2048 - 72);
        assert_int_equal(r.tail_dev_sectors, 0);
        /* data right after the superblock */
        r = geometry_member_room(1, 2, 48, 260096, 260096);
        assert_int_equal(r.head_dev_sectors, 0);
        /* 1.0 and 0.90 never move */
        r = geometry_member_room(1, 0, 0, 270000, 260096);
        assert_int_equal(r.head_dev_sectors + r.tail_dev_sectors, 0);
        r = geometry_member_room(0, 90, 0, 270000, 260096);
        assert_int_equal(r.head_dev_sectors + r.tail_dev_sectors, 0);
}

/* How far start moves data_offset: as mdadm, a grow down, a shrink up, a
 * same-size reshape where there is more room; all of it in whole units;
 * refused below two units and a park distance. */
static void test_offset_move(void **state)
{
        const char *why = NULL;
        int64_t d = 0;

        (void) state;
        /* 64K -> 128K: unit 256; head 1968 -> 1792 (7 units) */
        assert_int_equal(geometry_offset_move(5, 4, 4, 65536, 131072, (struct offset_room) { 1968, 64 }, &d, &why), 0);
        assert_int_equal(d, -1792);
        assert_int_equal(geometry_offset_move(5, 4, 4, 65536, 131072, (struct offset_room) { 262144 - 80, 64 }, &d, &why), 0);
        assert_int_equal(d, -261888);
        /* just enough: three units */
        assert_int_equal(geometry_offset_move(5, 4, 4, 65536, 131072, (struct offset_room) { 768, 0 }, &d, &why), 0);
        assert_int_equal(d, -768);
        /* more room after the data: up */
        assert_int_equal(geometry_offset_move(5, 4, 4, 65536, 131072, (struct offset_room) { 100, 8192 }, &d, &why), 0);
        assert_int_equal(d, 8192);
        /* too little either way */
        assert_int_equal(geometry_offset_move(5, 4, 4, 65536, 131072, (struct offset_room) { 767, 700 }, &d, &why), -ENOSPC);
        assert_non_null(strstr(why, "before or after"));
        /* a grow must go down, even with room only above */
        assert_int_equal(geometry_offset_move(5, 3, 4, 524288, 524288, (struct offset_room) { 0, 1 << 20 }, &d, &why), -ENOSPC);
        assert_non_null(strstr(why, "before the data"));
        /* two units and a park distance (unit x 2 old data disks) */
        assert_int_equal(geometry_offset_move(5, 3, 4, 524288, 524288, (struct offset_room) { 4095, 0 }, &d, &why), -ENOSPC);
        assert_int_equal(geometry_offset_move(5, 3, 4, 524288, 524288, (struct offset_room) { 8192, 0 }, &d, &why), 0);
        assert_int_equal(d, -8192);
        /* a shrink up: 2 x 128 + 128 x 4 old data disks */
        assert_int_equal(geometry_offset_move(6, 6, 5, 65536, 65536, (struct offset_room) { 1 << 20, 767 }, &d, &why), -ENOSPC);
        assert_int_equal(geometry_offset_move(6, 6, 5, 65536, 65536, (struct offset_room) { 1 << 20, 1000 }, &d, &why), 0);
        assert_int_equal(d, 896);
        /* not raid4/5/6 */
        assert_int_equal(geometry_offset_move(1, 2, 2, 65536, 65536, (struct offset_room) { 1 << 20, 0 }, &d, &why), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_init_table),
                cmocka_unit_test(test_align),
                cmocka_unit_test(test_position_forwards),
                cmocka_unit_test(test_position_backwards),
                cmocka_unit_test(test_at_risk),
                cmocka_unit_test(test_next_at_risk),
                cmocka_unit_test(test_kernel_guards),
                cmocka_unit_test(test_kernel_restarts),
                cmocka_unit_test(test_critical_restart),
                cmocka_unit_test(test_total_at_risk),
                cmocka_unit_test(test_raid10),
                cmocka_unit_test(test_raid5_offset),
                cmocka_unit_test(test_member_room),
                cmocka_unit_test(test_offset_move),
                cmocka_unit_test(test_min_window),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
