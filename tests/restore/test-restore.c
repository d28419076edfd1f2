// SPDX-License-Identifier: GPL-2.0-or-later
/* What reshaped restore writes back, and when --invalid-backup is safe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reshaped/restore/restore.h"

static struct backup_header header(bool ext, uint64_t s0, uint64_t l0, uint64_t s1, uint64_t l1,
                                   uint64_t resume)
{
        struct backup_header h = { .format = 2, .has_extension = ext, .resume_array_sectors = resume };

        h.sections[0] = (struct backup_section) { s0, l0, 0 };
        h.sections[1] = (struct backup_section) { s1, l1, 0 };
        return h;
}

static void expect_range(const struct restore_plan *p, unsigned i, unsigned slot, uint64_t lo, uint64_t hi)
{
        assert_true(i < p->n_ranges);
        assert_int_equal(p->ranges[i].slot, slot);
        assert_int_equal(p->ranges[i].lo_array_sectors, lo);
        assert_int_equal(p->ranges[i].hi_array_sectors, hi);
}

/* Clean stop: both slots empty, the kernel held at the resume position. */
static void test_empty_at_resume(void **state)
{
        struct backup_header h = header(true, 0, 0, 0, 0, 6144);
        struct restore_plan p;

        (void) state;
        restore_plan_make(&h, false, 6144, false, &p);
        assert_int_equal(p.verdict, RESTORE_OK);
        assert_int_equal(p.n_ranges, 0);
        assert_true(restore_invalid_backup_safe(&h, 6144));
}

static void test_empty_elsewhere(void **state)
{
        struct backup_header h = header(true, 0, 0, 0, 0, 6144);
        struct restore_plan p;

        (void) state;
        restore_plan_make(&h, false, 12288, false, &p);
        assert_int_equal(p.verdict, RESTORE_RESUME_ELSEWHERE);
        assert_false(restore_invalid_backup_safe(&h, 12288));
        /* Resume 0 before the first window is a position like any other. */
        h.resume_array_sectors = 0;
        restore_plan_make(&h, false, 0, false, &p);
        assert_int_equal(p.verdict, RESTORE_OK);
        assert_true(restore_invalid_backup_safe(&h, 0));
}

/* Where raid5 guards the position itself (a grow past its first units)
 * no backup is needed: empty, behind or mdadm's, and sections at the
 * position are still written back. */
static void test_kernel_guarded(void **state)
{
        struct backup_header h = header(true, 0, 0, 0, 0, 6144);
        struct restore_plan p;

        (void) state;
        restore_plan_make(&h, false, 12288, true, &p);
        assert_int_equal(p.verdict, RESTORE_OK);
        assert_int_equal(p.n_ranges, 0);
        assert_true(p.kernel_guarded);

        h = header(true, 0, 2048, 2048, 2048, 0);
        restore_plan_make(&h, false, 12288, false, &p);
        assert_int_equal(p.verdict, RESTORE_BEHIND);
        restore_plan_make(&h, false, 12288, true, &p);
        assert_int_equal(p.verdict, RESTORE_OK);
        assert_true(p.kernel_guarded);

        h = header(false, 0, 0, 0, 0, 0);
        restore_plan_make(&h, false, 12288, true, &p);
        assert_int_equal(p.verdict, RESTORE_OK);

        h = header(true, 12288, 2048, 0, 0, 0);
        restore_plan_make(&h, false, 12288, true, &p);
        assert_int_equal(p.verdict, RESTORE_OK);
        assert_false(p.kernel_guarded);
        assert_int_equal(p.n_ranges, 1);
        expect_range(&p, 0, 0, 12288, 14336);
}

/* mdadm's file records no resume position: empty proves nothing. */
static void test_empty_without_extension(void **state)
{
        struct backup_header h = header(false, 0, 0, 0, 0, 0);
        struct restore_plan p;

        (void) state;
        restore_plan_make(&h, false, 0, false, &p);
        assert_int_equal(p.verdict, RESTORE_NO_RESUME);
        assert_false(restore_invalid_backup_safe(&h, 0));
}

/* A section holds the position: write back only from the position on. */
static void test_straddling_section(void **state)
{
        struct backup_header h = header(true, 1000, 2000, 0, 0, 0);
        struct restore_plan p;

        (void) state;
        restore_plan_make(&h, false, 1500, false, &p);
        assert_int_equal(p.verdict, RESTORE_OK);
        assert_int_equal(p.n_ranges, 1);
        expect_range(&p, 0, 0, 1500, 3000);
        assert_false(restore_invalid_backup_safe(&h, 1500));
}

/* Older window done, newer beyond it: only the newer one is written. */
static void test_two_windows(void **state)
{
        struct backup_header h = header(true, 4000, 2000, 2000, 2000, 0);
        struct restore_plan p;

        (void) state;
        restore_plan_make(&h, false, 4000, false, &p);
        assert_int_equal(p.verdict, RESTORE_OK);
        assert_int_equal(p.n_ranges, 1);
        expect_range(&p, 0, 0, 4000, 6000);

        /* Position inside the older one: both, contiguous. */
        restore_plan_make(&h, false, 3000, false, &p);
        assert_int_equal(p.verdict, RESTORE_OK);
        assert_int_equal(p.n_ranges, 2);
        expect_range(&p, 0, 0, 4000, 6000);
        expect_range(&p, 1, 1, 3000, 4000);
}

/* Held exactly at the end of the newest window: nothing was torn. */
static void test_at_end_of_backup(void **state)
{
        struct backup_header h = header(true, 4000, 2000, 2000, 2000, 0);
        struct restore_plan p;

        (void) state;
        restore_plan_make(&h, false, 6000, false, &p);
        assert_int_equal(p.verdict, RESTORE_OK);
        assert_int_equal(p.n_ranges, 0);
        restore_plan_make(&h, false, 6008, false, &p);
        assert_int_equal(p.verdict, RESTORE_BEHIND);
}

static void test_gap(void **state)
{
        struct backup_header h = header(true, 2000, 1000, 0, 0, 0);
        struct restore_plan p;

        (void) state;
        restore_plan_make(&h, false, 1000, false, &p);
        assert_int_equal(p.verdict, RESTORE_GAP);
        assert_int_equal(p.n_ranges, 0);
        /* Two sections with a hole between them beyond the position. */
        h = header(true, 1000, 1000, 3000, 1000, 0);
        restore_plan_make(&h, false, 1500, false, &p);
        assert_int_equal(p.verdict, RESTORE_GAP);
}

/* Backwards the done side is above the position. */
static void test_backwards(void **state)
{
        struct backup_header h = header(true, 8000, 2000, 6000, 2000, 0);
        struct restore_plan p;

        (void) state;
        restore_plan_make(&h, true, 9000, false, &p);
        assert_int_equal(p.verdict, RESTORE_OK);
        assert_int_equal(p.n_ranges, 2);
        expect_range(&p, 0, 0, 8000, 9000);
        expect_range(&p, 1, 1, 6000, 8000);
        restore_plan_make(&h, true, 6000, false, &p);
        assert_int_equal(p.verdict, RESTORE_OK);
        assert_int_equal(p.n_ranges, 0);
        restore_plan_make(&h, true, 5000, false, &p);
        assert_int_equal(p.verdict, RESTORE_BEHIND);
        restore_plan_make(&h, true, 12000, false, &p);
        assert_int_equal(p.verdict, RESTORE_GAP);
}

static void test_strerror(void **state)
{
        (void) state;
        for (int v = 0; v < _RESTORE_VERDICT_MAX; v++)
                assert_non_null(restore_verdict_strerror((enum restore_verdict) v));
        assert_string_equal(restore_verdict_strerror(_RESTORE_VERDICT_MAX), "unknown verdict");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty_at_resume),
                cmocka_unit_test(test_empty_elsewhere),
                cmocka_unit_test(test_empty_without_extension),
                cmocka_unit_test(test_straddling_section),
                cmocka_unit_test(test_two_windows),
                cmocka_unit_test(test_at_end_of_backup),
                cmocka_unit_test(test_gap),
                cmocka_unit_test(test_kernel_guarded),
                cmocka_unit_test(test_backwards),
                cmocka_unit_test(test_strerror),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
