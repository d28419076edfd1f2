/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Pure parsers of what md's sysfs attributes print (Linux 6.1 md.c), and
 * the order md_set_suspend() stores suspend_lo/suspend_hi in. No I/O.
 *
 * Each parser takes the attribute text as read, with or without the one
 * trailing newline the kernel prints; anything else around the value
 * (spaces, a second line, signs, overflow) is -EINVAL. Numbers are plain
 * decimal digits.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "reshaped/md/md.h"

int md_parse_u64(const char *s, uint64_t *ret);
int md_parse_unsigned(const char *s, unsigned *ret);
/* "none\n" or a number, for reshape_position (array sectors). */
int md_parse_reshape_position(const char *s, uint64_t *ret_array_sectors);
/* "max\n" or a number, for sync_max (per-member sectors). */
int md_parse_sync_max(const char *s, uint64_t *ret_dev_sectors);
/* A block device's "stat" (Documentation/block/stat.rst): the sectors
 * read plus the sectors written, fields 3 and 7. */
int md_parse_block_stat_sectors(const char *s, uint64_t *ret_sectors);
/* "N / M\n", "none\n" or "delayed\n". */
int md_parse_sync_completed(const char *s, struct md_sync_completed *ret);
int md_parse_sync_action(const char *s, enum md_sync_action *ret);
int md_parse_array_state(const char *s, enum md_array_state *ret);
/* "forwards\n" or "backwards\n" (absence is the caller's business). */
int md_parse_reshape_direction(const char *s, enum md_reshape_direction *ret);
/* "raid5\n", "linear\n", "container\n", a bare number, or "" (no level). */
int md_parse_level(const char *s, int *ret);
/* "N\n" (old = new = N) or "NEW (OLD)\n": raid_disks, chunk_size, layout.
 * Values above INT_MAX are -EINVAL (the kernel prints them with %d). An
 * empty attribute (raid_disks of an array without disks) is -ENODATA. */
int md_parse_new_old(const char *s, uint32_t *ret_new, uint32_t *ret_old);
/* "0.90\n", "1.2\n", "external:imsm\n", "none\n". */
int md_parse_metadata_version(const char *s, struct md_metadata_version *ret);
/* sync_speed_min/max: "200000 (system)\n". */
int md_parse_sync_speed(const char *s, struct md_sync_speed *ret);
/* A member's state: "in_sync,write_mostly\n" -> MD_MEMBER_* flags. */
int md_parse_member_state(const char *s, unsigned *ret_flags);
/* A member's slot: a number, "none\n" or "journal\n". */
int md_parse_slot(const char *s, int *ret_slot);
/* A block device's "dev": "8:16\n". */
int md_parse_devnum(const char *s, dev_t *ret);

/*
 * md_set_suspend(): the stores that move the suspended window [lo, hi)
 * from cur to want. Unchanged bounds are not stored (each store drains all
 * I/O of the array). When both change, the first store leaves a window
 * in between; the order is chosen so that window
 *   - keeps suspended everything both old and new window hold, and
 *   - suspends nothing outside the two windows,
 * and of two such orders the one whose in-between window is larger (so a
 * window moving up by less than its length never has its overlap or its
 * new part unsuspended: hi first when moving up, lo first when moving
 * down). Both bounds are array sectors; lo >= hi suspends nothing.
 */
enum md_suspend_bound {
        MD_SUSPEND_LO,
        MD_SUSPEND_HI,
};

struct md_suspend_store {
        enum md_suspend_bound bound;
        uint64_t value_array_sectors;
};

/* Fills steps[0..n) and returns n (0, 1 or 2). */
size_t md_suspend_plan(uint64_t cur_lo, uint64_t cur_hi, uint64_t want_lo, uint64_t want_hi,
                       struct md_suspend_store steps[2]);
