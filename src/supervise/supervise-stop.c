// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Stopping safely: on a signal, an error, or an array stopped under us,
 * the kernel held where the backup protects it, and a message that says
 * what state it was left in and what continues.
 */
#include "supervise/supervise-internal.h"

/* What the kernel is doing now, read back rather than assumed, for the
 * messages that tell an admin the state a stop or failure left. */
void sup_describe_kernel(struct sup *s, char *buf, size_t size)
{
        enum md_sync_action action;
        uint64_t sync_max, pos;

        if (md_get_reshape_position(s->md, &pos) == 0 && pos == MD_RESHAPE_POSITION_NONE) {
                snprintf(buf, size, "the reshape has finished");
                return;
        }
        if (md_get_sync_action(s->md, &action) < 0 || md_get_sync_max(s->md, &sync_max) < 0) {
                snprintf(buf, size, "its state cannot be read");
                return;
        }
        if (action == MD_SYNC_ACTION_FROZEN)
                snprintf(buf, size, "the reshape is frozen");
        else if (sync_max == MD_SYNC_MAX_UNLIMITED)
                snprintf(buf, size, "the reshape runs (sync_action=%s) with sync_max=max",
                         md_sync_action_to_string(action));
        else
                snprintf(buf, size, "the reshape runs (sync_action=%s), held at sync_max=%" PRIu64 " (%.1f%%)",
                         md_sync_action_to_string(action), sync_max,
                         100.0 * (double) sync_max / (double) s->geo.end_progress_sectors);
}

bool sup_holds_any(const struct sup *s)
{
        return planner_status(&s->plan).holds_backup;
}

/* Freezes the reshape, checked: sync_action must read frozen after it. */
static int freeze_checked(struct sup *s)
{
        enum md_sync_action a;
        int r;

        r = md_get_sync_action(s->md, &a);
        if (r < 0 || a == MD_SYNC_ACTION_FROZEN)
                return r;
        r = md_set_sync_action(s->md, MD_SYNC_ACTION_FROZEN);
        if (r < 0)
                return r;
        return sup_wait_sync_action(s, MD_SYNC_ACTION_FROZEN, MD_SYNC_ACTION_FROZEN);
}

/*
 * Stops without leaving anything at risk. First lets the kernel reach
 * sync_max, the end of what is backed up, where it checkpoints (after the
 * final release, the end of the reshape); then every window is behind
 * the checkpoint and is forgotten, and the suspend range empties. If
 * that does not happen in time, or the kernel cannot move because
 * someone else froze it, the reshape is frozen with the backup and a
 * suspend range that matches it. Every store is checked, and the message
 * says the state read back.
 */
/* Whether windows still held lie beyond the checkpoint the frozen kernel
 * left on disk, where it may have rewritten them. When the drain could
 * not forget them (the backup device failed), the kernel may still have
 * passed them all, or been parked at that checkpoint with the next window
 * only being backed up (sync_max there): then a restart needs none of
 * them, and nothing need stay suspended. */
static bool held_needed(struct sup *s, struct array_range held)
{
        uint64_t pos, sync_max, bound;
        bool active;

        if (array_range_sectors(held) == 0)
                return false;
        if (md_read_disk_checkpoint(s->md, &active, &pos) < 0 || !active ||
            md_get_sync_max(s->md, &sync_max) < 0 || sync_max == MD_SYNC_MAX_UNLIMITED)
                return true;
        bound = geometry_progress_to_position(&s->geo, sync_max);
        if (s->geo.backwards)
                return held.lo_array_sectors < pos && bound < pos;
        return held.hi_array_sectors > pos && bound > pos;
}

/*
 * The array was stopped under us (mdadm --stop: md checkpointed on the
 * way down and removed its attributes). Nothing is left to drain or
 * freeze; the backup keeps what lies beyond the checkpoint for restore.
 */
bool sup_array_stopped(struct sup *s)
{
        double at = 100.0 * (double) planner_status(&s->plan).checkpoint / (double) s->geo.end_progress_sectors;
        bool running = true;

        if (md_array_is_running(md_name(s->md), &running) < 0 || running)
                return false;
        if (s->geo.relocates)
                report_event(REPORT_MID_STOPPED, md_name(s->md),
                             "%s: the array was stopped (mdadm --stop) at %.1f%%; nothing is at risk (the new layout goes to a new data offset). Once it is assembled again (mdadm --assemble), continue with: reshaped supervise %s",
                             md_name(s->md), at, md_devnode(s->md));
        else
                report_event(REPORT_MID_STOPPED, md_name(s->md),
                             "%s: the array was stopped (mdadm --stop) at %.1f%%; %s keeps what lies beyond its checkpoint. Continue with: reshaped restore %s --backup-file %s (at boot, reshaped-recover.service does it)",
                             md_name(s->md), at,
                             s->o->backup_path, md_devnode(s->md), s->o->backup_path);
        return true;
}

int sup_stop_safely(struct sup *s, const char *why)
{
        uint64_t deadline = sup_now_ms() + DRAIN_TIMEOUT_MS;
        struct array_range held;
        struct plan_status ps;
        char cont[512], state[160];
        int r = 0, rf = 0, rs;

        report_notify_stopping(why);
        planner_set_draining(&s->plan, true);
        while (!s->frozen_by_other && !planner_status(&s->plan).finished && sup_holds_any(s) && sup_now_ms() < deadline) {
                /* The drain and the freeze after it are bounded; systemd
                 * is to wait for them rather than SIGKILL at TimeoutStopSec=,
                 * which would leave writes suspended. */
                report_notify_extend_stop((deadline - sup_now_ms() + FREEZE_TIMEOUT_MS + 10000) * 1000);
                r = sup_run_actions(s);
                if (r < 0 || !sup_holds_any(s))
                        break;
                r = sup_wait_and_observe(s, 1000);
                if (r < 0 && r != -EINTR)
                        break;
        }
        /* Also after the last observation: a finish is acted on here. */
        (void) sup_run_actions(s);

        ps = planner_status(&s->plan);
        /* Released with nothing held, the kernel runs to the end with
         * nothing at risk; otherwise it stops where the backup holds. */
        if (!ps.finished && (ps.holds_backup || !ps.released))
                rf = freeze_checked(s);
        held = ps.finished ? (struct array_range) { 0, 0 } : planner_held(&s->plan);
        if (rf >= 0 && !held_needed(s, held))
                held = (struct array_range) { 0, 0 };
        rs = md_set_suspend(s->md, held.lo_array_sectors, held.hi_array_sectors);
        sup_describe_kernel(s, state, sizeof(state));

        if (s->geo.relocates)
                snprintf(cont, sizeof(cont), "reshaped supervise %s", md_devnode(s->md));
        else
                snprintf(cont, sizeof(cont), "reshaped supervise %s --backup-file %s",
                         md_devnode(s->md), s->o->backup_path);
        /* mdadm --stop freezes, then stops: the array may go meanwhile. */
        if ((rf < 0 || rs < 0) && sup_array_stopped(s))
                return 1;
        if (rf < 0 || rs < 0)
                report_event(REPORT_MID_STOPPED, md_name(s->md),
                             "%s: %s. Stopping did not complete: %s%s (%s); %s. %s holds array sectors %" PRIu64 "-%" PRIu64
                             ". Check the array, then continue with: %s",
                             md_name(s->md), why, rf < 0 ? "the freeze failed" : "setting the suspend range failed",
                             rf < 0 && rs < 0 ? ", and so did setting the suspend range" : "",
                             strerror(-(rf < 0 ? rf : rs)), state, s->o->backup_path ? s->o->backup_path : "no backup",
                             held.lo_array_sectors, held.hi_array_sectors, cont);
        else if (ps.finished)
                report_event(REPORT_MID_STOPPED, md_name(s->md), "%s: %s; the reshape had finished, and no writes are suspended.",
                             md_name(s->md), why);
        else if (s->geo.relocates)
                report_event(REPORT_MID_STOPPED, md_name(s->md),
                             "%s: %s; %s. Nothing is at risk (the new layout goes to a new data offset) and no writes are suspended. Continue with: %s",
                             md_name(s->md), why, state, cont);
        else if (array_range_sectors(held) == 0)
                report_event(REPORT_MID_STOPPED, md_name(s->md),
                             "%s: %s. Stopped safely at %.1f%%: %s at its last checkpoint, nothing is at risk and no writes are suspended. Continue with: %s",
                             md_name(s->md), why,
                             100.0 * (double) ps.checkpoint / (double) s->geo.end_progress_sectors, state, cont);
        else
                report_event(REPORT_MID_STOPPED, md_name(s->md),
                             "%s: %s; %s. %s holds array sectors %" PRIu64 "-%" PRIu64
                             " beyond the kernel's checkpoint, and writes to them stay suspended so that it stays valid."
                             " Continue with: mdadm --stop %s, then reshaped restore %s (or mdadm --assemble --backup-file %s)",
                             md_name(s->md), why, state, s->o->backup_path, held.lo_array_sectors,
                             held.hi_array_sectors, md_devnode(s->md), md_devnode(s->md), s->o->backup_path);
        return rf < 0 || rs < 0 ? -1 : 0;
}
