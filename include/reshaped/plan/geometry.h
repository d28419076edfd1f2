/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The geometry of a running raid4/5/6 or raid10 reshape, and the one
 * place where units are converted. Three units appear in md's interface:
 *
 *   progress sectors  what md_do_sync() counts, in the direction the
 *                     reshape runs (from the end when it runs backwards):
 *                     sync_completed, sync_min, sync_max. Per-member
 *                     sectors for raid4/5/6; array sectors for raid10.
 *   dev sectors       per-member offsets from the start of the data area
 *                     (raid4/5/6).
 *   array sectors     logical addresses of the array: reshape_position,
 *                     suspend_lo/hi, and the backup file's sections.
 *
 * raid4/5/6 reshape in place: the new layout overwrites the old one, and
 * geometry_at_risk() says what a stretch of progress may destroy, unless
 * the reshape moves data_offset far enough (1.1/1.2 metadata with room,
 * as mdadm does without a backup file): then raid5 checkpoints before a
 * write could reach old-layout data still needed, and nothing is ever at
 * risk (`relocates`). raid10 (near layouts, same number of disks) always
 * relocates; its progress converts to a position with a scale of 1, and
 * sync_max need only be a multiple of the old chunk.
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
        /* Array sectors per progress sector, before and after: the data
         * disks for raid4/5/6, 1 for raid10 (progress counts array
         * sectors). */
        unsigned old_data_disks;
        unsigned new_data_disks;
        uint64_t old_chunk_sectors;
        uint64_t new_chunk_sectors;
        /* What every sync_max we write is a multiple of. raid4/5/6 rewrite
         * max(old, new) chunk per member at a time; a limit that is not a
         * multiple of it lets the kernel write up to one unit past
         * sync_max. raid10 steps min(chunks, 64 KiB) of the array, which
         * divides the old chunk, and md requires sync_max to be a multiple
         * of the old chunk (max_sync_store()). */
        uint64_t unit_progress_sectors;
        /* Where the kernel may be parked (sync_max): a multiple of the unit,
         * and when the number of data disks changes, of unit x old data
         * disks, so the parked position never splits an old-layout stripe
         * (raid5 holds every request to a stripe that straddles the
         * position until the reshape moves past it: a backup read there
         * would wait for ever). Backwards, counted from the end. */
        uint64_t park_progress_sectors;
        /* Where the reshape ends, in progress sectors. raid4/5/6: the member
         * size rounded down to both chunk sizes, also the top of the data
         * area in dev sectors. raid10: the array's capacity as raid10_size()
         * computes it (with the new layout when running backwards, where it
         * is also the origin of the count; the smaller of both forwards). */
        uint64_t end_progress_sectors;
        /* Array size the reshape preserves (the smaller layout's capacity,
         * or less when the array was shrunk first). */
        uint64_t array_sectors;
        /* Members the array can lose, whichever they are. */
        unsigned redundancy;
        bool backwards;
        /* The new layout goes to a new data area (raid10, or raid4/5/6
         * moving data_offset by at least two units and a park distance):
         * nothing is at risk while the kernel is paced, so no backup is
         * needed. */
        bool relocates;
        /* A raid4/5/6 reshape that moves the data by d started on a
         * running array: raid5 computes its offset guard (min_offset_diff)
         * only when the array starts (raid5_run()), so until a restart
         * it checkpoints as for an in-place reshape, and a crash is safe
         * only while the kernel's position is at most d - u past its
         * checkpoint (its writes land d below, on old data a restart
         * from the checkpoint reads again). Paced at the halfway
         * checkpoints it stays within one window plus a unit of it: the
         * window may be at most d - 2u (progress sectors, park
         * multiple). 0: no bound (raid10, in place). */
        uint64_t pace_max_progress_sectors;
};

/* Inputs as md reports them: level (4, 5, 6, 10), raid_disks, chunk_size
 * in bytes, component size in KiB, array size in KiB (0: compute it),
 * layout (md's number; read for raid10 only). */
struct geometry_input {
        int old_level, new_level;
        unsigned old_raid_disks, new_raid_disks;
        uint64_t old_chunk_bytes, new_chunk_bytes;
        uint64_t component_kib;
        uint64_t array_kib;
        bool backwards;
        uint32_t old_layout, new_layout;
        /* new_offset - offset of the members (dev sectors), the one raid5
         * reasons with (raid5.c min_offset_diff: the smallest move in the
         * reshape's direction); 0 for an in-place reshape. raid4/5/6 only. */
        int64_t offset_diff_dev_sectors;
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

/* The array sectors still in the old layout while the kernel has not
 * passed @progress_sectors (sync_max): what lies beyond it. */
struct array_range geometry_old_layout(const struct reshape_geometry *g, uint64_t progress_sectors);

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
 * section, and always for raid10; the whole stretch for a same-size
 * raid4/5/6 reshape.
 */
struct array_range geometry_at_risk(const struct reshape_geometry *g,
                                    uint64_t from_progress_sectors,
                                    uint64_t to_progress_sectors);

/* The largest backup one window between neighbouring park points can
 * need, in array sectors: the smallest slot with which every window can be
 * planned, since the kernel can be held at no finer step. The old data on
 * one park distance of every member (park x old data disks), less what the
 * array does not use; 0 when nothing is ever at risk. A 14 -> 15 disk
 * raid5 grow with 512 KiB chunks needs 84.5 MiB, a 16 -> 32 MiB chunk
 * change on 6 data disks 192 MiB. */
uint64_t geometry_min_window_array_sectors(const struct reshape_geometry *g);

/* The first park point at or after @from (rounded down) from which the
 * kernel may destroy data only a backup holds, or end_progress_sectors
 * when it never will again. That is raid5's own rule (reshape_request):
 * it checkpoints before overwriting old data its metadata still needs only
 * where the next write lies behind the oldest read; a same-size reshape
 * never gets there, a grow does after its first few units, a shrink is
 * safe until its last few, a raid10 reshape (which relocates) never. */
uint64_t geometry_next_at_risk(const struct reshape_geometry *g,
                               uint64_t from_progress_sectors);

/* All the array sectors any window of the whole reshape can have to back
 * up: the array for a same-size reshape, a grow's first or a shrink's
 * last units, 0 when nothing is ever at risk. Two slots need not hold
 * more. */
uint64_t geometry_total_at_risk_array_sectors(const struct reshape_geometry *g);

/* Whether the kernel, restarted from a checkpoint at @progress_sectors,
 * protects what lies beyond it by itself (see geometry_next_at_risk()):
 * then a crash there needs no backup. */
bool geometry_kernel_guards(const struct reshape_geometry *g, uint64_t progress_sectors);

/* The first park point after @from (which is at risk) where the kernel
 * guards itself again: the end of the stretch that needs backups. */
uint64_t geometry_risk_end(const struct reshape_geometry *g, uint64_t from_progress_sectors);

/* Whether raid5's run() starts an array whose superblocks record
 * @position_array_sectors: on a new-stripe boundary, and when the number
 * of data disks changes, with the next new stripe read from a later old
 * stripe (else "reshape_position too early for auto-recovery"). */
bool geometry_kernel_restarts(const struct reshape_geometry *g, uint64_t position_array_sectors);

/*
 * A grow cut inside its first units leaves a checkpoint md will not
 * restart from (geometry_kernel_restarts()). Userspace then finishes those
 * units itself, as mdadm's Grow_restart does: it writes the array from the
 * checkpoint up to a later position in the new layout and records that
 * position in the superblocks. The backup holds the array from the
 * checkpoint up to @backup_end, the old layout the rest. The position is
 * the first new-stripe boundary at or after @backup_end from which md
 * restarts and then guards itself. 0 with *ret_position; -ERANGE with
 * *why when there is no such position (or the reshape is not a grow).
 */
int geometry_critical_restart(const struct reshape_geometry *g, uint64_t checkpoint_array_sectors,
                              uint64_t backup_end_array_sectors, uint64_t *ret_position_array_sectors,
                              const char **why);

/* Where data_offset may move on a member with 1.1/1.2 metadata (dev
 * sectors): below the data down to the superblock's reserved 36 KiB
 * (which holds the bad-block log; md.c super_1_allow_new_offset() refuses
 * to go lower, and below an internal bitmap), and above the data up to
 * the end of the space the member gives (the member's size in sysfs).
 * Both 0 for other metadata, which cannot move. */
struct offset_room {
        uint64_t head_dev_sectors;
        uint64_t tail_dev_sectors;
};

/* One member's room: @minor is the 1.x minor version (0: at the end,
 * no room), @member_dev_sectors md/dev-X/size in sectors, @component
 * the array's component_size in sectors. */
struct offset_room geometry_member_room(unsigned major, unsigned minor, uint64_t data_offset_dev_sectors,
                                        uint64_t member_dev_sectors, uint64_t component_dev_sectors);

/*
 * How far `reshaped start` moves data_offset for a raid4/5/6 reshape
 * from @old_raid_disks to @new_raid_disks (old/new chunk in bytes) given
 * the least @room over the members, in *ret_diff (dev sectors, negative
 * down). As mdadm (Grow.c set_new_data_offset()): a grow moves down
 * (forwards), a shrink up (backwards), a same-size reshape the way with
 * more room. The move is all, at least three. -ENOSPC with *why when there is
 * not that much room.
 */
int geometry_offset_move(int level, unsigned old_raid_disks, unsigned new_raid_disks,
                         uint64_t old_chunk_bytes, uint64_t new_chunk_bytes, struct offset_room room,
                         int64_t *ret_diff, const char **why);

static inline uint64_t array_range_sectors(struct array_range r)
{
        return r.hi_array_sectors - r.lo_array_sectors;
}

/* Whether @inner lies within @outer (an empty @inner anywhere). */
static inline bool array_range_inside(struct array_range outer, struct array_range inner)
{
        if (inner.hi_array_sectors <= inner.lo_array_sectors)
                return true;
        return outer.lo_array_sectors <= inner.lo_array_sectors &&
               inner.hi_array_sectors <= outer.hi_array_sectors;
}

static inline uint64_t sectors_to_bytes(uint64_t sectors)
{
        return sectors * 512;
}

static inline uint64_t bytes_to_sectors(uint64_t bytes)
{
        return bytes / 512;
}

/* Per-member sectors, counted from the data offset (every member alike). */
struct dev_range {
        uint64_t lo_dev_sectors;    /* inclusive */
        uint64_t hi_dev_sectors;    /* exclusive */
};

/* The old layout's stripe rows that hold @r (raid4/5/6): the member
 * sectors writing @r through the array rewrites, parity included, where
 * the reshape has not been yet. */
struct dev_range geometry_old_layout_dev_rows(const struct reshape_geometry *g, struct array_range r);
