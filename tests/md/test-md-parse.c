// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include <cmocka.h>

#include "reshaped/md/md-parse.h"

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* The strings are what md.c's *_show() functions print (Linux 6.1). */

static void test_u64(void **state)
{
        static const struct {
                const char *s;
                int r;
                uint64_t v;
        } t[] = {
                { "0\n", 0, 0 },
                { "261120\n", 0, 261120 },
                { "261120", 0, 261120 },
                { "18446744073709551615\n", 0, UINT64_MAX },
                { "18446744073709551616\n", -EINVAL, 0 },       /* overflow */
                { "99999999999999999999999\n", -EINVAL, 0 },
                { "-1\n", -EINVAL, 0 },
                { "+1\n", -EINVAL, 0 },
                { " 1\n", -EINVAL, 0 },
                { "1 \n", -EINVAL, 0 },
                { "1\n\n", -EINVAL, 0 },
                { "1\n2\n", -EINVAL, 0 },
                { "0x10\n", -EINVAL, 0 },
                { "12abc\n", -EINVAL, 0 },
                { "\n", -EINVAL, 0 },
                { "", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                uint64_t v = 12345;
                int r = md_parse_u64(t[i].s, &v);

                assert_int_equal(r, t[i].r);
                assert_int_equal(v, t[i].r == 0 ? t[i].v : 12345);
        }
}

static void test_block_stat(void **state)
{
        uint64_t v = 7;

        (void) state;
        /* 6.1's /sys/block/md0/stat: 17 fields, right-aligned */
        assert_int_equal(md_parse_block_stat_sectors("     317        0    10602       52     2044        0   163224     1708        0     1824     1760        0        0        0        0        0        0\n", &v), 0);
        assert_int_equal(v, 10602 + 163224);
        assert_int_equal(md_parse_block_stat_sectors("1 2 3 4 5 6 7", &v), 0);
        assert_int_equal(v, 10);
        v = 7;
        assert_int_equal(md_parse_block_stat_sectors("1 2 3 4 5 6", &v), -EINVAL);
        assert_int_equal(md_parse_block_stat_sectors("1 2 x 4 5 6 7\n", &v), -EINVAL);
        assert_int_equal(md_parse_block_stat_sectors("", &v), -EINVAL);
        assert_int_equal(md_parse_block_stat_sectors("1 2 -3 4 5 6 7\n", &v), -EINVAL);
        assert_int_equal(md_parse_block_stat_sectors("0 0 18446744073709551615 0 0 0 1\n", &v), -ERANGE);
        assert_int_equal(v, 7);
}

static void test_unsigned(void **state)
{
        unsigned v;

        assert_int_equal(md_parse_unsigned("1\n", &v), 0);
        assert_int_equal(v, 1);
        assert_int_equal(md_parse_unsigned("4294967295\n", &v), 0);
        assert_int_equal(v, 4294967295u);
        assert_int_equal(md_parse_unsigned("4294967296\n", &v), -EINVAL);
        assert_int_equal(md_parse_unsigned("-1\n", &v), -EINVAL);
}

static void test_reshape_position_and_sync_max(void **state)
{
        uint64_t v;

        assert_int_equal(md_parse_reshape_position("none\n", &v), 0);
        assert_true(v == MD_RESHAPE_POSITION_NONE);
        assert_int_equal(md_parse_reshape_position("3145728\n", &v), 0);
        assert_int_equal(v, 3145728);
        assert_int_equal(md_parse_reshape_position("0\n", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(md_parse_reshape_position("max\n", &v), -EINVAL);
        assert_int_equal(md_parse_reshape_position("None\n", &v), -EINVAL);
        assert_int_equal(md_parse_reshape_position("none \n", &v), -EINVAL);
        assert_int_equal(md_parse_reshape_position("-5\n", &v), -EINVAL);
        /* Would be indistinguishable from "none". */
        assert_int_equal(md_parse_reshape_position("18446744073709551615\n", &v), -EINVAL);

        assert_int_equal(md_parse_sync_max("max\n", &v), 0);
        assert_true(v == MD_SYNC_MAX_UNLIMITED);
        assert_int_equal(md_parse_sync_max("1024\n", &v), 0);
        assert_int_equal(v, 1024);
        assert_int_equal(md_parse_sync_max("none\n", &v), -EINVAL);
        assert_int_equal(md_parse_sync_max("maximum\n", &v), -EINVAL);
        assert_int_equal(md_parse_sync_max("18446744073709551616\n", &v), -EINVAL);
}

static void test_sync_completed(void **state)
{
        static const struct {
                const char *s;
                int r;
                enum md_sync_completed_state st;
                uint64_t done, total;
        } t[] = {
                { "none\n", 0, MD_SYNC_COMPLETED_NONE, 0, 0 },
                { "delayed\n", 0, MD_SYNC_COMPLETED_DELAYED, 0, 0 },
                { "0 / 522240\n", 0, MD_SYNC_COMPLETED_RUNNING, 0, 522240 },
                { "131072 / 522240\n", 0, MD_SYNC_COMPLETED_RUNNING, 131072, 522240 },
                { "131072 / 522240", 0, MD_SYNC_COMPLETED_RUNNING, 131072, 522240 },
                { "18446744073709551615 / 18446744073709551615\n", 0, MD_SYNC_COMPLETED_RUNNING,
                  UINT64_MAX, UINT64_MAX },
                { "131072/522240\n", -EINVAL, 0, 0, 0 },
                { "131072 /522240\n", -EINVAL, 0, 0, 0 },
                { "131072 /  522240\n", -EINVAL, 0, 0, 0 },
                { "131072 / \n", -EINVAL, 0, 0, 0 },
                { " / 522240\n", -EINVAL, 0, 0, 0 },
                { "-1 / 522240\n", -EINVAL, 0, 0, 0 },
                { "1 / 2 / 3\n", -EINVAL, 0, 0, 0 },
                { "18446744073709551616 / 1\n", -EINVAL, 0, 0, 0 },
                { "1 / 2\nx\n", -EINVAL, 0, 0, 0 },
                { "idle\n", -EINVAL, 0, 0, 0 },
                { "\n", -EINVAL, 0, 0, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                struct md_sync_completed sc = { .state = 99 };
                int r = md_parse_sync_completed(t[i].s, &sc);

                assert_int_equal(r, t[i].r);
                if (r < 0) {
                        assert_int_equal(sc.state, 99);
                        continue;
                }
                assert_int_equal(sc.state, t[i].st);
                assert_true(sc.completed_dev_sectors == t[i].done);
                assert_true(sc.total_dev_sectors == t[i].total);
        }
}

static void test_sync_action(void **state)
{
        static const struct {
                const char *s;
                enum md_sync_action a;
        } t[] = {
                { "idle\n", MD_SYNC_ACTION_IDLE },
                { "resync\n", MD_SYNC_ACTION_RESYNC },
                { "recover\n", MD_SYNC_ACTION_RECOVER },
                { "check\n", MD_SYNC_ACTION_CHECK },
                { "repair\n", MD_SYNC_ACTION_REPAIR },
                { "reshape\n", MD_SYNC_ACTION_RESHAPE },
                { "frozen\n", MD_SYNC_ACTION_FROZEN },
        };
        static const char *const bad[] = { "", "\n", "Idle\n", "idle \n", "reshap\n", "reshaped\n", "frozen\n\n" };
        enum md_sync_action a;

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                assert_int_equal(md_parse_sync_action(t[i].s, &a), 0);
                assert_int_equal(a, t[i].a);
                /* Round trip through the name we write. */
                assert_int_equal(strncmp(md_sync_action_to_string(a), t[i].s, strlen(t[i].s) - 1), 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(md_parse_sync_action(bad[i], &a), -EINVAL);
        assert_null(md_sync_action_to_string(_MD_SYNC_ACTION_MAX));
}

static void test_array_state(void **state)
{
        static const char *const names[] = {
                "clear", "inactive", "suspended", "readonly", "read-auto", "clean",
                "active", "write-pending", "active-idle", "broken",
        };
        enum md_array_state st;

        assert_int_equal(ELEMENTSOF(names), _MD_ARRAY_STATE_MAX);
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char buf[32];

                snprintf(buf, sizeof(buf), "%s\n", names[i]);
                assert_int_equal(md_parse_array_state(buf, &st), 0);
                assert_int_equal(st, i);
                assert_string_equal(md_array_state_to_string(st), names[i]);
        }
        assert_int_equal(md_parse_array_state("read_auto\n", &st), -EINVAL);
        assert_int_equal(md_parse_array_state("active-\n", &st), -EINVAL);
        assert_int_equal(md_parse_array_state("\n", &st), -EINVAL);
}

static void test_reshape_direction(void **state)
{
        enum md_reshape_direction d;

        assert_int_equal(md_parse_reshape_direction("forwards\n", &d), 0);
        assert_int_equal(d, MD_RESHAPE_DIRECTION_FORWARDS);
        assert_int_equal(md_parse_reshape_direction("backwards\n", &d), 0);
        assert_int_equal(d, MD_RESHAPE_DIRECTION_BACKWARDS);
        assert_int_equal(md_parse_reshape_direction("forward\n", &d), -EINVAL);
        assert_int_equal(md_parse_reshape_direction("unknown\n", &d), -EINVAL);
        assert_string_equal(md_reshape_direction_to_string(MD_RESHAPE_DIRECTION_UNKNOWN), "unknown");
        assert_string_equal(md_reshape_direction_to_string(MD_RESHAPE_DIRECTION_BACKWARDS), "backwards");
}

static void test_level(void **state)
{
        static const struct {
                const char *s;
                int r, level;
        } t[] = {
                { "raid4\n", 0, 4 },
                { "raid5\n", 0, 5 },
                { "raid6\n", 0, 6 },
                { "raid0\n", 0, 0 },
                { "raid1\n", 0, 1 },
                { "raid10\n", 0, 10 },
                { "linear\n", 0, MD_LEVEL_LINEAR },
                { "multipath\n", 0, MD_LEVEL_MULTIPATH },
                { "faulty\n", 0, MD_LEVEL_FAULTY },
                { "container\n", 0, MD_LEVEL_CONTAINER },
                { "", 0, MD_LEVEL_NONE },              /* level_show printed nothing */
                { "5\n", 0, 5 },                       /* no personality: %d */
                { "-1\n", 0, -1 },
                { "-2147483648\n", 0, INT32_MIN },
                { "2147483648\n", -EINVAL, 0 },
                { "-2147483649\n", -EINVAL, 0 },
                { "-\n", -EINVAL, 0 },
                { "raid7\n", -EINVAL, 0 },
                { "RAID5\n", -EINVAL, 0 },
                { "raid5 \n", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                int level = 4242;

                assert_int_equal(md_parse_level(t[i].s, &level), t[i].r);
                assert_int_equal(level, t[i].r == 0 ? t[i].level : 4242);
        }
        assert_string_equal(md_level_to_string(6), "raid6");
        assert_string_equal(md_level_to_string(MD_LEVEL_LINEAR), "linear");
        assert_null(md_level_to_string(7));
}

static void test_new_old(void **state)
{
        static const struct {
                const char *s;
                int r;
                uint32_t new_value, old_value;
        } t[] = {
                { "4\n", 0, 4, 4 },                          /* raid_disks, no reshape */
                { "4 (3)\n", 0, 4, 3 },                      /* raid_disks grow 3 -> 4 */
                { "3 (4)\n", 0, 3, 4 },                      /* shrink */
                { "131072 (65536)\n", 0, 131072, 65536 },    /* chunk_size 64K -> 128K */
                { "2 (18)\n", 0, 2, 18 },                    /* layout */
                { "2147483647\n", 0, INT32_MAX, INT32_MAX },
                { "2147483648\n", -EINVAL, 0, 0 },
                { "4 (2147483648)\n", -EINVAL, 0, 0 },
                { "-1\n", -EINVAL, 0, 0 },
                { "4 (-1)\n", -EINVAL, 0, 0 },
                { "", -ENODATA, 0, 0 },                      /* raid_disks == 0 */
                { "\n", -ENODATA, 0, 0 },
                { "4 (3\n", -EINVAL, 0, 0 },
                { "4 ()\n", -EINVAL, 0, 0 },
                { "4 (3))\n", -EINVAL, 0, 0 },
                { "4(3)\n", -EINVAL, 0, 0 },
                { " (3)\n", -EINVAL, 0, 0 },
                { "4  (3)\n", -EINVAL, 0, 0 },
                { "4 (3) \n", -EINVAL, 0, 0 },
                { "4 (3)\n\n", -EINVAL, 0, 0 },
                { "four\n", -EINVAL, 0, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                uint32_t n = 7, o = 7;

                assert_int_equal(md_parse_new_old(t[i].s, &n, &o), t[i].r);
                if (t[i].r == 0) {
                        assert_int_equal(n, t[i].new_value);
                        assert_int_equal(o, t[i].old_value);
                } else {
                        assert_int_equal(n, 7);
                        assert_int_equal(o, 7);
                }
        }
}

static void test_metadata_version(void **state)
{
        struct md_metadata_version v;

        assert_int_equal(md_parse_metadata_version("0.90\n", &v), 0);
        assert_int_equal(v.kind, MD_METADATA_NATIVE);
        assert_int_equal(v.major, 0);
        assert_int_equal(v.minor, 90);
        /* A 0.90 array mid-reshape shows its superblock's minor 91. */
        assert_int_equal(md_parse_metadata_version("0.91\n", &v), 0);
        assert_int_equal(v.minor, 91);
        assert_int_equal(md_parse_metadata_version("1.2\n", &v), 0);
        assert_int_equal(v.kind, MD_METADATA_NATIVE);
        assert_int_equal(v.major, 1);
        assert_int_equal(v.minor, 2);
        assert_int_equal(md_parse_metadata_version("1.0\n", &v), 0);
        assert_int_equal(v.minor, 0);
        assert_int_equal(md_parse_metadata_version("none\n", &v), 0);
        assert_int_equal(v.kind, MD_METADATA_NONE);
        assert_int_equal(md_parse_metadata_version("external:imsm\n", &v), 0);
        assert_int_equal(v.kind, MD_METADATA_EXTERNAL);
        assert_string_equal(v.external, "imsm");
        assert_int_equal(md_parse_metadata_version("external:/md127/0\n", &v), 0);
        assert_string_equal(v.external, "/md127/0");

        assert_int_equal(md_parse_metadata_version("external:\n", &v), -EINVAL);
        assert_int_equal(md_parse_metadata_version("external:0123456789012345678901234567890123\n", &v),
                         -EINVAL);
        assert_int_equal(md_parse_metadata_version("1\n", &v), -EINVAL);
        assert_int_equal(md_parse_metadata_version("1.\n", &v), -EINVAL);
        assert_int_equal(md_parse_metadata_version(".2\n", &v), -EINVAL);
        assert_int_equal(md_parse_metadata_version("1.2.3\n", &v), -EINVAL);
        assert_int_equal(md_parse_metadata_version("-1.2\n", &v), -EINVAL);
        assert_int_equal(md_parse_metadata_version("1.2 \n", &v), -EINVAL);
        assert_int_equal(md_parse_metadata_version("99999999999.2\n", &v), -EINVAL);
        assert_int_equal(md_parse_metadata_version("\n", &v), -EINVAL);
}

static void test_sync_speed(void **state)
{
        struct md_sync_speed sp;

        assert_int_equal(md_parse_sync_speed("1000 (system)\n", &sp), 0);
        assert_int_equal(sp.kib_per_sec, 1000);
        assert_false(sp.local);
        assert_int_equal(md_parse_sync_speed("50000 (local)\n", &sp), 0);
        assert_int_equal(sp.kib_per_sec, 50000);
        assert_true(sp.local);
        assert_int_equal(md_parse_sync_speed("1000\n", &sp), -EINVAL);
        assert_int_equal(md_parse_sync_speed(" (local)\n", &sp), -EINVAL);
        assert_int_equal(md_parse_sync_speed("1000 (remote)\n", &sp), -EINVAL);
        assert_int_equal(md_parse_sync_speed("-1 (local)\n", &sp), -EINVAL);
        assert_int_equal(md_parse_sync_speed("2147483648 (local)\n", &sp), -EINVAL);
        assert_int_equal(md_parse_sync_speed("1000 (system)x\n", &sp), -EINVAL);
}

static void test_member_state(void **state)
{
        static const struct {
                const char *s;
                int r;
                unsigned flags;
        } t[] = {
                { "in_sync\n", 0, MD_MEMBER_IN_SYNC },
                { "spare\n", 0, MD_MEMBER_SPARE },
                { "faulty\n", 0, MD_MEMBER_FAULTY },
                { "journal\n", 0, MD_MEMBER_JOURNAL },
                { "in_sync,write_mostly\n", 0, MD_MEMBER_IN_SYNC | MD_MEMBER_WRITE_MOSTLY },
                { "faulty,blocked,write_error\n", 0,
                  MD_MEMBER_FAULTY | MD_MEMBER_BLOCKED | MD_MEMBER_WRITE_ERROR },
                { "in_sync,want_replacement\n", 0, MD_MEMBER_IN_SYNC | MD_MEMBER_WANT_REPLACEMENT },
                { "spare,replacement\n", 0, MD_MEMBER_SPARE | MD_MEMBER_REPLACEMENT },
                { "in_sync,external_bbl,failfast\n", 0,
                  MD_MEMBER_IN_SYNC | MD_MEMBER_EXTERNAL_BBL | MD_MEMBER_FAILFAST },
                { "in_sync,new_flag_2030\n", 0, MD_MEMBER_IN_SYNC | MD_MEMBER_OTHER },
                { "\n", 0, 0 },
                { "in_sync,\n", -EINVAL, 0 },
                { ",in_sync\n", -EINVAL, 0 },
                { "in_sync,,spare\n", -EINVAL, 0 },
                { "in_sync, spare\n", -EINVAL, 0 },
                { "In_Sync\n", -EINVAL, 0 },
                { "in_sync\n\n", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                unsigned flags = 0xdead;

                assert_int_equal(md_parse_member_state(t[i].s, &flags), t[i].r);
                assert_int_equal(flags, t[i].r == 0 ? t[i].flags : 0xdead);
        }
}

static void test_slot_and_devnum(void **state)
{
        dev_t d;
        int slot;

        assert_int_equal(md_parse_slot("0\n", &slot), 0);
        assert_int_equal(slot, 0);
        assert_int_equal(md_parse_slot("3\n", &slot), 0);
        assert_int_equal(slot, 3);
        assert_int_equal(md_parse_slot("none\n", &slot), 0);
        assert_int_equal(slot, MD_SLOT_NONE);
        assert_int_equal(md_parse_slot("journal\n", &slot), 0);
        assert_int_equal(slot, MD_SLOT_JOURNAL);
        assert_int_equal(md_parse_slot("-1\n", &slot), -EINVAL);
        assert_int_equal(md_parse_slot("2147483648\n", &slot), -EINVAL);
        assert_int_equal(md_parse_slot("\n", &slot), -EINVAL);

        assert_int_equal(md_parse_devnum("8:16\n", &d), 0);
        assert_int_equal(major(d), 8);
        assert_int_equal(minor(d), 16);
        assert_int_equal(md_parse_devnum("259:1048575\n", &d), 0);
        assert_int_equal(major(d), 259);
        assert_int_equal(minor(d), 1048575);
        assert_int_equal(md_parse_devnum("8\n", &d), -EINVAL);
        assert_int_equal(md_parse_devnum("8:\n", &d), -EINVAL);
        assert_int_equal(md_parse_devnum(":16\n", &d), -EINVAL);
        assert_int_equal(md_parse_devnum("8:16:1\n", &d), -EINVAL);
        assert_int_equal(md_parse_devnum("8:-1\n", &d), -EINVAL);
        assert_int_equal(md_parse_devnum("4294967296:0\n", &d), -EINVAL);
}

/* Sectors of [lo, hi) in the window after the first store, as a bitmap
 * over a small range, to check the plan against the two rules. */
static uint64_t window_bits(uint64_t lo, uint64_t hi)
{
        uint64_t bits = 0;

        for (uint64_t s = lo; s < hi && s < 64; s++)
                bits |= UINT64_C(1) << s;
        return bits;
}

static void apply(const struct md_suspend_store *st, uint64_t *lo, uint64_t *hi)
{
        if (st->bound == MD_SUSPEND_LO)
                *lo = st->value_array_sectors;
        else
                *hi = st->value_array_sectors;
}

static void test_suspend_plan_table(void **state)
{
        static const struct {
                uint64_t cur_lo, cur_hi, want_lo, want_hi;
                size_t n;
                enum md_suspend_bound first;
        } t[] = {
                { 0, 0, 0, 0, 0, 0 },
                { 10, 20, 10, 20, 0, 0 },
                { 0, 0, 0, 20, 1, MD_SUSPEND_HI },           /* first window from 0 */
                { 10, 20, 10, 30, 1, MD_SUSPEND_HI },
                { 10, 20, 15, 20, 1, MD_SUSPEND_LO },
                { 10, 20, 15, 25, 2, MD_SUSPEND_HI },        /* moving up, overlap */
                { 10, 20, 20, 30, 2, MD_SUSPEND_HI },        /* moving up, adjacent */
                { 10, 20, 30, 40, 2, MD_SUSPEND_LO },        /* moving up past a gap */
                { 20, 30, 15, 25, 2, MD_SUSPEND_LO },        /* moving down, overlap */
                { 20, 30, 10, 20, 2, MD_SUSPEND_LO },        /* moving down, adjacent */
                { 30, 40, 10, 20, 2, MD_SUSPEND_HI },        /* moving down past a gap */
                { 10, 40, 20, 30, 2, MD_SUSPEND_HI },        /* shrinking: both keep the new */
                { 20, 30, 10, 40, 2, MD_SUSPEND_HI },        /* growing */
                { 5, 5, 20, 30, 2, MD_SUSPEND_LO },          /* from empty: nothing extra */
                { 50, 40, 20, 30, 2, MD_SUSPEND_HI },        /* from inverted (empty) */
                { 20, 30, 0, 0, 2, MD_SUSPEND_HI },          /* clear: hi -> 0 empties it first */
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                struct md_suspend_store steps[2];
                uint64_t lo = t[i].cur_lo, hi = t[i].cur_hi;
                size_t n;

                n = md_suspend_plan(t[i].cur_lo, t[i].cur_hi, t[i].want_lo, t[i].want_hi, steps);
                assert_int_equal(n, t[i].n);
                if (n > 0)
                        assert_int_equal(steps[0].bound, t[i].first);
                for (size_t k = 0; k < n; k++)
                        apply(&steps[k], &lo, &hi);
                assert_int_equal(lo, n == 0 ? t[i].cur_lo : t[i].want_lo);
                assert_int_equal(hi, n == 0 ? t[i].cur_hi : t[i].want_hi);
                if (n == 2)
                        assert_int_not_equal(steps[0].bound, steps[1].bound);
        }
}

/* Every small (cur, want) pair: only changed bounds are stored, the end
 * state is want, and the window in between keeps cur ∩ want suspended and
 * suspends nothing outside cur ∪ want. */
static void test_suspend_plan_exhaustive(void **state)
{
        for (uint64_t cl = 0; cl < 8; cl++)
        for (uint64_t ch = 0; ch < 8; ch++)
        for (uint64_t wl = 0; wl < 8; wl++)
        for (uint64_t wh = 0; wh < 8; wh++) {
                struct md_suspend_store steps[2];
                uint64_t lo = cl, hi = ch, cur = window_bits(cl, ch), want = window_bits(wl, wh);
                size_t n = md_suspend_plan(cl, ch, wl, wh, steps);

                assert_int_equal(n, (cl != wl) + (ch != wh));
                for (size_t k = 0; k < n; k++) {
                        apply(&steps[k], &lo, &hi);
                        if (k == 0 && n == 2) {
                                uint64_t mid = window_bits(lo, hi);

                                assert_true((mid & (cur & want)) == (cur & want));
                                assert_true((mid & ~(cur | want)) == 0);
                        }
                }
                assert_int_equal(lo, wl);
                assert_int_equal(hi, wh);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_u64),
                cmocka_unit_test(test_unsigned),
                cmocka_unit_test(test_block_stat),
                cmocka_unit_test(test_reshape_position_and_sync_max),
                cmocka_unit_test(test_sync_completed),
                cmocka_unit_test(test_sync_action),
                cmocka_unit_test(test_array_state),
                cmocka_unit_test(test_reshape_direction),
                cmocka_unit_test(test_level),
                cmocka_unit_test(test_new_old),
                cmocka_unit_test(test_metadata_version),
                cmocka_unit_test(test_sync_speed),
                cmocka_unit_test(test_member_state),
                cmocka_unit_test(test_slot_and_devnum),
                cmocka_unit_test(test_suspend_plan_table),
                cmocka_unit_test(test_suspend_plan_exhaustive),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
