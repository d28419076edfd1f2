/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Finishing a grow's first units after a crash inside them, as mdadm's
 * Grow_restart does: md will not restart from such a checkpoint
 * (geometry_kernel_restarts()), so restore writes the array from the
 * checkpoint up to a position md restarts from and guards
 * (geometry_critical_restart()) in the new layout, from the backup and,
 * past its end, from the old layout still on the members (saved into the
 * backup first), flushes, and then records that position in every
 * member's superblock. Until the last superblock is written the backup
 * and the old layout beyond the position hold everything, so a crash in
 * between only means doing it again.
 * The array must not be running.
 */

#include <stddef.h>
#include <stdint.h>

#include "reshaped/plan/geometry.h"
#include "reshaped/md/md-assemble.h"
#include "reshaped/restore/restore.h"

/* @members: those at the freshest event count; @plan: restore_plan_make()'s
 * RESTORE_OK ranges from @checkpoint on. On success every member records
 * @position. */
int restore_critical_finish(const struct reshape_geometry *g, const struct backup_identity *id,
                            const struct md_member_super *members, size_t n,
                            const char *backup_path, const struct restore_plan *plan,
                            uint64_t checkpoint_array_sectors, uint64_t position_array_sectors);

/*
 * A shrink's last units: md restarts from such a checkpoint, but holds
 * every write to the old stripe it splits until the reshape has passed
 * it, so the write-back cannot go through the array. Instead the plan's
 * ranges are written onto the members in the old layout, whole old
 * stripes (the rest of each read from the members), parity computed, and
 * flushed; then md can take the reshape over from @checkpoint. The backup
 * is left as it is (a crash in between repeats this). The array must not
 * be running and every member must be there.
 */
int restore_critical_write_old(const struct reshape_geometry *g, const struct backup_identity *id,
                               const struct md_member_super *members, size_t n,
                               const char *backup_path, const struct restore_plan *plan,
                               uint64_t checkpoint_array_sectors);

/* Where the backup the plan writes back from ends (array sectors). */
uint64_t restore_plan_end(const struct restore_plan *plan);
