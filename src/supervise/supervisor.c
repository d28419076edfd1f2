// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The supervisor's event loop: observe the kernel (sysfs and the on-disk
 * checkpoint), ask the planner, run its actions, report progress; the
 * rest of the supervisor is in the supervise-*.c files beside it.
 */
#include "supervise/supervise-internal.h"

uint64_t sup_now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

uint64_t sup_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

int sup_read_geometry(struct sup *s)
{
        uint64_t array_kib = 0;
        char buf[64];
        const char *why = NULL;
        int r;

        r = md_get_geometry(s->md, &s->mdg);
        if (r < 0)
                return r;
        if (s->mdg.metadata.kind != MD_METADATA_NATIVE)
                return log_error_errno(EOPNOTSUPP,
                                       "%s has %s metadata; only native 0.90 and 1.x arrays are supervised.",
                                       md_name(s->md),
                                       s->mdg.metadata.kind == MD_METADATA_NONE ? "no" : "external");
        /* "default" while md computes the size itself; a number (KiB) after
         * mdadm --grow --array-size, as before a shrink. */
        if (md_read_attr(s->md, "array_size", buf, sizeof(buf)) > 0 &&
            strncmp(buf, "default", 7) != 0)
                array_kib = strtoull(buf, NULL, 10);

        r = reshape_shape_geometry(&s->mdg, array_kib, &s->geo, &why);
        if (r < 0)
                return log_error_errno(r, "Cannot supervise the reshape of %s: %s.", md_name(s->md), why);
        reshape_shape_identity(&s->mdg, &s->geo, &s->id);
        return md_read_uuid_and_events(s->md, s->id.uuid, &s->id.events);
}

/* The checkpoint the superblocks hold, as progress. */
int sup_disk_checkpoint(struct sup *s, uint64_t *ret_progress)
{
        uint64_t pos;
        bool active;
        int r;

        r = md_read_disk_checkpoint(s->md, &active, &pos);
        if (r < 0)
                return r;
        if (!active)
                return -ENODATA;
        *ret_progress = geometry_position_to_progress(&s->geo, pos);
        return 0;
}

int sup_wait_sync_action(struct sup *s, enum md_sync_action want1, enum md_sync_action want2)
{
        uint64_t deadline = sup_now_ms() + FREEZE_TIMEOUT_MS;
        enum md_sync_action a;
        int r;

        for (;;) {
                r = md_get_sync_action(s->md, &a);
                if (r < 0)
                        return r;
                if (a == want1 || a == want2)
                        return 0;
                if (sup_now_ms() > deadline)
                        return log_error_errno(ETIMEDOUT, "%s: sync_action still reads %s after %d s.",
                                               md_name(s->md), md_sync_action_to_string(a),
                                               FREEZE_TIMEOUT_MS / 1000);
                usleep(20000);
        }
}

static int execute(struct sup *s, const struct plan_action *a)
{
        int r;

        switch (a->kind) {
        case PLAN_SUSPEND:
                return md_set_suspend(s->md, a->range.lo_array_sectors, a->range.hi_array_sectors);
        case PLAN_BACKUP:
                return sup_do_backup(s, a, planner_backup_releases_other(&s->plan, a, sup_now_ms()));
        case PLAN_SET_SYNC_MAX:
                return md_set_sync_max(s->md, a->progress);
        case PLAN_FORGET:
                r = sup_set_resume(s, planner_status(&s->plan).checkpoint);
                if (r < 0)
                        return r;
                return backup_file_release(s->bf, a->slot);
        case PLAN_READ_AHEAD:
                return sup_read_ahead(s, a);
        case PLAN_CANCEL_READS:
                /* sup_sync_reads() drops them once the planner has. */
                return 0;
        case PLAN_RELEASE:
                return md_set_sync_max_unlimited(s->md);
        case PLAN_RESUME:
                return md_set_sync_action(s->md, MD_SYNC_ACTION_RESHAPE);
        case PLAN_WAIT:
        case PLAN_DONE:
                return 0;
        }
        return -EINVAL;
}

/* Reads, in one go, what a wake-up needs of the kernel. */
static int take_snapshot(struct sup *s, struct sup_snapshot *snap)
{
        struct md_sync_completed sc;
        uint64_t pos;
        int r;

        *snap = (struct sup_snapshot) { .now_ms = sup_now_ms() };
        r = md_get_sync_action(s->md, &snap->action);
        if (r < 0)
                return r;
        r = md_get_reshape_position(s->md, &pos);
        if (r < 0)
                return r;
        snap->finished = pos == MD_RESHAPE_POSITION_NONE;
        r = md_get_sync_completed(s->md, &sc);
        if (r < 0)
                return r;
        snap->completed_valid = sc.state == MD_SYNC_COMPLETED_RUNNING;
        snap->completed_progress = sc.completed_dev_sectors;
        r = md_get_degraded(s->md, &snap->degraded);
        if (r < 0)
                return r;
        if (!snap->finished) {
                r = sup_disk_checkpoint(s, &snap->checkpoint_progress);
                if (r < 0 && r != -ENODATA)
                        return r;
                snap->checkpoint_valid = r == 0;
        }
        snap->io_due = !s->io_sampled_ms || snap->now_ms - s->io_sampled_ms >= LOAD_SAMPLE_MS;
        if (snap->io_due)
                snap->io_valid = md_get_io_sectors(s->md, &snap->io_sectors) == 0;
        return 0;
}

/* A member lost mid-reshape: md reconstructs what we read through it, so
 * within the level's redundancy the backups stay exact; beyond it the
 * array has failed and nothing more may be written. */
static int check_degraded(struct sup *s, const struct sup_snapshot *snap)
{
        unsigned degraded = snap->degraded, tolerated = s->geo.redundancy;

        if (degraded == s->degraded)
                return 0;
        if (degraded > tolerated)
                return log_error_errno(EIO, "%s lost %u members, more than %s survives; the array has failed.",
                                       md_name(s->md), degraded,
                                       md_level_to_string(s->mdg.level) ? md_level_to_string(s->mdg.level) : "its level");
        if (degraded > s->degraded)
                log_warning("%s is now missing %u member(s); the reshape goes on and backups are reconstructed by md. Replace the failed member after the reshape.",
                            md_name(s->md), degraded);
        s->degraded = degraded;
        return 0;
}

/*
 * sync_action reads neither reshape nor frozen-by-us mid-reshape. md
 * passes through idle between a finished reshape and reshape_position
 * reading none, and while it restarts the thread: look again for a
 * moment, @snap retaken each time. Frozen by someone else (mdadm --stop
 * freezes first), the kernel cannot move, so there is nothing to wait
 * for: stop at once, holding what the backup holds.
 */
static int reshape_stopped(struct sup *s, struct sup_snapshot *snap)
{
        uint64_t deadline = sup_now_ms() + SETTLE_TIMEOUT_MS;
        int r;

        while (!snap->finished && snap->action != MD_SYNC_ACTION_RESHAPE) {
                if (snap->action == MD_SYNC_ACTION_FROZEN) {
                        s->frozen_by_other = true;
                        return log_warning_errno(ECANCELED, "%s: someone else froze the reshape (sync_action=frozen; mdadm --stop does): stopping supervision.",
                                                 md_name(s->md));
                }
                if (sup_now_ms() > deadline)
                        return log_error_errno(EPROTO, "%s: the reshape stopped (sync_action=%s for %d s) although reshape_position still reads a position.",
                                               md_name(s->md), md_sync_action_to_string(snap->action),
                                               SETTLE_TIMEOUT_MS / 1000);
                usleep(50000);
                r = take_snapshot(s, snap);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Whether applications did I/O on the array since the last sample. An
 * unreadable stat leaves it as it was: windows then stay the size they
 * have. */
static void watch_load(struct sup *s, const struct sup_snapshot *snap)
{
        bool busy;

        if (!snap->io_due)
                return;
        s->io_sampled_ms = snap->now_ms;
        if (!snap->io_valid)
                return;
        busy = s->io_known && snap->io_sectors != s->io_sectors;
        if (busy != s->busy)
                log_debug("%s: the array is %s: windows of about %d ms of the kernel's time.", md_name(s->md),
                          busy ? "in use" : "idle", busy ? WINDOW_BUSY_TARGET_MS : WINDOW_TARGET_MS);
        s->busy = busy;
        s->io_sectors = snap->io_sectors;
        s->io_known = true;
}

/* Reads what the kernel shows now and tells the planner. @notified: a
 * notification was taken. */
static int observe(struct sup *s, bool notified)
{
        struct sup_snapshot snap;
        struct plan_observation o;
        struct plan_status ps = planner_status(&s->plan);
        int r;

        r = take_snapshot(s, &snap);
        if (r < 0)
                return r;
        r = check_degraded(s, &snap);
        if (r < 0)
                return r;
        if (!snap.finished && snap.action != MD_SYNC_ACTION_RESHAPE && !ps.frozen) {
                r = reshape_stopped(s, &snap);
                if (r < 0)
                        return r;
        }
        watch_load(s, &snap);
        o = (struct plan_observation) {
                .notified = notified,
                .reshaping = snap.action == MD_SYNC_ACTION_RESHAPE,
                .finished = snap.finished,
                .completed_progress = snap.completed_valid ? snap.completed_progress : ps.completed,
                .checkpoint_valid = snap.checkpoint_valid,
                .checkpoint_progress = snap.checkpoint_progress,
                .now_ms = snap.now_ms,
        };

        /* Speed accounting between observations. */
        if (o.completed_progress > s->last_obs_completed && o.now_ms > s->last_obs_ms) {
                double rate = (double) (o.completed_progress - s->last_obs_completed) /
                              (double) (o.now_ms - s->last_obs_ms);

                s->rate_progress_per_ms = s->rate_progress_per_ms > 0
                                          ? 0.7 * s->rate_progress_per_ms + 0.3 * rate : rate;
        }
        s->last_obs_ms = o.now_ms;
        s->last_obs_completed = o.completed_progress;

        planner_observe(&s->plan, &o);
        ps = planner_status(&s->plan);
        /* The kernel waits from when it reaches sync_max until we raise it;
         * counted from when we see it there, so a lower bound. */
        if (!s->parked_since_ms && o.reshaping && !ps.released && o.completed_progress >= ps.sync_max &&
            ps.sync_max < s->geo.end_progress_sectors)
                s->parked_since_ms = o.now_ms;
        return 0;
}

static void adapt_section(struct sup *s)
{
        uint64_t target_ms = planner_status(&s->plan).lockstep ? LOCKSTEP_WINDOW_MS
                             : s->busy       ? WINDOW_BUSY_TARGET_MS
                                             : WINDOW_TARGET_MS;
        uint64_t lo = sup_section_progress_for(s, s->o->section_min_bytes);
        uint64_t hi = sup_section_progress_for(s, s->slot_bytes);
        uint64_t want;

        if (s->rate_progress_per_ms <= 0)
                return;
        want = (uint64_t) (s->rate_progress_per_ms * (double) target_ms);
        want = want < lo ? lo : want > hi ? hi : want;
        planner_set_section(&s->plan, want);
}

static void progress(struct sup *s, bool force)
{
        uint64_t t = sup_now_ms(), elapsed = t - s->t0_ms;
        struct plan_status ps = planner_status(&s->plan);
        double rate = s->rate_progress_per_ms * 1000.0 *
                      (double) sectors_to_bytes(s->geo.new_data_disks);
        uint64_t left = s->geo.end_progress_sectors > ps.completed ? s->geo.end_progress_sectors - ps.completed : 0;
        struct report_progress p = {
                .array = md_name(s->md),
                /* The last checkpoint the kernel notified may fall short of
                 * the end it reached. */
                .completed_progress = ps.finished ? s->geo.end_progress_sectors : ps.completed,
                .end_progress = s->geo.end_progress_sectors,
                .position_array_sectors = geometry_progress_to_position(&s->geo, ps.completed),
                .protected_array_sectors = geometry_progress_to_position(&s->geo, ps.protected_to),
                .protected_progress = ps.protected_to,
                .rate_bytes_per_sec = rate,
                .eta_sec = s->rate_progress_per_ms > 0
                           ? (double) left / s->rate_progress_per_ms / 1000.0 : -1,
                .backed_up_bytes = s->backed_up_bytes,
                .stall_fraction = elapsed ? (double) s->stall_ms / (double) elapsed : 0,
        };

        report_progress(&p, t, force);
        /* A kernel that waits a moment for the next backup is normal; one
         * that waits this long says the backup device is the bottleneck,
         * or failing. */
        if (s->parked_since_ms && !s->held_reported && t - s->parked_since_ms >= HELD_REPORT_MS) {
                char field[48];

                snprintf(field, sizeof(field), "RESHAPE_HELD_S=%" PRIu64, (t - s->parked_since_ms) / 1000);
                report_event_field(REPORT_MID_HELD, md_name(s->md), field,
                                   "%s: the kernel has waited %" PRIu64 " s at %.1f%% for the backup of the next window (%s).",
                                   md_name(s->md), (t - s->parked_since_ms) / 1000,
                                   100.0 * (double) ps.sync_max / (double) s->geo.end_progress_sectors,
                                   s->o->backup_path);
                s->held_reported = true;
        }
}

/* The first sync_max the kernel runs to lies within what the backup
 * holds (or, released, needs none): only now is the service ready. */
void sup_protection_established(struct sup *s)
{
        double to = 100.0 * (double) planner_status(&s->plan).protected_to / (double) s->geo.end_progress_sectors;

        s->protecting = true;
        if (s->geo.relocates)
                report_event(REPORT_MID_PROTECTED, md_name(s->md),
                             "%s: protected: the kernel is paced, held at %.1f%%, its position recorded as it goes.",
                             md_name(s->md), to);
        else
                report_event(REPORT_MID_PROTECTED, md_name(s->md),
                             "%s: protected: %s durably holds what the kernel rewrites up to %.1f%%, and the kernel is held there.",
                             md_name(s->md), s->o->backup_path, to);
        report_notify_ready("protected");
        /* After READY's own STATUS=, which it replaces. */
        progress(s, true);
}

/* Carries out actions until the planner waits; 1 when the reshape is done. */
int sup_run_actions(struct sup *s)
{
        for (;;) {
                struct plan_action a;
                int r;

                sup_pause_take_pending(s);
                a = planner_next(&s->plan);

                if (a.kind == PLAN_WAIT || a.kind == PLAN_DONE)
                        return a.kind == PLAN_DONE;
                log_debug("%s: %s slot=%u range=%" PRIu64 "-%" PRIu64 " progress=%" PRIu64,
                          md_name(s->md), plan_action_name(a.kind), a.slot,
                          a.range.lo_array_sectors, a.range.hi_array_sectors, a.progress);
                r = execute(s, &a);
                if (r < 0)
                        return r;
                if (a.kind == PLAN_SET_SYNC_MAX || a.kind == PLAN_RELEASE)
                        s->raises++;
                if ((a.kind == PLAN_SET_SYNC_MAX || a.kind == PLAN_RELEASE) && s->parked_since_ms) {
                        s->stall_ms += sup_now_ms() - s->parked_since_ms;
                        s->parked_since_ms = 0;
                        s->held_reported = false;
                }
                planner_applied(&s->plan, &a, sup_now_ms());
                sup_sync_reads(s);
                s->acted = true;
                if (!s->protecting && (a.kind == PLAN_SET_SYNC_MAX || a.kind == PLAN_RELEASE))
                        sup_protection_established(s);
        }
}

/* Waits for a notification, a signal or the planner's timeout, then observes. */
int sup_wait_and_observe(struct sup *s, uint64_t timeout_ms)
{
        struct pollfd fds[2] = {
                { .fd = md_sync_completed_fd(s->md), .events = POLLPRI | POLLERR },
                { .fd = s->signal_fd, .events = POLLIN },
        };
        bool notified = false;
        int r;

        if (fds[0].fd < 0)
                return fds[0].fd;
        /* Woken often enough to ping the watchdog and refresh STATUS=
         * even while the kernel notifies nothing. */
        report_watchdog(sup_now_ms());
        if (timeout_ms > report_wait_ms())
                timeout_ms = report_wait_ms();
        r = poll(fds, 2, timeout_ms > INT32_MAX ? INT32_MAX : (int) timeout_ms);
        if (r < 0 && errno != EINTR)
                return log_error_errno(errno, "poll() failed: %m");
        if (r > 0 && (fds[1].revents & POLLIN)) {
                struct signalfd_siginfo si = {};

                if (read(s->signal_fd, &si, sizeof(si)) != (ssize_t) sizeof(si) ||
                    si.ssi_signo != SUPERVISE_PAUSE_SIGNAL) {
                        s->stop_signal = (int) si.ssi_signo;
                        return -EINTR;
                }
                /* Pause or resume: the main loop reads the record. */
                s->pause_check = true;
        }
        if (r > 0 && (fds[0].revents & (POLLPRI | POLLERR))) {
                struct md_sync_completed sc;

                r = md_sync_completed_consume(s->md, &sc);
                if (r < 0)
                        return r;
                notified = true;
        }
        return observe(s, notified);
}

/* The reshape is over: nothing needs the backup any more. */
static void forget_backup(struct sup *s)
{
        /* Not opened (the reshape ended before we could begin): a file
         * there is removed only when it is a backup of this array. */
        bool ours = s->bf != NULL || backup_file_is_of_array(s->o->backup_path, s->id.uuid);

        if (ours)
                s->bf = backup_file_free(s->bf);
        record_forget_reshape(s->uuid, md_name(s->md), s->o->backup_path, ours ? s->o->backup_path : NULL);
}

static uint64_t wait_timeout_ms(const struct sup *s)
{
        if (s->acted)
                return 0;
        /* Held, the kernel sends no news: only a look now and then. */
        if (sup_pause_holding(s))
                return PAUSED_POLL_MS;
        return planner_wait_ms(&s->plan, sup_now_ms());
}

static void cleanup(struct sup *s)
{
        /* The readers use the member set and the buffers. */
        for (unsigned i = 0; i < s->n_reads; i++)
                array_read_free(s->reads[i].rd);
        if (s->bf)
                s->bf = backup_file_free(s->bf);
        s->token = record_token_close(s->token);
        if (s->rename_from) {
                (void) unlink(s->rename_from);
                free(s->rename_from);
        }
        s->members = member_set_free(s->members);
        if (s->signal_fd >= 0)
                close(s->signal_fd);
        if (s->pause_confirmed)
                supervise_held_remove(md_name(s->md));
        free(s->bufs[0]);
        free(s->bufs[1]);
}

void supervisor_options_init(struct supervisor_options *o)
{
        *o = (struct supervisor_options) {
                .section_min_bytes = SUPERVISOR_SECTION_MIN_BYTES,
                .section_max_bytes = SUPERVISOR_SECTION_MAX_BYTES,
                .quiet = log_get_max_level() < LOG_INFO,
        };
}

int supervisor_options_max_window(struct supervisor_options *o, const char *arg)
{
        uint64_t bytes;

        if (cli_parse_size(arg, &bytes) < 0 || bytes < o->section_min_bytes)
                return log_error_errno(EINVAL, "--max-window: '%s' is not a size of at least %llu MiB (like 64M).",
                                       arg, (unsigned long long) (o->section_min_bytes >> 20));
        o->section_max_bytes = bytes;
        return 0;
}

/* The level change whose reshape ended before we could take it over
 * stops half way, and only the admin knows whether raid5 was meant. */
static void report_half_level(struct md *md)
{
        struct md_geometry mg;
        char l6[32];

        if (md_get_geometry(md, &mg) < 0 || !reshape_shape_half_level(&mg))
                return;
        md_layout_name(6, mg.layout_new, l6, sizeof(l6));
        log_warning("%s is raid6 in %s (Q all on one disk), where a change to raid5 (mdadm --grow --level=5) stops half way when its reshape ended before anyone took it over. If raid5 was meant, finish it with: mdadm --grow %s --level=5 (no data moves)",
                    md_name(md), l6, md_devnode(md));
}

int supervisor_run(struct md *md, const struct supervisor_options *o)
{
        struct sup s = { .md = md, .o = o, .signal_fd = -1 };
        uint64_t ckpt = 0, elapsed;
        bool frozen = false;
        char b1[32], b2[32];
        int r;

        report_init(o->quiet);
        r = sup_prepare(&s, &ckpt, &frozen);
        if (r == 1) {
                report_notify_stopping("no reshape");
                forget_backup(&s);
                report_event(REPORT_MID_FINISHED, md_name(md),
                             "%s: no reshape is running (reshape_position reads none): it has ended, or never began; nothing to supervise.",
                             md_name(md));
                report_half_level(md);
                r = 0;
                goto out;
        }
        if (r < 0 && s.froze) {
                char state[160];

                sup_describe_kernel(&s, state, sizeof(state));
                if (s.geo.relocates)
                        report_event(REPORT_MID_STOPPED, md_name(md),
                                     "%s: the take-over failed; %s, with nothing at risk. Continue with: reshaped supervise %s",
                                     md_name(md), state, md_devnode(md));
                else
                        report_event(REPORT_MID_STOPPED, md_name(md),
                                     "%s: the take-over failed; %s%s. Continue with: reshaped supervise %s --backup-file %s",
                                     md_name(md), state,
                                     s.guard.kind == PLAN_BACKUP ? ", its first unit backed up and suspended" : "",
                                     md_devnode(md), o->backup_path);
        }
        if (r != 0)
                goto out;

        s.t0_ms = s.last_obs_ms = sup_now_ms();
        s.last_obs_completed = ckpt;
        planner_init(&s.plan, &s.geo, ckpt, ckpt, sup_section_progress_for(&s, o->section_min_bytes),
                     s.t0_ms);
        r = planner_set_max_range(&s.plan, bytes_to_sectors(s.slot_bytes));
        if (r < 0) {
                /* sup_size_slots() sized them for the geometry: a bug. */
                log_error_errno(r, "Internal error: %s: the %" PRIu64 "-byte window slots are smaller than the geometry needs.",
                                md_name(md), s.slot_bytes);
                (void) sup_stop_safely(&s, "stopping after an internal error");
                goto out;
        }
        if (s.guard.kind == PLAN_BACKUP)
                planner_adopt(&s.plan, &s.guard);
        planner_set_frozen(&s.plan, frozen);
        sup_pause_refresh(&s);

        if (s.geo.relocates)
                report_event(REPORT_MID_STARTED, md_name(md),
                             "%s: pacing the reshape from %.1f%% (%s, %u disks, chunk %u -> %u KiB) in windows up to %s: sync_max is raised one window at a time, at the kernel's halfway checkpoints, so its position is recorded as it goes and a stop holds it where it is. No backup file is needed: the new layout goes to a new data offset (%+" PRId64 " sectors), never over data md still needs.",
                             md_name(md), 100.0 * (double) ckpt / (double) s.geo.end_progress_sectors,
                             md_level_to_string(s.mdg.level) ? md_level_to_string(s.mdg.level) : "raid",
                             s.mdg.raid_disks_new, s.mdg.chunk_bytes_old / 1024, s.mdg.chunk_bytes_new / 1024,
                             report_bytes(s.slot_bytes, b1, sizeof(b1)), s.mdg.offset_diff_dev_sectors);
        else
                report_event(REPORT_MID_STARTED, md_name(md),
                             "%s: supervising the reshape from %.1f%% (%s, %u -> %u data disks, chunk %u -> %u KiB), backup %s, windows up to %s.",
                             md_name(md), 100.0 * (double) ckpt / (double) s.geo.end_progress_sectors,
                             md_level_to_string(s.mdg.level) ? md_level_to_string(s.mdg.level) : "raid",
                             s.geo.old_data_disks, s.geo.new_data_disks, s.mdg.chunk_bytes_old / 1024,
                             s.mdg.chunk_bytes_new / 1024, o->backup_path, report_bytes(s.slot_bytes, b1, sizeof(b1)));

        for (;;) {
                bool was_lockstep = planner_status(&s.plan).lockstep;
                struct plan_status ps;

                r = sup_run_actions(&s);
                if (r < 0)
                        break;
                if (r == 1) {
                        r = 0;
                        break;
                }
                progress(&s, false);
                sup_pause_confirm(&s);
                /* A backup takes long enough for the kernel to move on or park:
                 * look again before sleeping. */
                r = sup_wait_and_observe(&s, wait_timeout_ms(&s));
                s.acted = false;
                if (r < 0)
                        break;
                if (s.pause_check)
                        sup_pause_refresh(&s);
                ps = planner_status(&s.plan);
                if (ps.lockstep && !was_lockstep && ps.pacing)
                        report_event(REPORT_MID_LOCKSTEP, md_name(md),
                                     "%s: no halfway checkpoint from the kernel for %" PRIu64 " s although it had work; falling back to lock-step pacing: sync_max stays two windows ahead of the kernel's own 10 s checkpoints (a raid10 without kernel/patches).",
                                     md_name(md), ps.contract_timeout_ms / 1000);
                else if (ps.lockstep && !was_lockstep)
                        report_event(REPORT_MID_LOCKSTEP, md_name(md),
                                     "%s: no halfway checkpoint from the kernel for %" PRIu64 " s although it had work; falling back to lock-step windows of about %d s (an old or unpatched kernel).",
                                     md_name(md), ps.contract_timeout_ms / 1000, LOCKSTEP_WINDOW_MS / 1000);
                adapt_section(&s);
        }

        if (r < 0) {
                char why[128];

                if (r == -EINTR && s.stop_signal)
                        snprintf(why, sizeof(why), "stopping on %s", strsignal(s.stop_signal));
                else if (s.frozen_by_other)
                        snprintf(why, sizeof(why), "stopping: someone else froze the reshape");
                else
                        snprintf(why, sizeof(why), "stopping after an error (%s)", strerror(-r));
                /* The array stopped under us, or frozen by someone else
                 * (mdadm --stop freezes first) and left held safely: a
                 * stop on request, not a failure. */
                if (sup_array_stopped(&s)) {
                        r = -EINTR;
                } else {
                        int st = sup_stop_safely(&s, why);

                        if (st > 0 || (st == 0 && s.frozen_by_other))
                                r = -EINTR;
                }
                goto out;
        }

        elapsed = sup_now_ms() - s.t0_ms;
        progress(&s, true);
        report_notify_stopping("finished");
        forget_backup(&s);
        if (s.geo.relocates)
                report_event(REPORT_MID_FINISHED, md_name(md),
                             "%s: reshape finished in %.1f s, paced with %u sync_max raises; the kernel waited at the limit %.1f%% of the time.",
                             md_name(md), (double) elapsed / 1000.0, s.raises,
                             elapsed ? 100.0 * (double) s.stall_ms / (double) elapsed : 0.0);
        else
                report_event(REPORT_MID_FINISHED, md_name(md),
                             "%s: reshape finished in %.1f s; %s backed up in %.1f s, the kernel waited for backups %.1f%% of the time.",
                             md_name(md), (double) elapsed / 1000.0,
                             report_bytes(s.backed_up_bytes, b2, sizeof(b2)), (double) s.backup_ms / 1000.0,
                             elapsed ? 100.0 * (double) s.stall_ms / (double) elapsed : 0.0);
        r = sup_finish_level(&s);
out:
        cleanup(&s);
        return r;
}
