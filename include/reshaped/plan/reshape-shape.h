/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * One reshape seen three ways: as md describes it (struct md_geometry,
 * from sysfs or planned by `reshaped start`), as the planner computes with
 * it (struct reshape_geometry), and as a backup header names it (struct
 * backup_identity). Pure: the conversions live here only, so the three
 * cannot drift apart. Also the window (slot) size every command agrees on.
 */

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
