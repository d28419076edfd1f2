// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "reshaped/util/log.h"
#include "reshaped/md/md-parse.h"
#include "reshaped/md/md.h"
#include "md/md-internal.h"

static int write_u64(struct md *md, const char *attr, uint64_t value)
{
        char buf[24];

        snprintf(buf, sizeof(buf), "%" PRIu64, value);
        return md_write_attr(md, attr, buf);
}

int md_get_sync_action(struct md *md, enum md_sync_action *ret)
{
        return MD_GET_PARSED(md, "sync_action", md_parse_sync_action, ret);
}

int md_set_sync_action(struct md *md, enum md_sync_action action)
{
        const char *s = md_sync_action_to_string(action);

        if (!s)
                return log_error_errno(EINVAL, "Invalid sync_action %d for %s.", (int) action, md->name);
        return md_write_attr(md, "sync_action", s);
}

int md_get_sync_completed(struct md *md, struct md_sync_completed *ret)
{
        return MD_GET_PARSED(md, "sync_completed", md_parse_sync_completed, ret);
}

int md_get_reshape_position(struct md *md, uint64_t *ret_array_sectors)
{
        return MD_GET_PARSED(md, "reshape_position", md_parse_reshape_position, ret_array_sectors);
}

int md_get_sync_max(struct md *md, uint64_t *ret_dev_sectors)
{
        return MD_GET_PARSED(md, "sync_max", md_parse_sync_max, ret_dev_sectors);
}

int md_set_sync_max(struct md *md, uint64_t dev_sectors)
{
        if (dev_sectors == MD_SYNC_MAX_UNLIMITED)
                return md_write_attr(md, "sync_max", "max");
        return write_u64(md, "sync_max", dev_sectors);
}

int md_set_sync_max_unlimited(struct md *md)
{
        return md_set_sync_max(md, MD_SYNC_MAX_UNLIMITED);
}

int md_get_sync_min(struct md *md, uint64_t *ret_dev_sectors)
{
        return MD_GET_PARSED(md, "sync_min", md_parse_u64, ret_dev_sectors);
}

int md_set_sync_min(struct md *md, uint64_t dev_sectors)
{
        return write_u64(md, "sync_min", dev_sectors);
}

int md_get_suspend(struct md *md, uint64_t *ret_lo_array_sectors, uint64_t *ret_hi_array_sectors)
{
        uint64_t lo, hi;
        int r;

        r = MD_GET_PARSED(md, "suspend_lo", md_parse_u64, &lo);
        if (r < 0)
                return r;
        r = MD_GET_PARSED(md, "suspend_hi", md_parse_u64, &hi);
        if (r < 0)
                return r;
        *ret_lo_array_sectors = lo;
        *ret_hi_array_sectors = hi;
        return 0;
}

int md_set_suspend(struct md *md, uint64_t lo_array_sectors, uint64_t hi_array_sectors)
{
        struct md_suspend_store steps[2];
        uint64_t cur_lo, cur_hi;
        size_t n;
        int r;

        r = md_get_suspend(md, &cur_lo, &cur_hi);
        if (r < 0)
                return r;
        n = md_suspend_plan(cur_lo, cur_hi, lo_array_sectors, hi_array_sectors, steps);
        for (size_t i = 0; i < n; i++) {
                const char *attr = steps[i].bound == MD_SUSPEND_LO ? "suspend_lo" : "suspend_hi";

                r = write_u64(md, attr, steps[i].value_array_sectors);
                if (r < 0)
                        return r;
        }
        return 0;
}

int md_get_array_state(struct md *md, enum md_array_state *ret)
{
        return MD_GET_PARSED(md, "array_state", md_parse_array_state, ret);
}

int md_get_degraded(struct md *md, unsigned *ret)
{
        return MD_GET_PARSED(md, "degraded", md_parse_unsigned, ret);
}

int md_get_io_sectors(struct md *md, uint64_t *ret_sectors)
{
        char buf[256];
        int r;

        r = md_read_attr_if_present(md, "../stat", buf, sizeof(buf));
        if (r < 0)
                return r;
        return md_parsed(md, "stat", buf, md_parse_block_stat_sectors(buf, ret_sectors));
}

static int get_new_old(struct md *md, const char *attr, uint32_t *ret_new, uint32_t *ret_old)
{
        char buf[ATTR_BUF_SIZE];
        int r;

        r = md_read_attr(md, attr, buf, sizeof(buf));
        if (r < 0)
                return r;
        r = md_parse_new_old(buf, ret_new, ret_old);
        if (r == -ENODATA)
                return log_error_errno(r, "%s of %s is empty: the array has no disks yet.",
                                       attr, md->name);
        return md_parsed(md, attr, buf, r);
}

static int get_reshape_direction(struct md *md, enum md_reshape_direction *ret)
{
        char buf[ATTR_BUF_SIZE];
        int r;

        r = md_read_attr_if_present(md, "reshape_direction", buf, sizeof(buf));
        if (r == -ENOENT) {
                *ret = MD_RESHAPE_DIRECTION_UNKNOWN;
                return 0;
        }
        if (r < 0)
                return r;
        return md_parsed(md, "reshape_direction", buf, md_parse_reshape_direction(buf, ret));
}

/* raid5.c run(): the first member's move, then the one nearest in the
 * reshape's direction (the least safe). */
static int get_offset_diff(struct md *md, bool backwards, int64_t *ret)
{
        struct md_member *m = NULL;
        size_t n = 0;
        bool first = true;
        int64_t diff = 0;
        int r;

        r = md_get_members(md, &m, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                int64_t d;

                if (m[i].slot < 0 || (m[i].state & MD_MEMBER_JOURNAL))
                        continue;
                d = (int64_t) m[i].new_data_offset_dev_sectors - (int64_t) m[i].data_offset_dev_sectors;
                if (first || (backwards ? d < diff : d > diff))
                        diff = d;
                first = false;
        }
        md_members_free(m, n);
        *ret = diff;
        return 0;
}

int md_get_geometry(struct md *md, struct md_geometry *ret)
{
        struct md_geometry g = {};
        uint32_t raid_disks_new, raid_disks_old;
        int r;

        r = MD_GET_PARSED(md, "level", md_parse_level, &g.level);
        if (r < 0)
                return r;

        r = get_new_old(md, "raid_disks", &raid_disks_new, &raid_disks_old);
        if (r < 0)
                return r;
        g.raid_disks_new = raid_disks_new;
        g.raid_disks_old = raid_disks_old;
        r = get_new_old(md, "chunk_size", &g.chunk_bytes_new, &g.chunk_bytes_old);
        if (r < 0)
                return r;
        r = get_new_old(md, "layout", &g.layout_new, &g.layout_old);
        if (r < 0)
                return r;
        r = MD_GET_PARSED(md, "component_size", md_parse_u64, &g.component_kib);
        if (r < 0)
                return r;
        r = get_reshape_direction(md, &g.direction);
        if (r < 0)
                return r;

        r = MD_GET_PARSED(md, "metadata_version", md_parse_metadata_version, &g.metadata);
        if (r < 0)
                return r;
        r = get_offset_diff(md, g.direction == MD_RESHAPE_DIRECTION_BACKWARDS, &g.offset_diff_dev_sectors);
        if (r < 0)
                return r;

        *ret = g;
        return 0;
}

int md_get_sync_speed_min(struct md *md, struct md_sync_speed *ret)
{
        return MD_GET_PARSED(md, "sync_speed_min", md_parse_sync_speed, ret);
}

int md_get_sync_speed_max(struct md *md, struct md_sync_speed *ret)
{
        return MD_GET_PARSED(md, "sync_speed_max", md_parse_sync_speed, ret);
}

static int set_sync_speed(struct md *md, const char *attr, unsigned kib_per_sec)
{
        if (kib_per_sec == 0)
                return md_write_attr(md, attr, "system");
        return write_u64(md, attr, kib_per_sec);
}

int md_set_sync_speed_min(struct md *md, unsigned kib_per_sec)
{
        return set_sync_speed(md, "sync_speed_min", kib_per_sec);
}

int md_set_sync_speed_max(struct md *md, unsigned kib_per_sec)
{
        return set_sync_speed(md, "sync_speed_max", kib_per_sec);
}

int md_set_level(struct md *md, int level)
{
        const char *name = md_level_to_string(level);

        if (!name)
                return log_error_errno(EINVAL, "Invalid level %d for %s.", level, md->name);
        return md_write_attr(md, "level", name);
}
