// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <isa-l/erasure_code.h>
#include <isa-l/gf_vect_mul.h>
#include <isa-l/raid.h>

#include "reshaped/parity.h"

static bool has(uint64_t mask, int slot)
{
        return slot >= 0 && (mask >> slot) & 1;
}

static unsigned char gf_pow2(unsigned n)
{
        unsigned char r = 1;

        while (n--)
                r = gf_mul(r, 2);
        return r;
}

static void gf_scale(unsigned char c, void *src, void *dst, size_t len)
{
        unsigned char tbl[32];

        gf_vect_mul_init(c, tbl);
        gf_vect_mul((int) len, tbl, src, dst);
}

/* P and Q of the present data chunks, the missing ones taken as zero. */
static void syndrome_without(const struct stripe_row *row, uint64_t missing, void **blocks, size_t len, void *zero, void *p, void *q)
{
        void *vec[STRIPE_MAX_DISKS + 2];
        unsigned n = 0;

        for (unsigned k = 0; k < row->data_disks; k++) {
                unsigned idx = row->syndrome[row->data_disk[k]];

                if (idx + 1 > n)
                        n = idx + 1;
        }
        for (unsigned i = 0; i < n; i++)
                vec[i] = zero;
        for (unsigned k = 0; k < row->data_disks; k++) {
                int d = row->data_disk[k];

                if (!has(missing, d))
                        vec[row->syndrome[d]] = blocks[d];
        }
        vec[n] = p;
        vec[n + 1] = q;
        pq_gen((int) n + 2, (int) len, vec);
}

static void xor_into(void *a, void *b, void *dst, size_t len)
{
        void *vec[3] = { a, b, dst };

        xor_gen(3, (int) len, vec);
}

/* One data chunk from P and the other data chunks. */
static void rebuild_from_p(const struct stripe_row *row, int x, void **blocks, size_t len)
{
        void *vec[STRIPE_MAX_DISKS + 1];
        int n = 0;

        for (unsigned k = 0; k < row->data_disks; k++)
                if (row->data_disk[k] != x)
                        vec[n++] = blocks[row->data_disk[k]];
        vec[n++] = blocks[row->p_disk];
        vec[n++] = blocks[x];
        if (n == 2)
                memcpy(blocks[x], blocks[row->p_disk], len);
        else
                xor_gen(n, (int) len, vec);
}

int parity_rebuild(const struct stripe_row *row, uint64_t missing, void **blocks, size_t len, void *zero, void *tmp[3])
{
        int lost[2], n_lost = 0;
        bool p_ok = !has(missing, row->p_disk);
        bool q_ok = row->q_disk >= 0 && !has(missing, row->q_disk);

        for (unsigned k = 0; k < row->data_disks; k++) {
                int d = row->data_disk[k];

                if (!has(missing, d))
                        continue;
                if (n_lost == 2)
                        return -EIO;
                lost[n_lost++] = d;
        }
        if (n_lost == 0)
                return 0;
        if (n_lost == 1 && p_ok) {
                rebuild_from_p(row, lost[0], blocks, len);
                return 0;
        }
        if (!q_ok)
                return -EIO;
        syndrome_without(row, missing, blocks, len, zero, tmp[0], tmp[1]);
        /* tmp[1] = Q + Q' = the lost chunks' share of Q. */
        xor_into(blocks[row->q_disk], tmp[1], tmp[2], len);
        if (n_lost == 1) {
                gf_scale(gf_inv(gf_pow2(row->syndrome[lost[0]])), tmp[2], blocks[lost[0]], len);
                return 0;
        }
        if (!p_ok)
                return -EIO;
        {
                /* Px = Dx + Dy, Qx = a Dx + b Dy: Dx = (b Px + Qx) / (a + b). */
                unsigned char a = gf_pow2(row->syndrome[lost[0]]);
                unsigned char b = gf_pow2(row->syndrome[lost[1]]);
                unsigned char inv = gf_inv(a ^ b);

                xor_into(blocks[row->p_disk], tmp[0], tmp[1], len);
                gf_scale(gf_mul(b, inv), tmp[1], tmp[0], len);
                gf_scale(inv, tmp[2], blocks[lost[1]], len);
                xor_into(tmp[0], blocks[lost[1]], blocks[lost[0]], len);
                xor_into(tmp[1], blocks[lost[0]], blocks[lost[1]], len);
        }
        return 0;
}

void parity_compute(const struct stripe_row *row, void **blocks, size_t len, void *zero)
{
        void *vec[STRIPE_MAX_DISKS + 1];
        unsigned n = 0;

        if (row->q_disk >= 0) {
                syndrome_without(row, 0, blocks, len, zero, blocks[row->p_disk], blocks[row->q_disk]);
                return;
        }
        if (row->data_disks == 1) {
                memcpy(blocks[row->p_disk], blocks[row->data_disk[0]], len);
                return;
        }
        for (unsigned k = 0; k < row->data_disks; k++)
                vec[n++] = blocks[row->data_disk[k]];
        vec[n++] = blocks[row->p_disk];
        xor_gen((int) n, (int) len, vec);
}
