// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pause and resume: the pause record read on SIGUSR1, the kernel held
 * at the end of what is durable, the hold confirmed for `reshaped pause`.
 */
#include "supervise/supervise-internal.h"

/*
 * reshaped pause / resume. The pause lives in the record (record.h), so a
 * supervisor started on a paused array (supervise, restore, recover, a
 * restart by systemd) holds it too. Paused, the planner drains: no new
 * windows, no raises; the kernel runs on to sync_max, the end of what is
 * backed up, and checkpoints there; then every window is behind the
 * checkpoint and let go, and nothing stays suspended: the kernel cannot
 * pass sync_max, and restore finds it held exactly at the checkpoint
 * (sup_set_resume()). Writes anywhere would hang for the whole pause if a
 * window stayed suspended, so none does. A kernel already let go to the
 * end (sync_max=max, the last window) cannot be held without freezing;
 * it is left to finish, and the answer says so. The hold is confirmed in
 * RUN_DIR/MDNAME.held for `reshaped pause` to wait on.
 */

static double progress_percent(const struct sup *s, uint64_t progress)
{
        return 100.0 * (double) progress / (double) s->geo.end_progress_sectors;
}

/* Where the paused kernel is held, once it is. */
bool sup_pause_holding(const struct sup *s)
{
        const struct planner *p = &s->plan;

        if (!s->paused)
                return false;
        if (p->released)
                return true;
        return !p->frozen && !p->n_ahead && !sup_holds_any(s) && array_range_sectors(p->suspended) == 0 &&
               p->completed >= p->sync_max && (p->checkpoint >= p->sync_max || s->geo.relocates);
}

void sup_pause_refresh(struct sup *s)
{
        uint64_t request = 0;
        bool was = s->paused;
        int r;

        s->pause_check = false;
        r = record_pause_get(s->uuid, &request);
        if (r < 0 && r != -ENOENT && r != -EBADMSG) {
                log_warning("%s: the pause record cannot be read; %s as before.", md_name(s->md),
                            s->paused ? "staying paused" : "going on");
                return;
        }
        s->paused = r != -ENOENT;
        if (s->paused && (!was || request != s->pause_request))
                s->pause_confirmed = false;
        s->pause_request = request;
        planner_set_draining(&s->plan, s->paused);
        if (s->paused && !was)
                log_notice("%s: pausing: no more windows; the kernel goes on to %.1f%% (sync_max, the end of what is backed up) and is held there until 'reshaped resume %s'.",
                           md_name(s->md), progress_percent(s, planner_status(&s->plan).sync_max), md_devnode(s->md));
        else if (!s->paused && was) {
                supervise_held_remove(md_name(s->md));
                s->pause_confirmed = false;
                /* The pause is not time the kernel waited for backups. */
                if (s->parked_since_ms)
                        s->parked_since_ms = sup_now_ms();
                report_resumed(md_name(s->md), progress_percent(s, planner_status(&s->plan).completed));
        }
}

void sup_pause_confirm(struct sup *s)
{
        struct plan_status ps = planner_status(&s->plan);
        struct supervise_held h = {
                .request = s->pause_request,
                .pid = getpid(),
                .progress_sectors = ps.released ? ps.completed : ps.sync_max,
                .final_window = ps.released,
        };

        if (s->pause_confirmed || !sup_pause_holding(s))
                return;
        /* Started paused, the kernel may never get a raise: held within
         * what is durable it is protected, and systemd, waiting for
         * READY=1, is to hear so. */
        if (!s->protecting)
                sup_protection_established(s);
        h.position_array_sectors = geometry_progress_to_position(&s->geo, h.progress_sectors);
        if (h.final_window)
                log_notice("%s: cannot pause at %.1f%%: the kernel is in its last window, protected to the end with sync_max=max, and cannot be held without freezing; it finishes on its own.",
                           md_name(s->md), progress_percent(s, h.progress_sectors));
        else
                report_paused(md_name(s->md), progress_percent(s, h.progress_sectors), h.position_array_sectors);
        if (supervise_held_write(md_name(s->md), &h) == 0)
                s->pause_confirmed = true;
}

/* A pause asked for while actions run (a backup takes a while) takes
 * effect before the next one, not after the raise that follows it. */
void sup_pause_take_pending(struct sup *s)
{
        struct timespec zero = { 0, 0 };
        sigset_t pending, one;

        if (planner_status(&s->plan).draining || sigpending(&pending) < 0 || !sigismember(&pending, SUPERVISE_PAUSE_SIGNAL))
                return;
        sigemptyset(&one);
        sigaddset(&one, SUPERVISE_PAUSE_SIGNAL);
        if (sigtimedwait(&one, NULL, &zero) == SUPERVISE_PAUSE_SIGNAL)
                sup_pause_refresh(s);
}
