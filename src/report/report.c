// SPDX-License-Identifier: GPL-2.0-or-later
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "reshaped/util/log.h"
#include "reshaped/report/report.h"

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
        last_status_ms = last_journal_ms = last_tty_ms = 0;
        last_journal_percent = -100;
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

uint64_t report_wait_ms(void)
{
        return watchdog_ms && watchdog_ms / 4 < REPORT_STATUS_WAIT_MS ? watchdog_ms / 4 : REPORT_STATUS_WAIT_MS;
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

static char id_uuid[64], id_backup[4096];

void report_identity(const char *uuid, const char *backup_file)
{
        snprintf(id_uuid, sizeof(id_uuid), "%s", uuid ? uuid : "");
        snprintf(id_backup, sizeof(id_backup), "%s", backup_file ? backup_file : "");
}

#define JOURNAL_FIELDS_MAX 16

struct fields {
        struct iovec iov[JOURNAL_FIELDS_MAX];
        char *text[JOURNAL_FIELDS_MAX];
        unsigned n;
};

static void add_field(struct fields *f, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void add_field(struct fields *f, const char *format, ...)
{
        va_list ap;
        char *t;
        int k;

        if (f->n >= JOURNAL_FIELDS_MAX)
                return;
        va_start(ap, format);
        k = vasprintf(&t, format, ap);
        va_end(ap);
        if (k < 0)
                return;
        f->text[f->n] = t;
        f->iov[f->n] = (struct iovec) { .iov_base = t, .iov_len = (size_t) k };
        f->n++;
}

/* Every entry: the message, its MESSAGE_ID and priority, the device and
 * what is known of the array's identity. */
static void start_fields(struct fields *f, const char *msg, const char *message_id, int priority,
                         const char *array)
{
        f->n = 0;
        add_field(f, "MESSAGE=%s", msg);
        add_field(f, "MESSAGE_ID=%s", message_id);
        add_field(f, "PRIORITY=%d", priority);
        add_field(f, "RESHAPE_DEVICE=%s", array);
        if (id_uuid[0])
                add_field(f, "RESHAPE_UUID=%s", id_uuid);
        if (id_backup[0])
                add_field(f, "RESHAPE_BACKUP_FILE=%s", id_backup);
}

static void send_fields(struct fields *f)
{
        /* Dropped entries must not stop the supervisor: the journal is a
         * witness, not part of the protection. */
        (void) sd_journal_sendv(f->iov, (int) f->n);
        for (unsigned i = 0; i < f->n; i++)
                free(f->text[i]);
        f->n = 0;
}

static int priority_of(const char *message_id)
{
        if (!strcmp(message_id, REPORT_MID_BACKUP_ERROR) || !strcmp(message_id, REPORT_MID_FAILED))
                return LOG_ERR;
        if (!strcmp(message_id, REPORT_MID_HELD) || !strcmp(message_id, REPORT_MID_TAKEOVER))
                return LOG_WARNING;
        return LOG_NOTICE;
}

static void vevent(const char *message_id, const char *array, const char *field,
                   const char *format, va_list ap)
{
        char msg[1024];

        vsnprintf(msg, sizeof(msg), format, ap);
        if (to_journal) {
                struct fields f;

                start_fields(&f, msg, message_id, priority_of(message_id), array);
                if (field)
                        add_field(&f, "%s", field);
                send_fields(&f);
                return;
        }
        end_line();
        log_notice("%s", msg);
}

void report_event(const char *message_id, const char *array, const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        vevent(message_id, array, NULL, format, ap);
        va_end(ap);
}

void report_event_field(const char *message_id, const char *array, const char *field,
                        const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        vevent(message_id, array, field, format, ap);
        va_end(ap);
}

void report_paused(const char *array, double percent, uint64_t position_array_sectors)
{
        char field[48];

        snprintf(field, sizeof(field), "RESHAPE_PERCENT=%.1f", percent);
        report_event_field(REPORT_MID_PAUSED, array, field,
                           "%s: paused at %.1f%%: the kernel is held at array sector %" PRIu64 ", its checkpoint on disk; no writes are suspended, the array stays readable and writable. Resume with: reshaped resume /dev/%s",
                           array, percent, position_array_sectors, array);
}

void report_resumed(const char *array, double percent)
{
        char field[48];

        snprintf(field, sizeof(field), "RESHAPE_PERCENT=%.1f", percent);
        report_event_field(REPORT_MID_RESUMED, array, field, "%s: resumed at %.1f%%, under protection.",
                           array, percent);
}

bool report_progress_due(uint64_t last_ms, double last_percent, uint64_t now_ms, double percent)
{
        return now_ms - last_ms >= REPORT_PROGRESS_MS && percent - last_percent >= REPORT_PROGRESS_PERCENT;
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

        /* One entry per percent and half minute, not per window; the
         * first and the forced (start, end) always. */
        if (!force && last_journal_ms && !report_progress_due(last_journal_ms, last_journal_percent, now_ms, percent)) {
                if (live_line && now_ms - last_tty_ms >= 500) {
                        fprintf(stderr, "\r\033[K%s", status);
                        line_open = true;
                        last_tty_ms = now_ms;
                }
                return;
        }
        last_journal_ms = now_ms;
        last_journal_percent = percent;
        if (to_journal) {
                struct fields f;

                start_fields(&f, status, REPORT_MID_PROGRESS, LOG_INFO, p->array);
                add_field(&f, "RESHAPE_PERCENT=%.1f", percent);
                add_field(&f, "RESHAPE_RATE_BPS=%.0f", p->rate_bytes_per_sec > 0 ? p->rate_bytes_per_sec : 0);
                if (p->eta_sec >= 0 && p->rate_bytes_per_sec > 0)
                        add_field(&f, "RESHAPE_ETA_S=%.0f", p->eta_sec);
                add_field(&f, "RESHAPE_POSITION=%" PRIu64, p->position_array_sectors);
                add_field(&f, "RESHAPE_PROTECTED_THROUGH=%" PRIu64, p->protected_array_sectors);
                add_field(&f, "RESHAPE_STALL_FRACTION=%.4f", p->stall_fraction);
                send_fields(&f);
                return;
        }
        if (live_line) {
                fprintf(stderr, "\r\033[K%s", status);
                line_open = true;
        } else {
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
