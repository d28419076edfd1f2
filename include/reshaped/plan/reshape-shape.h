/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * One reshape seen three ways: as md describes it (struct md_geometry,
 * from sysfs or planned by `reshaped start`), as the planner computes with
 * it (struct reshape_geometry), and as a backup header names it (struct
 * backup_identity). Pure: the conversions live here only, so the three
 * cannot drift apart. Also the window (slot) size every command agrees on.
 */

#include <stdbool.h>
#include <stdint.h>

#include "reshaped/backup/backup.h"
#include "reshaped/plan/geometry.h"
#include "reshaped/md/md.h"

/* @array_kib: md's array_size when set by hand (before a shrink), else 0.
 * -EINVAL with a static reason in *why for a reshape we cannot supervise. */
int reshape_shape_geometry(const struct md_geometry *mg, uint64_t array_kib,
                           struct reshape_geometry *ret, const char **why);

/* The identity a backup of this reshape records; uuid and events are the
 * caller's (they come from the superblocks). */
void reshape_shape_identity(const struct md_geometry *mg, const struct reshape_geometry *g,
                            struct backup_identity *ret);

/* The slot size for windows of at most @max_window_bytes, in *ret_slot,
 * and in *ret_least the smallest the windows may shrink to when space is
 * short. Never below what one window between park points needs
 * (geometry_min_window_array_sectors()), never more than two slots can
 * fill (geometry_total_at_risk_array_sectors()), 4 KiB aligned. */
void reshape_shape_slots(const struct reshape_geometry *g, uint64_t max_window_bytes,
                         uint64_t least_window_bytes, uint64_t *ret_slot, uint64_t *ret_least);

/*
 * The level change that ends a reshape, as mdadm --grow --level=5 ends
 * its raid6 -> raid5: a raid6 reshaping from one of md's raid6 layouts
 * (0..5) into a "-6" layout (16..20: raid5's layout, Q all on the last
 * disk) is the first half of it, and md takes the finished array over to
 * raid5 in that layout on one disk fewer (raid5_takeover_raid6). mdadm
 * makes no other reshape into a "-6" layout out of a standard one but on
 * an explicit --layout=...-6, and the superblocks keep both layouts, so
 * this reads the same after a crash. True with the level (5), raid5's
 * layout and its raid_disks in *ret.
 */
struct reshape_final_level {
        int level;
        uint32_t layout;
        unsigned raid_disks;
};
bool reshape_shape_final_level(const struct md_geometry *mg, struct reshape_final_level *ret);

/* A raid6 with no reshape in a "-6" layout: where that first half leaves
 * the array when its reshape ended before anyone took it over (mdadm 4.2
 * leaves sync_max at max: on a small array the kernel can be done before
 * the hand-off's supervisor starts). An explicit --layout=...-6 leaves it
 * there too, so this alone does not say the level must change. */
bool reshape_shape_half_level(const struct md_geometry *mg);
