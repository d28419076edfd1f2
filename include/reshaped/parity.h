/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Rebuilds the data chunks of a stripe that missing members held, from
 * the chunks of the others and the parity, as md's raid5/raid6 would
 * (ISA-L's xor_gen/pq_gen and GF(2^8) arithmetic; md's Q uses the same
 * generator 2 and polynomial 0x11d). Pure: no I/O.
 */

#include <stddef.h>
#include <stdint.h>

#include "reshaped/stripe-map.h"

/*
 * @blocks[slot] holds @len bytes of the same rows of every member of
 * @row's stripe; the slots in @missing are to be
 * filled. @zero is @len zero bytes; @tmp three scratch buffers of @len.
 * Buffers 32-byte aligned, @len a multiple of 32. -EIO when more is
 * missing than the parity can rebuild.
 */
int parity_rebuild(const struct stripe_row *row, uint64_t missing, void **blocks, size_t len, void *zero, void *tmp[3]);

/* Fills the parity slots of @row's stripe (P, and Q for raid6) from its
 * data chunks in @blocks, as md writes them. Same buffer rules. */
void parity_compute(const struct stripe_row *row, void **blocks, size_t len, void *zero);
