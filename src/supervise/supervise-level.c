// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The end of a level change: what mdadm's own monitor does once the
 * reshape of `mdadm --grow --level=5` on a raid6 has finished (Grow.c,
 * impose_level()): md takes the array over to raid5. mdadm 4.2 keeps the
 * level it wants in memory only (the 6.1 kernel has no md/new_level, the
 * superblocks say 6), so after the systemd hand-off nobody would do it;
 * the reshape's layouts say it instead (reshape_shape_final_level()).
 */
#include "supervise/supervise-internal.h"

/* The finished raid6 is what the reshape was to make of it, and raid5
 * can run on what is left of it. */
static int check_finished(struct sup *s, const struct reshape_final_level *f)
{
        struct md_geometry now;
        unsigned degraded;
        uint64_t pos;
        char want[32];
        int r;

        r = md_get_reshape_position(s->md, &pos);
        if (r < 0)
                return r;
        if (pos != MD_RESHAPE_POSITION_NONE)
                return log_error_errno(EBUSY, "%s: reshape_position still reads %" PRIu64 "; the level stays raid6 until the reshape has finished.",
                                       md_name(s->md), pos);
        r = sup_wait_sync_action(s, MD_SYNC_ACTION_IDLE, MD_SYNC_ACTION_IDLE);
        if (r < 0)
                return r;
        r = md_get_geometry(s->md, &now);
        if (r < 0)
                return r;
        md_layout_name(6, s->mdg.layout_new, want, sizeof(want));
        if (now.level != 6 || now.layout_old != s->mdg.layout_new || now.layout_new != s->mdg.layout_new ||
            now.raid_disks_new != s->mdg.raid_disks_new || now.raid_disks_old != s->mdg.raid_disks_new) {
                char l[32];

                return log_error_errno(EPROTO, "%s: after the reshape the array is %s, layout %s, on %u disks, not raid6 in %s on %u: someone else changed it; its level is left alone.",
                                       md_name(s->md), md_level_to_string(now.level) ? md_level_to_string(now.level) : "of another level",
                                       md_layout_name(now.level, now.layout_new, l, sizeof(l)), now.raid_disks_new,
                                       want, s->mdg.raid_disks_new);
        }
        r = md_get_degraded(s->md, &degraded);
        if (r < 0)
                return r;
        /* The member given up is Q's: one missing elsewhere leaves a
         * degraded raid5, two would leave none. */
        if (degraded > 1)
                return log_error_errno(EIO, "%s is missing %u members: raid5 on %u disks would not run. Replace them, let md recover, then: mdadm --grow %s --level=5",
                                       md_name(s->md), degraded, f->raid_disks, md_devnode(s->md));
        return 0;
}

/* The member md no longer gives a slot: the spare the change leaves. */
static void spare_name(struct sup *s, char *buf, size_t size)
{
        struct md_member *m = NULL;
        size_t n = 0;

        snprintf(buf, size, "none");
        if (md_get_members(s->md, &m, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                if (m[i].slot == MD_SLOT_NONE && !(m[i].state & MD_MEMBER_FAULTY)) {
                        snprintf(buf, size, "%s", m[i].devnode);
                        break;
                }
        md_members_free(m, n);
}

int sup_finish_level(struct sup *s)
{
        struct reshape_final_level f;
        struct md_geometry now;
        char l6[32], l5[32], l[32], spare[64];
        int r;

        if (s->o->keep_level || !reshape_shape_final_level(&s->mdg, &f))
                return 0;
        md_layout_name(6, s->mdg.layout_new, l6, sizeof(l6));
        md_layout_name(5, f.layout, l5, sizeof(l5));
        r = check_finished(s, &f);
        if (r < 0)
                goto fail;
        r = md_set_level(s->md, f.level);
        if (r < 0)
                goto fail;
        r = md_get_geometry(s->md, &now);
        if (r < 0)
                goto fail;
        if (now.level != f.level || now.layout_new != f.layout || now.raid_disks_new != f.raid_disks) {
                r = log_error_errno(EPROTO, "%s: after level=raid5 the array reads %s, layout %s, on %u disks, not raid5 in %s on %u.",
                                    md_name(s->md), md_level_to_string(now.level) ? md_level_to_string(now.level) : "of another level",
                                    md_layout_name(now.level, now.layout_new, l, sizeof(l)), now.raid_disks_new,
                                    l5, f.raid_disks);
                goto fail;
        }
        spare_name(s, spare, sizeof(spare));
        report_event(REPORT_MID_LEVEL, md_name(s->md),
                     "%s: level changed to raid5 (%s, %u disks), as mdadm --grow --level=5 ends: the reshape left raid6 in %s, Q all on one disk; the spare now: %s.",
                     md_name(s->md), l5, f.raid_disks, l6, spare);
        return 0;

fail:
        report_event(REPORT_MID_STOPPED, md_name(s->md),
                     "%s: the reshape has finished and its data is in place, but the array is left raid6 in %s (the first half of a change to raid5). Finish it with: mdadm --grow %s --level=5",
                     md_name(s->md), l6, md_devnode(s->md));
        return r;
}
