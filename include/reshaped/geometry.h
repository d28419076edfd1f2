/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The geometry of a running raid4/5/6 reshape, and the one place where
 * units are converted. Three units appear in md's interface:
 *
 *   progress sectors  per-member sectors counted in the direction the
 *                     reshape runs (from the end when it runs backwards):
 *                     sync_completed, sync_min, sync_max.
 *   dev sectors       per-member offsets from the start of the data area.
 *   array sectors     logical addresses of the array: reshape_position,
 *                     suspend_lo/hi, and the backup file's sections.
 *
 * Everything here is pure arithmetic on values read from sysfs.
 */

#include <stdbool.h>
#include <stdint.h>

struct array_range {
        uint64_t lo_array_sectors;  /* inclusive */
        uint64_t hi_array_sectors;  /* exclusive */
};

struct reshape_geometry {
        unsigned old_data_disks;
        unsigned new_data_disks;
        uint64_t old_chunk_sectors;
        uint64_t new_chunk_sectors;
        /* The kernel rewrites max(old, new) chunk per member at a time; a
         * limit that is not a multiple of it lets the kernel write up to one
         * unit past sync_max. */
        uint64_t unit_dev_sectors;
        /* Where the kernel may be parked (sync_max): a multiple of the unit,
         * and when the number of data disks changes, of unit x old data
         * disks, so the parked position never splits an old-layout stripe
         * (raid5 holds every request to a stripe that straddles the
         * position until the reshape moves past it: a backup read there
         * would wait for ever). Backwards, counted from the end. */
        uint64_t park_dev_sectors;
        /* Member size rounded down to both chunk sizes: where the reshape ends,
         * in progress sectors, and the top of the data area in dev sectors. */
        uint64_t end_progress_sectors;
        /* Array size the reshape preserves (the smaller layout's capacity,
         * or less when the array was shrunk first). */
        uint64_t array_sectors;
        bool backwards;
};

/* Inputs as md reports them: level (4, 5, 6), raid_disks, chunk_size in
 * bytes, component size in KiB, array size in KiB (0: compute it). */
struct geometry_input {
        int old_level, new_level;
        unsigned old_raid_disks, new_raid_disks;
        uint64_t old_chunk_bytes, new_chunk_bytes;
        uint64_t component_kib;
        uint64_t array_kib;
        bool backwards;
};

/* Fills @g; -EINVAL for a geometry this tool cannot supervise, with a
 * static explanation in *why. */
int geometry_init(struct reshape_geometry *g, const struct geometry_input *in,
                  const char **why);

unsigned geometry_data_disks(int level, unsigned raid_disks);

/* Round a progress value down / up to a park point (see above), the only
 * values we ever write to sync_max besides 0 and the end. */
uint64_t geometry_align_down(const struct reshape_geometry *g, uint64_t progress_sectors);
uint64_t geometry_align_up(const struct reshape_geometry *g, uint64_t progress_sectors);

/* reshape_position (array sectors) that corresponds to a progress value. */
uint64_t geometry_progress_to_position(const struct reshape_geometry *g,
                                       uint64_t progress_sectors);

/* Progress value of a reshape_position (array sectors), rounded towards
 * the start of the reshape (never claims more progress than made). */
uint64_t geometry_position_to_progress(const struct reshape_geometry *g,
                                       uint64_t position_array_sectors);

/*
 * The array sectors whose only copy the kernel may destroy while moving
 * from @from to @to (progress sectors), given that everything before
 * @from is checkpointed: the old-layout content of the member region it
 * rewrites, minus what already lives in the new layout, clipped to the
 * array. Empty (lo == hi) once a grow or shrink is past its critical
 * section; the whole stretch for a same-size reshape.
 */
struct array_range geometry_at_risk(const struct reshape_geometry *g,
                                    uint64_t from_progress_sectors,
                                    uint64_t to_progress_sectors);

/* The first park point at or after @from (rounded down) from which the
 * kernel may destroy data only a backup holds, or end_progress_sectors
 * when it never will again. That is raid5's own rule (reshape_request):
 * it checkpoints before overwriting old data its metadata still needs only
 * where the next write lies behind the oldest read; a same-size reshape
 * never gets there, a grow does after its first few units, a shrink is
 * safe until its last few. */
uint64_t geometry_next_at_risk(const struct reshape_geometry *g,
                               uint64_t from_progress_sectors);

/* The first park point after @from (which is at risk) where the kernel
 * guards itself again: the end of the stretch that needs backups. */
uint64_t geometry_risk_end(const struct reshape_geometry *g, uint64_t from_progress_sectors);

static inline uint64_t array_range_sectors(struct array_range r)
{
        return r.hi_array_sectors - r.lo_array_sectors;
}

static inline uint64_t sectors_to_bytes(uint64_t sectors)
{
        return sectors * 512;
}

static inline uint64_t bytes_to_sectors(uint64_t bytes)
{
        return bytes / 512;
}
