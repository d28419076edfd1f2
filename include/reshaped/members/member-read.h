/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Reads array content from the members, in the layout the array had
 * before the reshape, the way mdadm's restripe code does. A backup window
 * is read while writes to it are suspended; reading it through /dev/mdX
 * would first write back the md device's dirty page cache for that range
 * (blkdev_read_iter), where a mounted filesystem keeps its metadata, and
 * md holds those writes at the suspend: a deadlock. Members have no page
 * cache of anyone's (md writes them with bios). The old layout is right
 * for every window the planner backs up: they all lie beyond sync_max,
 * which the kernel has not passed.
 *
 * Chunks of members that are missing, faulty, not in sync, or that fail
 * a read are rebuilt from parity (parity.h), within the level's
 * redundancy. A rebuilt stripe must lie inside the suspended window, or
 * concurrent writes could change its other chunks under the rebuild.
 */

#include <stdint.h>

#include "reshaped/plan/geometry.h"
#include "reshaped/members/stripe-map.h"

struct md;
struct member_set;
struct member_scratch;

/* One member of the old layout, as a device or an image file. */
struct member_source {
        const char *path;          /* NULL: the slot is missing */
        uint64_t data_offset_dev_sectors;
};

/* Opens @n = layout->raid_disks sources (O_DIRECT); @array_sectors bounds
 * the array (a last partial stripe may be rebuilt). */
int member_set_open(const struct stripe_layout *layout, const struct member_source *src,
                    unsigned n, uint64_t array_sectors, struct member_set **ret);

/* The same for the members of a running md array, in its old layout. */
int member_set_open_md(struct md *md, const struct stripe_layout *layout, uint64_t array_sectors,
                       struct member_set **ret);

/* Which slots to read from now: those opened, minus what md marks faulty
 * or not in sync (re-read at every window, after it is suspended, since
 * md stops writing to a member once it fails it). Without @md, the
 * slots opened. -EIO when more are missing than parity can rebuild. */
int member_set_refresh(struct member_set *ms, struct md *md, uint64_t *ret_usable);

struct member_set *member_set_free(struct member_set *ms);

/* Per-thread buffers for member_set_read(). */
int member_scratch_new(const struct member_set *ms, struct member_scratch **ret);
struct member_scratch *member_scratch_free(struct member_scratch *sc);

/* Reads array sectors [@lo, @hi), inside @window (the suspended range),
 * from the slots in @usable into @buf (4 KiB aligned). */
int member_set_read(const struct member_set *ms, uint64_t usable, struct array_range window,
                    uint64_t lo, uint64_t hi, void *buf, struct member_scratch *sc);
