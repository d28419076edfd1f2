/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Writes whole stripes of array content onto the members of an array that
 * is not running, in a given layout, parity computed as md computes it:
 * what restore needs to finish a grow's first units itself (see
 * geometry_critical_restart()). Every slot must be present; the members
 * are written around their page cache and flushed by member_writer_sync().
 */

#include <stdint.h>

#include "reshaped/member-read.h"
#include "reshaped/stripe-map.h"

struct member_writer;

/* Opens @layout->raid_disks members, @src indexed by slot. */
int member_writer_open(const struct stripe_layout *layout, const struct member_source *src,
                       struct member_writer **ret);

/* Writes stripes [@first_stripe, @first_stripe + @n_stripes) from @data:
 * their array content in order, 4 KiB aligned. */
int member_writer_put(struct member_writer *w, uint64_t first_stripe, uint64_t n_stripes,
                      void *data);

/* Flushes every member. */
int member_writer_sync(struct member_writer *w);

struct member_writer *member_writer_free(struct member_writer *w);
