/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * `reshaped watch`, the pure part: when to redraw, when to read
 * everything again, when the reshape has ended and how, and the line a
 * person reads. Times are milliseconds of a monotonic clock the caller
 * reads; no I/O, no clock here.
 *
 * The loop (src/cli/cmd-watch.c) sleeps in poll() on sync_completed for at
 * most watch_wait_ms(), marks a redraw wanted after each notification
 * (watch_woke()) and after each timeout, and redraws when
 * watch_draw_due() says so: at most every WATCH_MIN_REDRAW_MS, at least
 * every WATCH_FALLBACK_MS, where no notification comes too.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reshaped/report/status.h"

#define WATCH_MIN_REDRAW_MS   250    /* at most 4 redraws a second */
#define WATCH_FALLBACK_MS     1000   /* redraw (and look) without a notification */
#define WATCH_FULL_MS         2000   /* re-read superblocks, backup, supervisor ... */
#define WATCH_FULL_SHARE      10     /* ... spending at most 1/10 of the time on it, */
#define WATCH_FULL_MAX_MS     10000  /* ... but never older than this */
#define WATCH_STOPPED_MS      10000  /* not running this long: it stopped */

enum watch_end {
        WATCH_GOES_ON,
        WATCH_FINISHED,   /* no reshape any more: it completed */
        WATCH_STOPPED,    /* not running for WATCH_STOPPED_MS, or the array stopped */
};

struct watch {
        bool drawn;               /* anything drawn yet */
        int64_t last_draw_ms;
        int64_t last_full_ms;     /* the end of the last full observation */
        int64_t full_gap_ms;      /* from there to the next */
        bool wanted;              /* a notification or timeout since the last draw */
        bool idle;                /* not running at the last look ... */
        int64_t idle_since_ms;    /* ... since then */
        bool printed;             /* plain lines: any printed yet */
        int printed_percent;      /* the highest whole percent printed */
        enum status_state printed_state;
};

void watch_init(struct watch *w, int64_t now_ms);

/* How long poll() may sleep: until a wanted redraw is allowed, else the
 * fallback interval after the last draw. Never negative. */
int watch_wait_ms(const struct watch *w, int64_t now_ms);
/* A notification came, or poll() timed out. */
void watch_woke(struct watch *w);
bool watch_draw_due(const struct watch *w, int64_t now_ms);
/* Whether the draw due now should read everything again: every
 * WATCH_FULL_MS, or less often when that takes long (verifying a backup
 * of large windows under load); but every WATCH_FULL_MS when @stale (the
 * kernel is past the sync_max the last full look saw, so its protection
 * figure is behind the progress shown). */
bool watch_full_due(const struct watch *w, int64_t now_ms, bool stale);
void watch_full_done(struct watch *w, int64_t start_ms, int64_t end_ms);
void watch_drawn(struct watch *w, int64_t now_ms);

/* Judges the observation of @now_ms; on an end, @why says how it ended
 * ("the reshape is not running (sync_action frozen) since 10s"). */
enum watch_end watch_check_end(struct watch *w, const struct status_observed *o,
                               const struct status_view *v, int64_t now_ms,
                               char *why, size_t why_size);

/* The one line (no newline): "md0: 43.2% (1.2 GiB of 2.8 GiB), 6.1 MiB/s,
 * 12m04s to go, protected to 47.0%, PROTECTED by reshaped pid 812". */
void watch_format_line(char *buf, size_t size, const struct status_observed *o,
                       const struct status_view *v);

/* Plain output (not a terminal): whether this observation gets a line,
 * one per whole percent and one per change of state; notes it if so. */
bool watch_plain_line_due(struct watch *w, const struct status_view *v);
