/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Progress and events of a supervised reshape, for the three audiences:
 * journald (structured fields, stable MESSAGE_IDs listed in
 * systemd/reshaped.catalog), systemd (sd_notify READY/STATUS/STOPPING and
 * the watchdog), and a person at a terminal (a progress line).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MESSAGE_IDs, one per event kind; each has a text in
 * systemd/reshaped.catalog (keep them in step). */
#define REPORT_MID_STARTED      "3f1c7e0a5b8d4e2f9a6c1d0b7e4f2a91"
#define REPORT_MID_PROTECTED    "d6b84781eca54574a19cf7a12238acdc"
#define REPORT_MID_PROGRESS     "8b2d6f4e1a9c4b7d8e3f5a0c6d1b9e72"
#define REPORT_MID_TAKEOVER     "c4e9a1b7d3f24c8e9b6a2d5f0e7c1a38"
#define REPORT_MID_LOCKSTEP     "5d7a3c9e1b4f4a2c8d6e0f9b3a7c5e14"
#define REPORT_MID_PAUSED       "448200cdeb6a464f96992bbcb1f80fdf"
#define REPORT_MID_RESUMED      "dc6c223c53114beea14c667ec738c9fb"
#define REPORT_MID_BACKUP_ERROR "e6ad4f29c3b742bfad47ad32e8b44d3c"
#define REPORT_MID_HELD         "fe9a1d9c0ef243908edbe7820162d329"
#define REPORT_MID_LEVEL        "7c3e5a91d2b84f06a1e9c4d7b5f20e68"
#define REPORT_MID_FINISHED     "e1b5d9c3a7f2486e9c0d4b8a2f6e3d57"
#define REPORT_MID_STOPPED      "9a4f2e8c6b1d4d3a8f7e5c2b0d9a6e13"
#define REPORT_MID_FAILED       "4da7466debbc4a5ea89fab27e692b54f"

/* A progress entry when both have passed since the last one. */
#define REPORT_PROGRESS_MS      30000
#define REPORT_PROGRESS_PERCENT 1.0

struct report_progress {
        const char *array;              /* "md0" */
        uint64_t completed_progress;    /* per-member sectors */
        uint64_t end_progress;
        uint64_t position_array_sectors;
        uint64_t protected_array_sectors; /* writes to the array are backed up below/above this */
        uint64_t protected_progress;    /* per-member sectors the backup covers */
        double rate_bytes_per_sec;      /* array bytes reshaped per second */
        double eta_sec;                 /* negative: unknown */
        uint64_t backed_up_bytes;
        double stall_fraction;
};

/* Called once: whether to draw a live line on stderr (a terminal, and not
 * the journal). */
void report_init(bool quiet);

/* The array's identity, once known: every later entry carries it
 * (RESHAPE_UUID, RESHAPE_BACKUP_FILE; NULL or "" for none). */
void report_identity(const char *uuid, const char *backup_file);
/* An event: in the journal with its MESSAGE_ID and RESHAPE_DEVICE=array
 * (plus the identity); elsewhere the message on stderr. */
void report_event(const char *message_id, const char *array, const char *format, ...)
        __attribute__((format(printf, 3, 4)));
/* The same with one more journal field, "NAME=value". */
void report_event_field(const char *message_id, const char *array, const char *field,
                        const char *format, ...) __attribute__((format(printf, 4, 5)));
/* Pause and resume (reshaped pause/resume), at @percent done. */
void report_paused(const char *array, double percent, uint64_t position_array_sectors);
void report_resumed(const char *array, double percent);
/* Whether a progress entry is due: REPORT_PROGRESS_MS and
 * REPORT_PROGRESS_PERCENT both passed since the last at @last_ms,
 * @last_percent. */
bool report_progress_due(uint64_t last_ms, double last_percent, uint64_t now_ms, double percent);
/* Progress: the journal (or a line on stderr) when due or @force, the
 * live terminal line at most every 0.5 s, STATUS= at most every second. */
void report_progress(const struct report_progress *p, uint64_t now_ms, bool force);
/* READY=1: sent once protection is established (the kernel runs held
 * within what the backup holds), not when supervision merely began. */
void report_notify_ready(const char *status);
/* STOPPING=1 (and READY=1 first if it was never sent, so that systemd
 * does not take the exit for a protocol failure). */
void report_notify_stopping(const char *status);
/* A stop that takes longer than TimeoutStopSec= but is bounded: asks
 * systemd for @usec more from now (EXTEND_TIMEOUT_USEC). */
void report_notify_extend_stop(uint64_t usec);

/* The systemd watchdog (WatchdogSec=): report_watchdog() sends WATCHDOG=1
 * when a quarter of the interval has passed since the last one; an event
 * loop that waits at most report_wait_ms() between calls pings at least
 * every half interval, and refreshes STATUS= at least every
 * REPORT_STATUS_WAIT_MS. Without a watchdog nothing is sent. */
#define REPORT_STATUS_WAIT_MS   5000
void report_watchdog(uint64_t now_ms);
uint64_t report_wait_ms(void);
/* The one-line summary systemd shows (STATUS=): "reshape 43.2%, 6.1 MiB/s,
 * 12m04s to go, protected to 47.0%"; "time to go unknown" without a rate.
 * Returns buf. */
char *report_status_line(const struct report_progress *p, char *buf, size_t size);
/* "45s", "12m04s", "2h05m". Returns buf. */
char *report_duration(double sec, char *buf, size_t size);
/* Human sizes: "12.0 MiB". Returns buf. */
char *report_bytes(uint64_t bytes, char *buf, unsigned size);
