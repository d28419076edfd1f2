// SPDX-License-Identifier: GPL-2.0-or-later
#include "reshaped/plan/reshape-shape.h"

int reshape_shape_geometry(const struct md_geometry *mg, uint64_t array_kib,
                           struct reshape_geometry *ret, const char **why)
{
        const struct geometry_input in = {
                .old_level = mg->level, .new_level = mg->level,
                .old_raid_disks = mg->raid_disks_old, .new_raid_disks = mg->raid_disks_new,
                .old_chunk_bytes = mg->chunk_bytes_old, .new_chunk_bytes = mg->chunk_bytes_new,
                .old_layout = mg->layout_old, .new_layout = mg->layout_new,
                .component_kib = mg->component_kib,
                .array_kib = array_kib,
                .backwards = mg->direction == MD_RESHAPE_DIRECTION_BACKWARDS,
                .offset_diff_dev_sectors = mg->offset_diff_dev_sectors,
        };

        return geometry_init(ret, &in, why);
}

void reshape_shape_identity(const struct md_geometry *mg, const struct reshape_geometry *g,
                            struct backup_identity *ret)
{
        ret->before = (struct backup_geometry) { mg->level, mg->raid_disks_old,
                                                 mg->chunk_bytes_old, mg->layout_old };
        ret->after = (struct backup_geometry) { mg->level, mg->raid_disks_new,
                                                mg->chunk_bytes_new, mg->layout_new };
        ret->component_dev_sectors = mg->component_kib * 2;
        ret->backwards = g->backwards;
}

/* md's numbers (raid5.h): ALGORITHM_LEFT_ASYMMETRIC_6 and the "-6"
 * layouts after it are raid5's 0..4 plus 16; ALGORITHM_PARITY_N (5) is
 * the same at both levels, so a reshape into it says nothing of a level
 * change and is left alone. */
#define LAYOUT_6_FIRST 16
#define LAYOUT_6_LAST  20

static bool is_layout_6(uint32_t layout)
{
        return layout >= LAYOUT_6_FIRST && layout <= LAYOUT_6_LAST;
}

bool reshape_shape_final_level(const struct md_geometry *mg, struct reshape_final_level *ret)
{
        if (mg->level != 6 || mg->layout_old == mg->layout_new || is_layout_6(mg->layout_old) ||
            !is_layout_6(mg->layout_new) || mg->raid_disks_new < 4)
                return false;
        *ret = (struct reshape_final_level) {
                .level = 5,
                .layout = mg->layout_new - LAYOUT_6_FIRST,
                .raid_disks = mg->raid_disks_new - 1,
        };
        return true;
}

bool reshape_shape_half_level(const struct md_geometry *mg)
{
        return mg->level == 6 && mg->layout_old == mg->layout_new && is_layout_6(mg->layout_new) &&
               mg->raid_disks_old == mg->raid_disks_new && mg->raid_disks_new >= 4;
}

static uint64_t align_up_bytes(uint64_t bytes)
{
        return (bytes + BACKUP_ALIGN_BYTES - 1) / BACKUP_ALIGN_BYTES * BACKUP_ALIGN_BYTES;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
        return a > b ? a : b;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
        return a < b ? a : b;
}

void reshape_shape_slots(const struct reshape_geometry *g, uint64_t max_window_bytes,
                         uint64_t least_window_bytes, uint64_t *ret_slot, uint64_t *ret_least)
{
        uint64_t need = align_up_bytes(sectors_to_bytes(geometry_min_window_array_sectors(g)));
        uint64_t half_risk = align_up_bytes(sectors_to_bytes(geometry_total_at_risk_array_sectors(g)) / 2);
        uint64_t least = align_up_bytes(least_window_bytes);
        uint64_t want = align_up_bytes(max_window_bytes);

        /* Two slots that could hold everything ever at risk are enough. */
        if (want > least)
                want = max_u64(least, min_u64(want, half_risk));
        *ret_slot = max_u64(want, need);
        *ret_least = min_u64(max_u64(least, need), *ret_slot);
}
