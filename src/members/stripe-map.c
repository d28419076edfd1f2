// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>

#include "reshaped/members/stripe-map.h"

/* md's layout numbers (drivers/md/raid5.h). */
enum {
        ALGORITHM_LEFT_ASYMMETRIC = 0,
        ALGORITHM_RIGHT_ASYMMETRIC = 1,
        ALGORITHM_LEFT_SYMMETRIC = 2,
        ALGORITHM_RIGHT_SYMMETRIC = 3,
        ALGORITHM_PARITY_0 = 4,
        ALGORITHM_PARITY_N = 5,
        ALGORITHM_ROTATING_ZERO_RESTART = 8,
        ALGORITHM_ROTATING_N_RESTART = 9,
        ALGORITHM_ROTATING_N_CONTINUE = 10,
        ALGORITHM_LEFT_ASYMMETRIC_6 = 16,
        ALGORITHM_RIGHT_ASYMMETRIC_6 = 17,
        ALGORITHM_LEFT_SYMMETRIC_6 = 18,
        ALGORITHM_RIGHT_SYMMETRIC_6 = 19,
        ALGORITHM_PARITY_0_6 = 20,
};

static unsigned parity_disks(int level)
{
        return level == 6 ? 2 : 1;
}

int stripe_layout_check(const struct stripe_layout *l, const char **why)
{
        if (l->level != 4 && l->level != 5 && l->level != 6) {
                *why = "only raid4, raid5 and raid6 keep parity stripes";
                return -EINVAL;
        }
        if (l->raid_disks > STRIPE_MAX_DISKS) {
                *why = "the array has more than 64 members";
                return -EINVAL;
        }
        if (l->raid_disks < parity_disks(l->level) + 1 + (l->level == 6)) {
                *why = "the array has too few members for its level";
                return -EINVAL;
        }
        if (!l->chunk_sectors) {
                *why = "the chunk size is zero";
                return -EINVAL;
        }
        if (l->level == 4)
                return 0;
        switch (l->algorithm) {
        case ALGORITHM_LEFT_ASYMMETRIC:
        case ALGORITHM_RIGHT_ASYMMETRIC:
        case ALGORITHM_LEFT_SYMMETRIC:
        case ALGORITHM_RIGHT_SYMMETRIC:
        case ALGORITHM_PARITY_0:
        case ALGORITHM_PARITY_N:
                return 0;
        case ALGORITHM_ROTATING_ZERO_RESTART:
        case ALGORITHM_ROTATING_N_RESTART:
        case ALGORITHM_ROTATING_N_CONTINUE:
        case ALGORITHM_LEFT_ASYMMETRIC_6:
        case ALGORITHM_RIGHT_ASYMMETRIC_6:
        case ALGORITHM_LEFT_SYMMETRIC_6:
        case ALGORITHM_RIGHT_SYMMETRIC_6:
        case ALGORITHM_PARITY_0_6:
                if (l->level == 6)
                        return 0;
                break;
        }
        *why = "md has no such layout for this level";
        return -EINVAL;
}

unsigned stripe_layout_data_disks(const struct stripe_layout *l)
{
        return l->raid_disks - parity_disks(l->level);
}

uint64_t stripe_layout_stripe_sectors(const struct stripe_layout *l)
{
        return l->chunk_sectors * stripe_layout_data_disks(l);
}

/* raid6's asymmetric layouts: Q follows P, wrapping to slot 0, and the
 * data skips both. */
static void place_q_after_p(int pd_idx, int raid_disks, int *dd_idx, int *qd_idx)
{
        *qd_idx = pd_idx + 1;
        if (pd_idx == raid_disks - 1) {
                (*dd_idx)++;
                *qd_idx = 0;
        } else if (*dd_idx >= pd_idx) {
                *dd_idx += 2;
        }
}

/* raid5_compute_sector(): the slot of data chunk @k of @stripe, and where
 * P and Q lie. Variable names follow raid5.c. */
static int compute_disk(const struct stripe_layout *l, uint64_t stripe, unsigned k, int *pd_ret,
                        int *qd_ret, bool *ddf_ret)
{
        int raid_disks = (int) l->raid_disks;
        int data_disks = (int) stripe_layout_data_disks(l);
        int dd_idx = (int) k, pd_idx = -1, qd_idx = -1;
        uint64_t stripe2 = stripe;
        bool ddf = false;

        switch (l->level) {
        case 4:
                pd_idx = data_disks;
                break;
        case 5:
                switch (l->algorithm) {
                case ALGORITHM_LEFT_ASYMMETRIC:
                        pd_idx = data_disks - (int) (stripe2 % (uint64_t) raid_disks);
                        if (dd_idx >= pd_idx)
                                dd_idx++;
                        break;
                case ALGORITHM_RIGHT_ASYMMETRIC:
                        pd_idx = (int) (stripe2 % (uint64_t) raid_disks);
                        if (dd_idx >= pd_idx)
                                dd_idx++;
                        break;
                case ALGORITHM_LEFT_SYMMETRIC:
                        pd_idx = data_disks - (int) (stripe2 % (uint64_t) raid_disks);
                        dd_idx = (pd_idx + 1 + dd_idx) % raid_disks;
                        break;
                case ALGORITHM_RIGHT_SYMMETRIC:
                        pd_idx = (int) (stripe2 % (uint64_t) raid_disks);
                        dd_idx = (pd_idx + 1 + dd_idx) % raid_disks;
                        break;
                case ALGORITHM_PARITY_0:
                        pd_idx = 0;
                        dd_idx++;
                        break;
                case ALGORITHM_PARITY_N:
                        pd_idx = data_disks;
                        break;
                }
                break;
        case 6:
                switch (l->algorithm) {
                case ALGORITHM_LEFT_ASYMMETRIC:
                case ALGORITHM_ROTATING_N_RESTART:
                        /* ROTATING_N_RESTART: as left asymmetric, but the
                         * first stripe is D D D P Q. */
                        if (l->algorithm == ALGORITHM_ROTATING_N_RESTART) {
                                stripe2 += 1;
                                ddf = true;
                        }
                        pd_idx = raid_disks - 1 - (int) (stripe2 % (uint64_t) raid_disks);
                        place_q_after_p(pd_idx, raid_disks, &dd_idx, &qd_idx);
                        break;
                case ALGORITHM_RIGHT_ASYMMETRIC:
                case ALGORITHM_ROTATING_ZERO_RESTART:
                        /* ROTATING_ZERO_RESTART differs only in Q's order. */
                        ddf = l->algorithm == ALGORITHM_ROTATING_ZERO_RESTART;
                        pd_idx = (int) (stripe2 % (uint64_t) raid_disks);
                        place_q_after_p(pd_idx, raid_disks, &dd_idx, &qd_idx);
                        break;
                case ALGORITHM_LEFT_SYMMETRIC:
                        pd_idx = raid_disks - 1 - (int) (stripe2 % (uint64_t) raid_disks);
                        qd_idx = (pd_idx + 1) % raid_disks;
                        dd_idx = (pd_idx + 2 + dd_idx) % raid_disks;
                        break;
                case ALGORITHM_RIGHT_SYMMETRIC:
                        pd_idx = (int) (stripe2 % (uint64_t) raid_disks);
                        qd_idx = (pd_idx + 1) % raid_disks;
                        dd_idx = (pd_idx + 2 + dd_idx) % raid_disks;
                        break;
                case ALGORITHM_PARITY_0:
                        pd_idx = 0;
                        qd_idx = 1;
                        dd_idx += 2;
                        break;
                case ALGORITHM_PARITY_N:
                        pd_idx = data_disks;
                        qd_idx = data_disks + 1;
                        break;
                case ALGORITHM_ROTATING_N_CONTINUE:
                        pd_idx = raid_disks - 1 - (int) (stripe2 % (uint64_t) raid_disks);
                        qd_idx = (pd_idx + raid_disks - 1) % raid_disks;
                        dd_idx = (pd_idx + 1 + dd_idx) % raid_disks;
                        ddf = true;
                        break;
                case ALGORITHM_LEFT_ASYMMETRIC_6:
                        pd_idx = data_disks - (int) (stripe2 % (uint64_t) (raid_disks - 1));
                        if (dd_idx >= pd_idx)
                                dd_idx++;
                        qd_idx = raid_disks - 1;
                        break;
                case ALGORITHM_RIGHT_ASYMMETRIC_6:
                        pd_idx = (int) (stripe2 % (uint64_t) (raid_disks - 1));
                        if (dd_idx >= pd_idx)
                                dd_idx++;
                        qd_idx = raid_disks - 1;
                        break;
                case ALGORITHM_LEFT_SYMMETRIC_6:
                        pd_idx = data_disks - (int) (stripe2 % (uint64_t) (raid_disks - 1));
                        dd_idx = (pd_idx + 1 + dd_idx) % (raid_disks - 1);
                        qd_idx = raid_disks - 1;
                        break;
                case ALGORITHM_RIGHT_SYMMETRIC_6:
                        pd_idx = (int) (stripe2 % (uint64_t) (raid_disks - 1));
                        dd_idx = (pd_idx + 1 + dd_idx) % (raid_disks - 1);
                        qd_idx = raid_disks - 1;
                        break;
                case ALGORITHM_PARITY_0_6:
                        pd_idx = 0;
                        dd_idx++;
                        qd_idx = raid_disks - 1;
                        break;
                }
                break;
        }
        *pd_ret = pd_idx;
        *qd_ret = qd_idx;
        *ddf_ret = ddf;
        return dd_idx;
}

/* set_syndrome_sources(): md walks the slots from raid6_d0() and numbers
 * the data slots in that order; DDF layouts number every slot from 0,
 * P and Q included. */
static void number_syndrome(const struct stripe_layout *l, bool ddf, struct stripe_row *row)
{
        unsigned n = l->raid_disks, count = 0, d0;

        if (ddf || row->q_disk == (int) n - 1)
                d0 = 0;
        else
                d0 = (unsigned) row->q_disk + 1;
        for (unsigned step = 0; step < n; step++) {
                unsigned slot = (d0 + step) % n;
                bool parity = (int) slot == row->p_disk || (int) slot == row->q_disk;

                if (ddf || !parity)
                        row->syndrome[slot] = count++;
                if (parity)
                        row->syndrome[slot] = 0;
        }
}

void stripe_layout_row(const struct stripe_layout *l, uint64_t stripe, struct stripe_row *row)
{
        bool ddf = false;

        row->data_disks = stripe_layout_data_disks(l);
        for (unsigned k = 0; k < row->data_disks; k++)
                row->data_disk[k] = compute_disk(l, stripe, k, &row->p_disk, &row->q_disk, &ddf);
        if (l->level == 6)
                number_syndrome(l, ddf, row);
}
