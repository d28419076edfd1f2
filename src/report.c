// SPDX-License-Identifier: GPL-2.0-or-later
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "reshaped/log.h"
#include "reshaped/report.h"

static bool live_line;
static bool line_open;
static bool to_journal;
static uint64_t last_journal_ms, last_tty_ms, last_status_ms;
static double last_journal_percent = -100;

static bool ready_sent;
static uint64_t watchdog_ms;       /* WatchdogSec=; 0: none */
static uint64_t last_watchdog_ms;

void report_init(bool quiet)
{
        uint64_t usec;

        /* JOURNAL_STREAM or INVOCATION_ID: started by systemd, log fields. */
        to_journal = getenv("INVOCATION_ID") || getenv("JOURNAL_STREAM");
        live_line = !quiet && !to_journal && isatty(STDERR_FILENO);
        /* WATCHDOG_PID names the main pid: a child (none today) that
         * inherited the variables would not ping on its behalf. */
        watchdog_ms = last_watchdog_ms = 0;
        ready_sent = false;
        last_status_ms = 0;
        if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 4000)
                watchdog_ms = usec / 1000;
}

void report_watchdog(uint64_t now_ms)
{
        if (!watchdog_ms || (last_watchdog_ms && now_ms - last_watchdog_ms < watchdog_ms / 4))
                return;
        sd_notify(0, "WATCHDOG=1");
        last_watchdog_ms = now_ms;
}

uint64_t report_watchdog_wait_ms(void)
{
        return watchdog_ms ? watchdog_ms / 4 : UINT64_MAX;
}

char *report_bytes(uint64_t bytes, char *buf, unsigned size)
{
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        double v = (double) bytes;
        unsigned u = 0;

        while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%" PRIu64 " B", bytes);
        else
                snprintf(buf, size, "%.1f %s", v, units[u]);
        return buf;
}

static void end_line(void)
{
        if (line_open) {
                fputc('\n', stderr);
                line_open = false;
        }
}

void report_event(const char *message_id, const char *array, const char *format, ...)
{
        char msg[1024];
        va_list ap;

        va_start(ap, format);
        vsnprintf(msg, sizeof(msg), format, ap);
        va_end(ap);

        if (to_journal) {
                sd_journal_send("MESSAGE=%s", msg, "MESSAGE_ID=%s", message_id,
                                "PRIORITY=%d", LOG_NOTICE, "RESHAPED_ARRAY=%s", array,
                                NULL);
                return;
        }
        end_line();
        log_notice("%s", msg);
}

char *report_duration(double sec, char *buf, size_t size)
{
        uint64_t t = (uint64_t) (sec + 0.5);

        if (t >= 3600)
                snprintf(buf, size, "%" PRIu64 "h%02" PRIu64 "m", t / 3600, t / 60 % 60);
        else if (t >= 60)
                snprintf(buf, size, "%" PRIu64 "m%02" PRIu64 "s", t / 60, t % 60);
        else
                snprintf(buf, size, "%" PRIu64 "s", t);
        return buf;
}

static double percent_of(uint64_t part, uint64_t whole)
{
        return whole ? 100.0 * (double) (part < whole ? part : whole) / (double) whole : 100.0;
}

char *report_status_line(const struct report_progress *p, char *buf, size_t size)
{
        char rate[32], eta[48], d[32];

        report_bytes(p->rate_bytes_per_sec > 0 ? (uint64_t) p->rate_bytes_per_sec : 0, rate, sizeof(rate));
        if (p->eta_sec >= 0 && p->rate_bytes_per_sec > 0)
                snprintf(eta, sizeof(eta), "%s to go", report_duration(p->eta_sec, d, sizeof(d)));
        else
                snprintf(eta, sizeof(eta), "time to go unknown");
        snprintf(buf, size, "reshape %.1f%%, %s/s, %s, protected to %.1f%%",
                 percent_of(p->completed_progress, p->end_progress), rate, eta,
                 percent_of(p->protected_progress, p->end_progress));
        return buf;
}

void report_progress(const struct report_progress *p, uint64_t now_ms, bool force)
{
        double percent = percent_of(p->completed_progress, p->end_progress);
        char line[192], status[256];

        report_status_line(p, line, sizeof(line));
        /* systemctl status reads it when asked: fresh to the second, and
         * not one datagram per loop. */
        if (force || now_ms - last_status_ms >= 1000 || !last_status_ms) {
                sd_notifyf(0, "STATUS=%s", line);
                last_status_ms = now_ms;
        }
        snprintf(status, sizeof(status), "%s: %s, stalled %.1f%%", p->array, line, 100.0 * p->stall_fraction);

        if (to_journal && (force || now_ms - last_journal_ms >= 10000 ||
                           percent - last_journal_percent >= 5)) {
                sd_journal_send("MESSAGE=%s", status, "MESSAGE_ID=%s", REPORT_MID_PROGRESS,
                                "PRIORITY=%d", LOG_INFO,
                                "RESHAPED_ARRAY=%s", p->array,
                                "RESHAPED_UUID=%s", p->uuid,
                                "RESHAPED_PERCENT=%.1f", percent,
                                "RESHAPED_POSITION=%" PRIu64, p->position_array_sectors,
                                "RESHAPED_PROTECTED_THROUGH=%" PRIu64, p->protected_array_sectors,
                                "RESHAPED_RATE_BYTES=%.0f", p->rate_bytes_per_sec,
                                "RESHAPED_ETA_SEC=%.0f", p->eta_sec,
                                "RESHAPED_STALL_FRACTION=%.4f", p->stall_fraction,
                                NULL);
                last_journal_ms = now_ms;
                last_journal_percent = percent;
                return;
        }
        if (to_journal)
                return;
        if (live_line) {
                if (!force && now_ms - last_tty_ms < 500)
                        return;
                fprintf(stderr, "\r\033[K%s", status);
                line_open = true;
        } else if (force || now_ms - last_tty_ms >= 2000) {
                fprintf(stderr, "%s\n", status);
        }
        last_tty_ms = now_ms;
}

void report_notify_ready(const char *status)
{
        sd_notifyf(0, "READY=1\nSTATUS=%s", status);
        ready_sent = true;
}

void report_notify_stopping(const char *status)
{
        end_line();
        sd_notifyf(0, "%sSTOPPING=1\nSTATUS=%s", ready_sent ? "" : "READY=1\n", status);
        ready_sent = true;
}

void report_notify_extend_stop(uint64_t usec)
{
        sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%" PRIu64, usec);
}
