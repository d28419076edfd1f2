/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Reads a range of an array into a buffer in the background: reader
 * threads fetch it in pieces, several at a time (a reshape keeps every
 * member busy, and one read at a time leaves the backup disk waiting), and
 * the caller takes each part as soon as it has arrived. A read stands
 * alone: the caller keeps the range suspended while it runs, and it
 * reads the members in the old layout (member-read.h).
 */

#include <stdint.h>

#include "reshaped/plan/geometry.h"

struct array_read;

struct member_set;

/* Starts reading @range of the array from the slots @usable of @ms (see
 * member-read.h) into @buf, 4 KiB aligned; -E2BIG unless @buf_bytes
 * holds the range. */
int array_read_start(const struct member_set *ms, uint64_t usable, void *buf, uint64_t buf_bytes,
                     struct array_range range, struct array_read **ret);

/* Waits until array sectors [@lo, @hi) of the range are in the buffer;
 * the first read error (negative errno, logged) otherwise. */
int array_read_wait(struct array_read *rd, uint64_t lo_array_sectors, uint64_t hi_array_sectors);

struct array_range array_read_range(const struct array_read *rd);
void *array_read_buffer(const struct array_read *rd);

/* Stops the readers (pieces under way finish) and frees; NULL. */
struct array_read *array_read_free(struct array_read *rd);
