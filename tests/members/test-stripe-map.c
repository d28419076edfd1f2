// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The layout map against md's own diagrams (raid5 with four disks in its
 * four rotating layouts, raid6 with five), and the parity rebuild against
 * a plain byte-at-a-time P/Q written here: for every raid6 layout and
 * every pair of lost slots (data, P, Q), what parity_rebuild() gives back
 * is what was lost. That the syndrome order is md's is proven against the
 * kernel by the VM scenario member-read-layouts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "reshaped/members/parity.h"
#include "reshaped/members/stripe-map.h"

#define LEN 4096

struct expect {
        uint32_t algorithm;
        int p[4];
        int data[4][3];
};

static void test_raid5_diagrams(void **state)
{
        /* md's layouts on four disks, stripes 0-3: the slot of P and of
         * data chunks 0, 1, 2 (raid5.c, and mdadm's md(4) pictures). */
        static const struct expect e[] = {
                { 0, { 3, 2, 1, 0 }, { { 0, 1, 2 }, { 0, 1, 3 }, { 0, 2, 3 }, { 1, 2, 3 } } },
                { 1, { 0, 1, 2, 3 }, { { 1, 2, 3 }, { 0, 2, 3 }, { 0, 1, 3 }, { 0, 1, 2 } } },
                { 2, { 3, 2, 1, 0 }, { { 0, 1, 2 }, { 3, 0, 1 }, { 2, 3, 0 }, { 1, 2, 3 } } },
                { 3, { 0, 1, 2, 3 }, { { 1, 2, 3 }, { 2, 3, 0 }, { 3, 0, 1 }, { 0, 1, 2 } } },
                { 4, { 0, 0, 0, 0 }, { { 1, 2, 3 }, { 1, 2, 3 }, { 1, 2, 3 }, { 1, 2, 3 } } },
                { 5, { 3, 3, 3, 3 }, { { 0, 1, 2 }, { 0, 1, 2 }, { 0, 1, 2 }, { 0, 1, 2 } } },
        };
        (void) state;

        for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
                struct stripe_layout l = { .level = 5, .raid_disks = 4, .chunk_sectors = 128,
                                           .algorithm = e[i].algorithm };
                const char *why = NULL;

                assert_int_equal(stripe_layout_check(&l, &why), 0);
                for (uint64_t s = 0; s < 4; s++) {
                        struct stripe_row row;

                        stripe_layout_row(&l, s, &row);
                        assert_int_equal(row.data_disks, 3);
                        assert_int_equal(row.p_disk, e[i].p[s]);
                        assert_int_equal(row.q_disk, -1);
                        for (unsigned k = 0; k < 3; k++)
                                assert_int_equal(row.data_disk[k], e[i].data[s][k]);
                }
        }
}

static void test_raid6_left_symmetric(void **state)
{
        /* Stripe 0 is Q D0 D1 D2 P (P on the last disk, Q after it,
         * wrapping), stripe 1 D0 D1 D2 P Q. */
        struct stripe_layout l = { .level = 6, .raid_disks = 5, .chunk_sectors = 128, .algorithm = 2 };
        struct stripe_row row;
        (void) state;

        stripe_layout_row(&l, 0, &row);
        assert_int_equal(row.p_disk, 4);
        assert_int_equal(row.q_disk, 0);
        assert_int_equal(row.data_disk[0], 1);
        assert_int_equal(row.data_disk[2], 3);
        /* Q's coefficients count from the slot after Q */
        assert_int_equal(row.syndrome[1], 0);
        assert_int_equal(row.syndrome[3], 2);
        stripe_layout_row(&l, 1, &row);
        assert_int_equal(row.p_disk, 3);
        assert_int_equal(row.q_disk, 4);
        assert_int_equal(row.data_disk[0], 0);
        assert_int_equal(row.syndrome[0], 0);
        assert_int_equal(row.syndrome[2], 2);
}

static void test_refuses(void **state)
{
        struct stripe_layout l = { .level = 5, .raid_disks = 4, .chunk_sectors = 128, .algorithm = 18 };
        const char *why = NULL;
        (void) state;

        /* a raid6-only layout at level 5, a raid10, no chunk, too few disks */
        assert_int_equal(stripe_layout_check(&l, &why), -EINVAL);
        l = (struct stripe_layout) { .level = 10, .raid_disks = 4, .chunk_sectors = 128 };
        assert_int_equal(stripe_layout_check(&l, &why), -EINVAL);
        l = (struct stripe_layout) { .level = 5, .raid_disks = 4 };
        assert_int_equal(stripe_layout_check(&l, &why), -EINVAL);
        l = (struct stripe_layout) { .level = 6, .raid_disks = 3, .chunk_sectors = 128 };
        assert_int_equal(stripe_layout_check(&l, &why), -EINVAL);
}

static uint8_t *aligned(void)
{
        void *p = NULL;

        assert_int_equal(posix_memalign(&p, 64, LEN), 0);
        return p;
}

static uint8_t gf_mul2(uint8_t a)
{
        return (uint8_t) ((a << 1) ^ (a & 0x80 ? 0x1d : 0));
}

static uint8_t gf_mul_ref(uint8_t a, uint8_t b)
{
        uint8_t r = 0;

        for (; b; b >>= 1, a = gf_mul2(a))
                if (b & 1)
                        r ^= a;
        return r;
}

static uint8_t gf_pow2_ref(unsigned n)
{
        uint8_t r = 1;

        while (n--)
                r = gf_mul2(r);
        return r;
}

/* Fills every data slot with random bytes and P, Q by the definition. */
static void fill_row(const struct stripe_row *row, unsigned n, uint8_t **blk)
{
        for (unsigned i = 0; i < n; i++)
                memset(blk[i], 0, LEN);
        for (unsigned k = 0; k < row->data_disks; k++) {
                int d = row->data_disk[k];

                for (size_t b = 0; b < LEN; b++) {
                        uint8_t v = (uint8_t) rand();

                        blk[d][b] = v;
                        blk[row->p_disk][b] ^= v;
                        if (row->q_disk >= 0)
                                blk[row->q_disk][b] ^= gf_mul_ref(gf_pow2_ref(row->syndrome[d]), v);
                }
        }
}

static void rebuild_every_pair(const struct stripe_layout *l, uint64_t stripe)
{
        unsigned n = l->raid_disks;
        uint8_t *blk[STRIPE_MAX_DISKS], *orig[STRIPE_MAX_DISKS], *zero, *tmp[3];
        struct stripe_row row;

        stripe_layout_row(l, stripe, &row);
        for (unsigned i = 0; i < n; i++) {
                blk[i] = aligned();
                orig[i] = malloc(LEN);
        }
        zero = aligned();
        memset(zero, 0, LEN);
        for (unsigned t = 0; t < 3; t++)
                tmp[t] = aligned();
        fill_row(&row, n, blk);
        for (unsigned i = 0; i < n; i++)
                memcpy(orig[i], blk[i], LEN);

        for (unsigned a = 0; a < n; a++)
                for (unsigned b = a; b < n; b++) {
                        uint64_t missing = (UINT64_C(1) << a) | (UINT64_C(1) << b);

                        memset(blk[a], 0xa5, LEN);
                        memset(blk[b], 0x5a, LEN);
                        assert_int_equal(parity_rebuild(&row, missing, (void **) blk, LEN, zero, (void **) tmp), 0);
                        for (unsigned k = 0; k < row.data_disks; k++) {
                                int d = row.data_disk[k];

                                if ((missing >> d) & 1)
                                        assert_memory_equal(blk[d], orig[d], LEN);
                        }
                        memcpy(blk[a], orig[a], LEN);
                        memcpy(blk[b], orig[b], LEN);
                }
        for (unsigned i = 0; i < n; i++) {
                free(blk[i]);
                free(orig[i]);
        }
        free(zero);
        for (unsigned t = 0; t < 3; t++)
                free(tmp[t]);
}

static void test_raid6_rebuild(void **state)
{
        static const uint32_t layouts[] = { 0, 1, 2, 3, 4, 5, 8, 9, 10, 16, 17, 18, 19, 20 };
        (void) state;

        srand(7);
        for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
                struct stripe_layout l = { .level = 6, .raid_disks = 6, .chunk_sectors = 8,
                                           .algorithm = layouts[i] };
                const char *why = NULL;

                assert_int_equal(stripe_layout_check(&l, &why), 0);
                for (uint64_t s = 0; s < 6; s++)
                        rebuild_every_pair(&l, s);
        }
}

static void test_raid5_rebuild_and_limits(void **state)
{
        struct stripe_layout l = { .level = 5, .raid_disks = 4, .chunk_sectors = 8, .algorithm = 2 };
        uint8_t *blk[4], *zero, *tmp[3], orig[LEN];
        struct stripe_row row;
        (void) state;

        stripe_layout_row(&l, 1, &row);
        for (unsigned i = 0; i < 4; i++)
                blk[i] = aligned();
        zero = aligned();
        memset(zero, 0, LEN);
        for (unsigned t = 0; t < 3; t++)
                tmp[t] = aligned();
        fill_row(&row, 4, blk);
        memcpy(orig, blk[row.data_disk[1]], LEN);
        memset(blk[row.data_disk[1]], 0, LEN);
        assert_int_equal(parity_rebuild(&row, UINT64_C(1) << row.data_disk[1], (void **) blk, LEN, zero,
                                        (void **) tmp), 0);
        assert_memory_equal(blk[row.data_disk[1]], orig, LEN);
        /* two lost on raid5, or a data chunk and P, cannot be rebuilt */
        assert_int_equal(parity_rebuild(&row, (UINT64_C(1) << row.data_disk[0]) | (UINT64_C(1) << row.data_disk[1]),
                                        (void **) blk, LEN, zero, (void **) tmp), -EIO);
        assert_int_equal(parity_rebuild(&row, (UINT64_C(1) << row.data_disk[0]) | (UINT64_C(1) << row.p_disk),
                                        (void **) blk, LEN, zero, (void **) tmp), -EIO);
        for (unsigned i = 0; i < 4; i++)
                free(blk[i]);
        free(zero);
        for (unsigned t = 0; t < 3; t++)
                free(tmp[t]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_raid5_diagrams),
                cmocka_unit_test(test_raid6_left_symmetric),
                cmocka_unit_test(test_refuses),
                cmocka_unit_test(test_raid6_rebuild),
                cmocka_unit_test(test_raid5_rebuild_and_limits),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
