// SPDX-License-Identifier: GPL-2.0-or-later
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "reshaped/md/md.h"
#include "reshaped/report/report.h"
#include "reshaped/report/watch.h"

void watch_init(struct watch *w, int64_t now_ms)
{
        *w = (struct watch) {
                .last_draw_ms = now_ms,
                .last_full_ms = now_ms,
                .full_gap_ms = WATCH_FULL_MS,
                .printed_percent = -1,
        };
}

int watch_wait_ms(const struct watch *w, int64_t now_ms)
{
        int64_t due = w->last_draw_ms + (w->wanted ? WATCH_MIN_REDRAW_MS : WATCH_FALLBACK_MS);

        return due > now_ms ? (int) (due - now_ms) : 0;
}

void watch_woke(struct watch *w)
{
        w->wanted = true;
}

bool watch_draw_due(const struct watch *w, int64_t now_ms)
{
        return !w->drawn || (w->wanted && now_ms - w->last_draw_ms >= WATCH_MIN_REDRAW_MS);
}

bool watch_full_due(const struct watch *w, int64_t now_ms, bool stale)
{
        return now_ms - w->last_full_ms >= (stale ? WATCH_FULL_MS : w->full_gap_ms);
}

void watch_full_done(struct watch *w, int64_t start_ms, int64_t end_ms)
{
        int64_t spent = end_ms > start_ms ? end_ms - start_ms : 0;
        int64_t gap = spent * (WATCH_FULL_SHARE - 1);

        /* A protection figure shown stale for long misleads; reading the
         * backup more often than that is the lesser cost. */
        w->last_full_ms = end_ms;
        w->full_gap_ms = gap < WATCH_FULL_MS ? WATCH_FULL_MS : gap > WATCH_FULL_MAX_MS ? WATCH_FULL_MAX_MS : gap;
}

void watch_drawn(struct watch *w, int64_t now_ms)
{
        w->drawn = true;
        w->wanted = false;
        w->last_draw_ms = now_ms;
}

enum watch_end watch_check_end(struct watch *w, const struct status_observed *o,
                               const struct status_view *v, int64_t now_ms,
                               char *why, size_t why_size)
{
        char since[32];

        if (v->state == STATUS_INACTIVE) {
                snprintf(why, why_size, "the array is not running any more (inactive)");
                return WATCH_STOPPED;
        }
        if (v->state == STATUS_NO_RESHAPE) {
                snprintf(why, why_size, "the reshape finished");
                return WATCH_FINISHED;
        }
        /* sync_action can read "reshape" while no thread runs (a
         * read-only array); a running thread shows in sync_completed. */
        if (o->action == MD_SYNC_ACTION_RESHAPE && o->completed.state != MD_SYNC_COMPLETED_NONE) {
                w->idle = false;
                return WATCH_GOES_ON;
        }
        /* A supervisor freezes the kernel for a moment to take over or
         * to lower sync_max; a pause, a stop or a read-only array holds
         * it frozen or idle for good. */
        if (!w->idle) {
                w->idle = true;
                w->idle_since_ms = now_ms;
        }
        if (now_ms - w->idle_since_ms < WATCH_STOPPED_MS)
                return WATCH_GOES_ON;
        report_duration((double) (now_ms - w->idle_since_ms) / 1000.0, since, sizeof(since));
        if (v->progress_known)
                snprintf(why, why_size, "the reshape stopped at %.1f%%: not running (sync_action %s) for %s",
                         v->percent, md_sync_action_to_string(o->action), since);
        else
                snprintf(why, why_size, "the reshape stopped: not running (sync_action %s) for %s",
                         md_sync_action_to_string(o->action), since);
        return WATCH_STOPPED;
}

static void append(char *buf, size_t size, size_t *n, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t size, size_t *n, const char *fmt, ...)
{
        va_list ap;
        int r;

        if (*n >= size)
                return;
        va_start(ap, fmt);
        r = vsnprintf(buf + *n, size - *n, fmt, ap);
        va_end(ap);
        if (r > 0)
                *n = *n + (size_t) r < size ? *n + (size_t) r : size - 1;
}

static void append_who(char *buf, size_t size, size_t *n, const struct status_observed *o)
{
        if (o->supervisor_pid > 0)
                append(buf, size, n, " by reshaped pid %d", (int) o->supervisor_pid);
        else if (o->mdadm_pid > 0)
                append(buf, size, n, " by mdadm --grow pid %d", (int) o->mdadm_pid);
}

void watch_format_line(char *buf, size_t size, const struct status_observed *o,
                       const struct status_view *v)
{
        char a[32], b[32];
        size_t n = 0;

        if (size == 0)
                return;
        buf[0] = '\0';
        append(buf, size, &n, "%s: ", o->name);
        switch (v->state) {
        case STATUS_NO_RESHAPE:
                append(buf, size, &n, "no reshape in progress");
                return;
        case STATUS_INACTIVE:
                append(buf, size, &n, "INACTIVE: not running");
                return;
        default:
                break;
        }
        if (v->progress_known) {
                append(buf, size, &n, "%.1f%% (%s of %s)", v->percent,
                       report_bytes(v->done_bytes, a, sizeof(a)), report_bytes(v->total_bytes, b, sizeof(b)));
                if (v->rate_bytes_per_sec >= 0) {
                        report_duration(v->eta_sec, b, sizeof(b));
                        append(buf, size, &n, ", %s/s, %s to go",
                               report_bytes((uint64_t) v->rate_bytes_per_sec, a, sizeof(a)), b);
                } else
                        append(buf, size, &n, ", rate unknown");
        } else
                append(buf, size, &n, "progress unknown");
        if (o->action != MD_SYNC_ACTION_RESHAPE)
                append(buf, size, &n, " (%s)", md_sync_action_to_string(o->action));
        if (v->geometry_ok) {
                if (v->protected_known)
                        append(buf, size, &n, ", protected to %.1f%%", v->protected_percent);
                else
                        append(buf, size, &n, ", nothing backed up");
        }
        append(buf, size, &n, ", %s", status_state_text(v->state));
        switch (v->state) {
        case STATUS_PROTECTED:
        case STATUS_TAKING_OVER:
        case STATUS_NOT_AT_RISK:
        case STATUS_PAUSED:
                append_who(buf, size, &n, o);
                break;
        case STATUS_HELD:
                if (v->limit_percent >= 0)
                        append(buf, size, &n, " at %.1f%%, nobody supervises it", v->limit_percent);
                break;
        case STATUS_UNPROTECTED:
                append(buf, size, &n, ": see 'reshaped status %s'", o->devnode);
                break;
        case STATUS_UNKNOWN:
                append(buf, size, &n, ": %s", v->reason);
                break;
        default:
                break;
        }
}

bool watch_plain_line_due(struct watch *w, const struct status_view *v)
{
        int whole = v->progress_known ? (int) v->percent : -1;

        if (w->printed && whole <= w->printed_percent && v->state == w->printed_state)
                return false;
        w->printed = true;
        if (whole > w->printed_percent)
                w->printed_percent = whole;
        w->printed_state = v->state;
        return true;
}
