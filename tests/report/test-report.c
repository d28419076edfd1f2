// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the supervisor tells systemd (src/report/report.c), read off a notify
 * socket of our own: the watchdog pings and their pace; the STATUS= line
 * systemctl status shows; the pace of progress entries; and the plain
 * words on stderr outside systemd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "reshaped/report/report.h"

static int notify_fd = -1;
static char notify_path[64];

/* A datagram socket standing in for systemd's NOTIFY_SOCKET. */
static int setup_notify(void **state)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        snprintf(notify_path, sizeof(notify_path), "/tmp/test-report.%d.sock", (int) getpid());
        unlink(notify_path);
        strcpy(sa.sun_path, notify_path);
        notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        assert_true(notify_fd >= 0);
        assert_int_equal(bind(notify_fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        setenv("NOTIFY_SOCKET", notify_path, 1);
        return 0;
}

static int teardown_notify(void **state)
{
        close(notify_fd);
        unlink(notify_path);
        unsetenv("NOTIFY_SOCKET");
        unsetenv("WATCHDOG_USEC");
        unsetenv("WATCHDOG_PID");
        return 0;
}

/* The next message on the socket, "" when there is none. */
static const char *next_notify(void)
{
        static char buf[1024];
        ssize_t n = recv(notify_fd, buf, sizeof(buf) - 1, 0);

        buf[n > 0 ? n : 0] = '\0';
        return buf;
}

static void set_watchdog(const char *usec)
{
        char pid[16];

        snprintf(pid, sizeof(pid), "%d", (int) getpid());
        setenv("WATCHDOG_USEC", usec, 1);
        setenv("WATCHDOG_PID", pid, 1);
}

static void test_watchdog_pace(void **state)
{
        set_watchdog("8000000");
        report_init(true);
        /* A quarter of 8 s: the loop's poll wakes at least this often. */
        assert_int_equal(report_wait_ms(), 2000);

        report_watchdog(100000);
        assert_string_equal(next_notify(), "WATCHDOG=1");
        report_watchdog(101999);
        assert_string_equal(next_notify(), "");
        report_watchdog(102000);
        assert_string_equal(next_notify(), "WATCHDOG=1");
        /* Late calls still ping at once. */
        report_watchdog(107000);
        assert_string_equal(next_notify(), "WATCHDOG=1");

        /* A long interval: STATUS= still wants a wake every 5 s. */
        set_watchdog("180000000");
        report_init(true);
        assert_int_equal(report_wait_ms(), REPORT_STATUS_WAIT_MS);
}

static void test_watchdog_off(void **state)
{
        unsetenv("WATCHDOG_USEC");
        unsetenv("WATCHDOG_PID");
        report_init(true);
        /* Still woken for STATUS=. */
        assert_int_equal(report_wait_ms(), REPORT_STATUS_WAIT_MS);
        report_watchdog(100000);
        assert_string_equal(next_notify(), "");

        /* Another process's watchdog is not ours. */
        setenv("WATCHDOG_USEC", "8000000", 1);
        setenv("WATCHDOG_PID", "1", 1);
        report_init(true);
        assert_int_equal(report_wait_ms(), REPORT_STATUS_WAIT_MS);
        report_watchdog(200000);
        assert_string_equal(next_notify(), "");
}

static void test_ready_once(void **state)
{
        report_init(true);
        report_notify_stopping("no reshape");
        assert_string_equal(next_notify(), "READY=1\nSTOPPING=1\nSTATUS=no reshape");
        report_notify_ready("protected");
        assert_string_equal(next_notify(), "READY=1\nSTATUS=protected");
        report_notify_stopping("finished");
        assert_string_equal(next_notify(), "STOPPING=1\nSTATUS=finished");
        report_notify_extend_stop(100000000);
        assert_string_equal(next_notify(), "EXTEND_TIMEOUT_USEC=100000000");
}

static struct report_progress at(uint64_t completed, uint64_t protected_to, double rate, double eta)
{
        return (struct report_progress) {
                .array = "md0",
                .completed_progress = completed,
                .end_progress = 10000,
                .protected_progress = protected_to,
                .rate_bytes_per_sec = rate,
                .eta_sec = eta,
        };
}

static void test_status_line(void **state)
{
        char buf[192];
        struct report_progress p;

        /* The example. */
        p = at(4320, 4700, 6.1 * 1024 * 1024, 12 * 60 + 4);
        assert_string_equal(report_status_line(&p, buf, sizeof(buf)),
                            "reshape 43.2%, 6.1 MiB/s, 12m04s to go, protected to 47.0%");
        /* No rate yet: the ETA is unknown, whatever eta_sec says. */
        p = at(0, 100, 0, -1);
        assert_string_equal(report_status_line(&p, buf, sizeof(buf)),
                            "reshape 0.0%, 0 B/s, time to go unknown, protected to 1.0%");
        p = at(500, 600, 0, 30);
        assert_string_equal(report_status_line(&p, buf, sizeof(buf)),
                            "reshape 5.0%, 0 B/s, time to go unknown, protected to 6.0%");
        p = at(9999, 10000, 512, 59.4);
        assert_string_equal(report_status_line(&p, buf, sizeof(buf)),
                            "reshape 100.0%, 512 B/s, 59s to go, protected to 100.0%");
        p = at(1000, 2500, 40.0 * 1024 * 1024 * 1024, 2 * 3600 + 5 * 60 + 59);
        assert_string_equal(report_status_line(&p, buf, sizeof(buf)),
                            "reshape 10.0%, 40.0 GiB/s, 2h05m to go, protected to 25.0%");
        /* What the backup covers past the end is the end. */
        p = at(10000, 12000, 1024, 0);
        assert_string_equal(report_status_line(&p, buf, sizeof(buf)),
                            "reshape 100.0%, 1.0 KiB/s, 0s to go, protected to 100.0%");
}

/* STATUS= follows the progress, at most once a second unless forced. */
static void test_status_notify(void **state)
{
        struct report_progress p = at(4320, 4700, 6.1 * 1024 * 1024, 12 * 60 + 4);

        report_init(true);
        report_progress(&p, 50000, true);
        assert_string_equal(next_notify(), "STATUS=reshape 43.2%, 6.1 MiB/s, 12m04s to go, protected to 47.0%");
        p.completed_progress = 4330;
        report_progress(&p, 50500, false);
        assert_string_equal(next_notify(), "");
        report_progress(&p, 51000, false);
        assert_string_equal(next_notify(), "STATUS=reshape 43.3%, 6.1 MiB/s, 12m04s to go, protected to 47.0%");
}

/* Both a percent and 30 s must have passed, whichever comes later. */
static void test_progress_due(void **state)
{
        assert_false(report_progress_due(100000, 10.0, 129999, 50.0));
        assert_false(report_progress_due(100000, 10.0, 500000, 10.9));
        assert_true(report_progress_due(100000, 10.0, 130000, 11.0));
        assert_true(report_progress_due(100000, 10.0, 400000, 12.5));
        assert_false(report_progress_due(100000, 10.0, 100000, 10.0));
}

/* stderr, read back: what the code under test printed since @from. */
static const char *stderr_since(FILE *f, long from)
{
        static char buf[4096];
        size_t n;

        fflush(stderr);
        fseek(f, from, SEEK_SET);
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        return buf;
}

static void test_plain_stderr(void **state)
{
        FILE *f = tmpfile();
        int saved = dup(STDERR_FILENO);
        struct report_progress p = at(4320, 4700, 6.1 * 1024 * 1024, 12 * 60 + 4);
        const char *out;

        assert_non_null(f);
        assert_true(saved >= 0);
        unsetenv("INVOCATION_ID");
        unsetenv("JOURNAL_STREAM");
        assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
        report_init(false);
        report_identity("0a1b2c3d:4e5f6a7b:8c9d0e1f:2a3b4c5d", "/mnt/backup/md0.backup");
        report_event(REPORT_MID_PROTECTED, "md0", "md0: protected up to %.1f%%.", 47.0);
        report_progress(&p, 100000, true);
        /* Not due: neither a percent nor 30 s. */
        p.completed_progress = 4350;
        report_progress(&p, 110000, false);
        /* Due. */
        p.completed_progress = 4500;
        report_progress(&p, 130000, false);
        report_paused("md0", 45.0, 393216);
        out = stderr_since(f, 0);
        dup2(saved, STDERR_FILENO);
        close(saved);
        fclose(f);

        assert_string_equal(out,
                "reshaped: md0: protected up to 47.0%.\n"
                "md0: reshape 43.2%, 6.1 MiB/s, 12m04s to go, protected to 47.0%, stalled 0.0%\n"
                "md0: reshape 45.0%, 6.1 MiB/s, 12m04s to go, protected to 47.0%, stalled 0.0%\n"
                "reshaped: md0: paused at 45.0%: the kernel is held at array sector 393216, its checkpoint on disk; no writes are suspended, the array stays readable and writable. Resume with: reshaped resume /dev/md0\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_watchdog_pace, setup_notify, teardown_notify),
                cmocka_unit_test_setup_teardown(test_watchdog_off, setup_notify, teardown_notify),
                cmocka_unit_test_setup_teardown(test_ready_once, setup_notify, teardown_notify),
                cmocka_unit_test(test_status_line),
                cmocka_unit_test(test_progress_due),
                cmocka_unit_test(test_plain_stderr),
                cmocka_unit_test_setup_teardown(test_status_notify, setup_notify, teardown_notify),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
