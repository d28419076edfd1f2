// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>

#include "reshaped/plan/geometry.h"

static uint64_t min_u64(uint64_t a, uint64_t b)
{
        return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
        return a > b ? a : b;
}

static bool is_power_of_2(uint64_t v)
{
        return v && !(v & (v - 1));
}

unsigned geometry_data_disks(int level, unsigned raid_disks)
{
        switch (level) {
        case 4:
        case 5:
                return raid_disks > 1 ? raid_disks - 1 : 0;
        case 6:
                return raid_disks > 2 ? raid_disks - 2 : 0;
        default:
                return 0;
        }
}

static bool chunks_valid(const struct geometry_input *in)
{
        /* md requires chunks of at least a page that are powers of two for
         * raid4/5/6 and raid10; the unit arithmetic below depends on it. */
        return is_power_of_2(in->old_chunk_bytes) && is_power_of_2(in->new_chunk_bytes) &&
               in->old_chunk_bytes >= 4096 && in->new_chunk_bytes >= 4096;
}

/* The array size that must survive; 0 (with *why) when it cannot. */
static uint64_t preserved_array_sectors(const struct geometry_input *in, uint64_t capacity_sectors,
                                        const char **why)
{
        uint64_t array_sectors = in->array_kib ? in->array_kib * 2 : capacity_sectors;

        if (array_sectors > capacity_sectors) {
                *why = "the array is larger than the smaller layout can hold; reduce it first (mdadm --grow --array-size)";
                return 0;
        }
        return array_sectors;
}

static int striped_init(struct reshape_geometry *g, const struct geometry_input *in,
                        const char **why)
{
        uint64_t component_sectors, capacity_sectors;
        unsigned min_data_disks;

        g->old_data_disks = geometry_data_disks(in->old_level, in->old_raid_disks);
        g->new_data_disks = geometry_data_disks(in->new_level, in->new_raid_disks);
        if (!g->old_data_disks || !g->new_data_disks) {
                *why = "only raid4, raid5, raid6 and raid10 reshapes are supervised";
                return -EINVAL;
        }
        if (!chunks_valid(in)) {
                *why = "chunk sizes must be powers of two of at least 4 KiB";
                return -EINVAL;
        }
        if (g->new_data_disks > g->old_data_disks && in->backwards) {
                *why = "a grow that runs backwards is not a layout md produces";
                return -EINVAL;
        }
        if (g->new_data_disks < g->old_data_disks && !in->backwards) {
                *why = "a shrink must run backwards (reshape_direction reads forwards)";
                return -EINVAL;
        }

        g->old_chunk_sectors = bytes_to_sectors(in->old_chunk_bytes);
        g->new_chunk_sectors = bytes_to_sectors(in->new_chunk_bytes);
        g->unit_progress_sectors = max_u64(g->old_chunk_sectors, g->new_chunk_sectors);
        g->park_progress_sectors = g->unit_progress_sectors;
        if (g->old_data_disks != g->new_data_disks)
                g->park_progress_sectors *= g->old_data_disks;
        g->backwards = in->backwards;
        g->redundancy = in->old_level == 6 && in->new_level == 6 ? 2 : 1;

        if (in->offset_diff_dev_sectors) {
                uint64_t moved = in->offset_diff_dev_sectors < 0 ? (uint64_t) -in->offset_diff_dev_sectors
                                                                  : (uint64_t) in->offset_diff_dev_sectors;

                if ((in->offset_diff_dev_sectors > 0) != in->backwards) {
                        *why = "data_offset moves against the reshape's direction (down needs forwards, up backwards)";
                        return -EINVAL;
                }
                /* Restarted, raid5 guards itself once d > 2u
                 * (reshape_request(): readpos = p - u + d > writepos =
                 * p + u); started live it does not, and the pacing window
                 * keeps it safe (pace_max_progress_sectors), which needs
                 * room for one park distance. */
                if (moved < 2 * g->unit_progress_sectors + g->park_progress_sectors) {
                        *why = "the reshape moves data_offset by less than two units and a window, too little to keep md's checkpoint close enough, and reshaped cannot back up a reshape that moves the data";
                        return -EINVAL;
                }
                g->relocates = true;
                g->pace_max_progress_sectors = (moved - 2 * g->unit_progress_sectors) /
                                               g->park_progress_sectors * g->park_progress_sectors;
        }

        component_sectors = in->component_kib * 2;
        g->end_progress_sectors = component_sectors & ~(g->unit_progress_sectors - 1);
        if (!g->end_progress_sectors) {
                *why = "members are smaller than one chunk";
                return -EINVAL;
        }

        min_data_disks = g->old_data_disks < g->new_data_disks ? g->old_data_disks
                                                               : g->new_data_disks;
        capacity_sectors = g->end_progress_sectors * min_data_disks;
        g->array_sectors = preserved_array_sectors(in, capacity_sectors, why);
        return g->array_sectors ? 0 : -EINVAL;
}

/* md's raid10 layout number: near copies in bits 0-7, far copies in bits
 * 8-15, "offset" in bit 16, far-set variants from bit 17 (raid10.c
 * setup_geo()). */
static unsigned raid10_near_copies(uint32_t layout)
{
        return layout & 0xff;
}

static bool raid10_is_near(uint32_t layout)
{
        return ((layout >> 8) & 0xff) == 1 && !(layout >> 16);
}

/* raid10_size() for a near layout: whole chunks of every member, divided
 * among the copies. */
static uint64_t raid10_capacity_sectors(uint64_t component_sectors, uint64_t chunk_sectors,
                                        unsigned raid_disks, unsigned near_copies)
{
        uint64_t chunks = component_sectors / chunk_sectors * raid_disks / near_copies;

        return chunks * chunk_sectors;
}

static int raid10_init(struct reshape_geometry *g, const struct geometry_input *in,
                       const char **why)
{
        unsigned copies = raid10_near_copies(in->new_layout);
        uint64_t component_sectors = in->component_kib * 2, cap_old, cap_new;

        if (in->old_level != 10 || in->new_level != 10) {
                *why = "a reshape between raid10 and another level is not supervised";
                return -EINVAL;
        }
        if (in->old_raid_disks != in->new_raid_disks) {
                *why = "raid10 reshapes that change the number of disks are not supervised; let mdadm run them";
                return -EINVAL;
        }
        if (!raid10_is_near(in->old_layout) || !raid10_is_near(in->new_layout)) {
                *why = "only raid10 near layouts (like n2) are supervised, not far or offset ones";
                return -EINVAL;
        }
        if (!copies || copies != raid10_near_copies(in->old_layout) || copies > in->new_raid_disks) {
                *why = "the raid10 layouts must keep the number of copies, at most one per disk";
                return -EINVAL;
        }
        if (!chunks_valid(in)) {
                *why = "chunk sizes must be powers of two of at least 4 KiB";
                return -EINVAL;
        }

        g->old_data_disks = g->new_data_disks = 1;
        g->old_chunk_sectors = bytes_to_sectors(in->old_chunk_bytes);
        g->new_chunk_sectors = bytes_to_sectors(in->new_chunk_bytes);
        g->unit_progress_sectors = g->old_chunk_sectors;
        g->park_progress_sectors = g->unit_progress_sectors;
        g->backwards = in->backwards;
        g->relocates = true;
        g->redundancy = copies - 1;

        /* md sizes the reshape with raid10_size(): backwards from the new
         * layout when the reshape starts, forwards from whichever layout
         * the array was started with. */
        cap_old = raid10_capacity_sectors(component_sectors, g->old_chunk_sectors,
                                          in->old_raid_disks, copies);
        cap_new = raid10_capacity_sectors(component_sectors, g->new_chunk_sectors,
                                          in->new_raid_disks, copies);
        g->end_progress_sectors = in->backwards ? cap_new : min_u64(cap_old, cap_new);
        if (!g->end_progress_sectors) {
                *why = "members are smaller than one chunk";
                return -EINVAL;
        }
        g->array_sectors = preserved_array_sectors(in, g->end_progress_sectors, why);
        return g->array_sectors ? 0 : -EINVAL;
}

int geometry_init(struct reshape_geometry *g, const struct geometry_input *in,
                  const char **why)
{
        *g = (struct reshape_geometry) {};
        if (in->old_level == 10 || in->new_level == 10)
                return raid10_init(g, in, why);
        return striped_init(g, in, why);
}

uint64_t geometry_align_down(const struct reshape_geometry *g, uint64_t progress_sectors)
{
        uint64_t a = g->park_progress_sectors, end = g->end_progress_sectors, left;

        if (!g->backwards)
                return progress_sectors - progress_sectors % a;
        if (progress_sectors >= end)
                return end;
        left = (end - progress_sectors + a - 1) / a * a;
        return left >= end ? 0 : end - left;
}

uint64_t geometry_align_up(const struct reshape_geometry *g, uint64_t progress_sectors)
{
        uint64_t a = g->park_progress_sectors, end = g->end_progress_sectors, left;

        if (!g->backwards)
                return (progress_sectors + a - 1) / a * a;
        if (progress_sectors >= end)
                return end;
        left = end - progress_sectors;
        return end - (left - left % a);
}

/* Where the kernel's progress counter starts in array sectors: 0 forwards,
 * the smaller layout's capacity backwards (raid5.c: raid5_size(mddev, 0, 0);
 * raid10.c: raid10_size(mddev, 0, 0), end_progress_sectors * 1). */
static uint64_t position_origin(const struct reshape_geometry *g)
{
        unsigned d = g->old_data_disks < g->new_data_disks ? g->old_data_disks
                                                           : g->new_data_disks;

        return g->backwards ? g->end_progress_sectors * d : 0;
}

uint64_t geometry_progress_to_position(const struct reshape_geometry *g,
                                       uint64_t progress_sectors)
{
        uint64_t moved = progress_sectors * g->new_data_disks;

        if (!g->backwards)
                return moved;
        return moved >= position_origin(g) ? 0 : position_origin(g) - moved;
}

struct array_range geometry_old_layout(const struct reshape_geometry *g, uint64_t progress_sectors)
{
        uint64_t pos = min_u64(geometry_progress_to_position(g, progress_sectors), g->array_sectors);

        if (!g->backwards)
                return (struct array_range) { pos, g->array_sectors };
        return (struct array_range) { 0, pos };
}

uint64_t geometry_position_to_progress(const struct reshape_geometry *g,
                                       uint64_t position_array_sectors)
{
        uint64_t origin = position_origin(g);

        if (!g->backwards)
                return position_array_sectors / g->new_data_disks;
        if (position_array_sectors >= origin)
                return 0;
        return (origin - position_array_sectors) / g->new_data_disks;
}

struct array_range geometry_at_risk(const struct reshape_geometry *g,
                                    uint64_t from_progress_sectors,
                                    uint64_t to_progress_sectors)
{
        uint64_t end = g->end_progress_sectors;
        uint64_t from = min_u64(from_progress_sectors, end);
        uint64_t to = min_u64(to_progress_sectors, end);
        uint64_t done = geometry_progress_to_position(g, from);
        uint64_t lo, hi;

        if (g->relocates)
                return (struct array_range) { 0, 0 };
        if (!g->backwards) {
                /* Rewrites members [from, to); their old content is array
                 * [from*old, to*old); array below `done` is already moved. */
                lo = max_u64(from * g->old_data_disks, done);
                hi = to * g->old_data_disks;
        } else {
                /* Rewrites members [end-to, end-from); array at or above
                 * `done` is already moved. */
                lo = (end - to) * g->old_data_disks;
                hi = min_u64((end - from) * g->old_data_disks, done);
        }
        hi = min_u64(hi, g->array_sectors);
        lo = min_u64(lo, hi);
        return (struct array_range) { lo, hi };
}

uint64_t geometry_min_window_array_sectors(const struct reshape_geometry *g)
{
        /* A window [from, from + park) rewrites park sectors of every
         * member, whose old content is park x old data disks of the array;
         * while the on-disk checkpoint lags behind @from all of it can be
         * needed (geometry_at_risk() from the checkpoint), so no bound
         * below that holds for every window. */
        if (g->relocates)
                return 0;
        return min_u64(g->park_progress_sectors * g->old_data_disks, g->array_sectors);
}

/*
 * raid5.c reshape_request(), per member: 'writepos' is the furthest the
 * next unit may write, 'readpos' the nearest it may still read old data
 * from; once readpos is beyond writepos the kernel checkpoints before any
 * write could reach old data its metadata still needs. Before that it
 * leaves the protection to userspace.
 */
static bool kernel_guards(const struct reshape_geometry *g, uint64_t progress_sectors)
{
        uint64_t pos = geometry_progress_to_position(g, progress_sectors);
        uint64_t u = g->unit_progress_sectors;
        uint64_t writepos = pos / g->new_data_disks, readpos = pos / g->old_data_disks;

        if (!g->backwards) {
                readpos = readpos > u ? readpos - u : 0;
                return readpos > writepos + u;
        }
        if (writepos < u)
                return false;
        return readpos + u < writepos - u;
}

static uint64_t next_park(const struct reshape_geometry *g, uint64_t progress_sectors)
{
        return g->backwards ? geometry_align_up(g, progress_sectors + 1)
                            : geometry_align_down(g, progress_sectors) + g->park_progress_sectors;
}

/* The first park point in (lo, hi] where kernel_guards() turns @want,
 * given it is not @want at lo and changes only once in between. */
static uint64_t first_park(const struct reshape_geometry *g, uint64_t lo, uint64_t hi, bool want)
{
        for (;;) {
                uint64_t mid = geometry_align_down(g, lo + (hi - lo) / 2);

                if (mid <= lo)
                        mid = next_park(g, lo);
                if (mid >= hi)
                        return hi;
                if (kernel_guards(g, mid) == want)
                        hi = mid;
                else
                        lo = mid;
        }
}

uint64_t geometry_next_at_risk(const struct reshape_geometry *g,
                               uint64_t from_progress_sectors)
{
        uint64_t lo = geometry_align_down(g, from_progress_sectors);
        uint64_t end = g->end_progress_sectors;

        if (lo >= end || g->relocates)
                return end;
        if (!kernel_guards(g, lo))
                return lo;
        /* Forwards the guard, once there, stays; backwards it ends. */
        if (!g->backwards)
                return end;
        return first_park(g, lo, end, false);
}

uint64_t geometry_total_at_risk_array_sectors(const struct reshape_geometry *g)
{
        uint64_t from = geometry_next_at_risk(g, 0);

        if (from >= g->end_progress_sectors)
                return 0;
        return array_range_sectors(geometry_at_risk(g, from, geometry_risk_end(g, from)));
}

bool geometry_kernel_guards(const struct reshape_geometry *g, uint64_t progress_sectors)
{
        if (progress_sectors >= g->end_progress_sectors)
                return false;
        if (g->relocates || g->old_data_disks == g->new_data_disks)
                return geometry_next_at_risk(g, progress_sectors) > progress_sectors;
        /* Forwards the guard, once there, stays, and restarted from a
         * checkpoint raid5 applies its rule to the checkpoint itself, not
         * to a park point. Backwards the guard ends before the reshape
         * does: it must hold up to the checkpoint, not only at the park
         * point below. */
        if (!g->backwards)
                return kernel_guards(g, progress_sectors);
        return geometry_next_at_risk(g, progress_sectors) > progress_sectors;
}

uint64_t geometry_risk_end(const struct reshape_geometry *g, uint64_t from_progress_sectors)
{
        uint64_t lo = geometry_align_down(g, from_progress_sectors);
        uint64_t end = g->end_progress_sectors;

        if (lo >= end || g->relocates || g->backwards || g->old_data_disks == g->new_data_disks)
                return end;
        return first_park(g, lo, end, true);
}

bool geometry_kernel_restarts(const struct reshape_geometry *g, uint64_t position_array_sectors)
{
        uint64_t unit = g->unit_progress_sectors, here_new, here_old;

        if (g->relocates || g->old_data_disks == g->new_data_disks)
                return true;
        if (position_array_sectors % (unit * g->new_data_disks))
                return false;
        here_new = position_array_sectors / (unit * g->new_data_disks);
        here_old = position_array_sectors / (unit * g->old_data_disks);
        return g->backwards ? here_new > here_old : here_new < here_old;
}

int geometry_critical_restart(const struct reshape_geometry *g, uint64_t checkpoint_array_sectors,
                              uint64_t backup_end_array_sectors, uint64_t *ret_position_array_sectors,
                              const char **why)
{
        uint64_t step = g->unit_progress_sectors * g->new_data_disks;
        uint64_t new_row = g->new_chunk_sectors * g->new_data_disks;
        uint64_t pos = (backup_end_array_sectors + step - 1) / step * step;

        if (g->relocates || g->backwards || g->new_data_disks <= g->old_data_disks) {
                *why = "only a grow's first units are finished this way";
                return -ERANGE;
        }
        if (checkpoint_array_sectors % new_row || checkpoint_array_sectors > backup_end_array_sectors) {
                *why = "the checkpoint is not on a new stripe within the backup";
                return -ERANGE;
        }
        while (pos < g->array_sectors &&
               !(geometry_kernel_restarts(g, pos) &&
                 geometry_kernel_guards(g, geometry_position_to_progress(g, pos))))
                pos += step;
        if (pos >= g->array_sectors) {
                *why = "md would not restart from any position within the array";
                return -ERANGE;
        }
        *ret_position_array_sectors = pos;
        return 0;
}

struct dev_range geometry_old_layout_dev_rows(const struct reshape_geometry *g, struct array_range r)
{
        uint64_t row = g->old_chunk_sectors * g->old_data_disks;

        if (r.hi_array_sectors <= r.lo_array_sectors)
                return (struct dev_range) { 0, 0 };
        return (struct dev_range) {
                r.lo_array_sectors / row * g->old_chunk_sectors,
                (r.hi_array_sectors + row - 1) / row * g->old_chunk_sectors,
        };
}

/* md.c super_1_allow_new_offset(): 36 KiB from the superblock's start. */
#define SUPER1_RESERVED_DEV_SECTORS ((32 + 4) * 2)

struct offset_room geometry_member_room(unsigned major, unsigned minor, uint64_t data_offset_dev_sectors,
                                        uint64_t member_dev_sectors, uint64_t component_dev_sectors)
{
        /* 1.1 has its superblock at 0, 1.2 at 4 KiB; 1.0 at the end. */
        uint64_t super_dev_sectors = minor == 2 ? 8 : 0;
        struct offset_room room = {};

        if (major != 1 || (minor != 1 && minor != 2))
                return room;
        if (data_offset_dev_sectors > super_dev_sectors + SUPER1_RESERVED_DEV_SECTORS)
                room.head_dev_sectors = data_offset_dev_sectors - super_dev_sectors - SUPER1_RESERVED_DEV_SECTORS;
        if (member_dev_sectors > component_dev_sectors)
                room.tail_dev_sectors = member_dev_sectors - component_dev_sectors;
        return room;
}

int geometry_offset_move(int level, unsigned old_raid_disks, unsigned new_raid_disks,
                         uint64_t old_chunk_bytes, uint64_t new_chunk_bytes, struct offset_room room,
                         int64_t *ret_diff, const char **why)
{
        unsigned od = geometry_data_disks(level, old_raid_disks), nd = geometry_data_disks(level, new_raid_disks);
        uint64_t unit = bytes_to_sectors(max_u64(old_chunk_bytes, new_chunk_bytes));
        uint64_t need, have;
        bool down;

        if (!od || !nd || !unit) {
                *why = "only raid4, raid5 and raid6 move data_offset this way";
                return -EINVAL;
        }
        /* Two units and a park distance (striped_init()). */
        need = 2 * unit + (od == nd ? unit : unit * od);
        down = nd > od || (nd == od && room.head_dev_sectors > room.tail_dev_sectors);
        have = down ? room.head_dev_sectors : room.tail_dev_sectors;
        if (have < need) {
                *why = nd > od ? "not enough room before the data on every member (a grow moves data_offset down)"
                     : nd < od ? "not enough room after the data on every member (a shrink moves data_offset up)"
                               : "not enough room before or after the data on every member";
                return -ENOSPC;
        }
        *ret_diff = (int64_t) (have / unit * unit) * (down ? -1 : 1);
        return 0;
}
