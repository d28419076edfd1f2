// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `reshaped watch`: when it redraws, when it says the reshape ended
 * (src/report/watch.c, on a clock of its own), the line it draws, and the
 * command on a fake sysfs tree, plain and under a pseudo-terminal: its
 * lines, its exit status for each outcome, its errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake-sysfs.h"
#include "reshaped/util/log.h"
#include "reshaped/report/status.h"
#include "reshaped/report/watch.h"

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#define assert_contains(haystack, needle) \
        do { \
                if (!strstr((haystack), (needle))) \
                        fail_msg("output lacks \"%s\":\n%s", (needle), (haystack)); \
        } while (0)

/* md0 reshaping chunk 64K -> 128K on 4 x 261120 KiB, at 25.1%, 1024 KiB/s
 * of progress (as in test-status.c). */
static struct status_observed observed(void)
{
        return (struct status_observed) {
                .name = "md0",
                .devnode = "/dev/md0",
                .mdg = {
                        .level = 5,
                        .raid_disks_old = 4, .raid_disks_new = 4,
                        .chunk_bytes_old = 65536, .chunk_bytes_new = 131072,
                        .layout_old = 2, .layout_new = 2,
                        .component_kib = 261120,
                        .direction = MD_RESHAPE_DIRECTION_FORWARDS,
                        .metadata = { .kind = MD_METADATA_NATIVE, .major = 0, .minor = 91 },
                },
                .action = MD_SYNC_ACTION_RESHAPE,
                .completed = { MD_SYNC_COMPLETED_RUNNING, 131072, 522240 },
                .sync_max_progress = MD_SYNC_MAX_UNLIMITED,
                .position_array_sectors = 393216,
                .speed_known = true,
                .speed_kib_per_sec = 1024,
                .uuid = { 1, 2, 3, 4 },
                .checkpoint_active = true,
                .checkpoint_array_sectors = 393216,
        };
}

/* A verified backup holding all the kernel may rewrite from 131072 to
 * 196608 (array [393216, 589824)). */
static void give_backup(struct status_observed *o)
{
        struct backup_header *h = &o->backup.header;

        o->backup_path = "/backup/md0.bak";
        o->backup_source = "reshaped's record";
        o->backup.header_read = true;
        h->format = 2;
        h->has_extension = true;
        h->generation = 7;
        memcpy(h->identity.uuid, o->uuid, 16);
        h->sections[0] = (struct backup_section) { 393216, 98304, 0 };
        h->sections[1] = (struct backup_section) { 491520, 98304, 0 };
        o->backup.verdict = (struct backup_verify) { BACKUP_VERIFY_OK, -1 };
}

/* ---- the pure part ---- */

static void test_redraw_decision(void **state)
{
        struct watch w;

        (void) state;
        watch_init(&w, 1000);
        assert_true(watch_draw_due(&w, 1000));          /* the first line at once */
        watch_drawn(&w, 1000);
        assert_false(watch_draw_due(&w, 1000));
        /* Nothing comes: poll sleeps until the fallback redraw. */
        assert_int_equal(watch_wait_ms(&w, 1000), WATCH_FALLBACK_MS);
        assert_int_equal(watch_wait_ms(&w, 1400), WATCH_FALLBACK_MS - 400);
        assert_false(watch_draw_due(&w, 1900));
        /* A notification 50 ms after a redraw: drawn once 250 ms have
         * passed, not before, and poll sleeps until then. */
        watch_woke(&w);
        assert_false(watch_draw_due(&w, 1050));
        assert_int_equal(watch_wait_ms(&w, 1050), WATCH_MIN_REDRAW_MS - 50);
        watch_woke(&w);                                 /* another one: no earlier */
        assert_false(watch_draw_due(&w, 1249));
        assert_true(watch_draw_due(&w, 1250));
        assert_int_equal(watch_wait_ms(&w, 1300), 0);   /* late: at once, never negative */
        watch_drawn(&w, 1250);
        assert_false(watch_draw_due(&w, 1600));
        assert_int_equal(watch_wait_ms(&w, 1250), WATCH_FALLBACK_MS);
        /* The fallback timeout wants a redraw like a notification. */
        watch_woke(&w);
        assert_true(watch_draw_due(&w, 2250));

        /* A notification storm: at most 4 redraws a second. */
        {
                unsigned draws = 0;

                watch_init(&w, 0);
                watch_drawn(&w, 0);
                for (int64_t t = 1; t <= 1000; t++) {
                        watch_woke(&w);
                        if (watch_draw_due(&w, t)) {
                                watch_drawn(&w, t);
                                draws++;
                        }
                }
                assert_int_equal(draws, 1000 / WATCH_MIN_REDRAW_MS);
        }

        /* Everything is read again every WATCH_FULL_MS, progress in between. */
        watch_init(&w, 0);
        assert_false(watch_full_due(&w, WATCH_FULL_MS - 1, false));
        assert_true(watch_full_due(&w, WATCH_FULL_MS, false));
        watch_full_done(&w, WATCH_FULL_MS, WATCH_FULL_MS + 10);
        assert_false(watch_full_due(&w, 2 * WATCH_FULL_MS + 9, false));
        assert_true(watch_full_due(&w, 2 * WATCH_FULL_MS + 10, false));
        /* A full look that took 0.5 s: the next 4.5 s after it, not 2 s. */
        watch_full_done(&w, 10000, 10500);
        assert_false(watch_full_due(&w, 10500 + WATCH_FULL_MS, false));
        assert_false(watch_full_due(&w, 10500 + 4499, false));
        assert_true(watch_full_due(&w, 10500 + 4500, false));
        /* One that took 3 s: never more than WATCH_FULL_MAX_MS after it. */
        watch_full_done(&w, 20000, 23000);
        assert_false(watch_full_due(&w, 23000 + WATCH_FULL_MAX_MS - 1, false));
        assert_true(watch_full_due(&w, 23000 + WATCH_FULL_MAX_MS, false));
        /* The kernel past the sync_max that look saw: every WATCH_FULL_MS. */
        assert_false(watch_full_due(&w, 23000 + WATCH_FULL_MS - 1, true));
        assert_true(watch_full_due(&w, 23000 + WATCH_FULL_MS, true));
}

static void test_end_detection(void **state)
{
        struct status_observed o = observed();
        struct status_view v;
        struct watch w;
        char why[256];

        (void) state;
        watch_init(&w, 0);
        status_decide(&o, &v);
        assert_int_equal(watch_check_end(&w, &o, &v, 0, why, sizeof(why)), WATCH_GOES_ON);

        /* Frozen (a supervisor taking over, a pause): a moment is not an
         * end, WATCH_STOPPED_MS is. */
        o.action = MD_SYNC_ACTION_FROZEN;
        o.completed.state = MD_SYNC_COMPLETED_NONE;
        status_decide(&o, &v);
        assert_int_equal(watch_check_end(&w, &o, &v, 1000, why, sizeof(why)), WATCH_GOES_ON);
        assert_int_equal(watch_check_end(&w, &o, &v, 1000 + WATCH_STOPPED_MS - 1, why, sizeof(why)),
                         WATCH_GOES_ON);
        /* Running again in between starts the count afresh. */
        o.action = MD_SYNC_ACTION_RESHAPE;
        o.completed.state = MD_SYNC_COMPLETED_RUNNING;
        assert_int_equal(watch_check_end(&w, &o, &v, 20000, why, sizeof(why)), WATCH_GOES_ON);
        o.action = MD_SYNC_ACTION_FROZEN;
        o.completed.state = MD_SYNC_COMPLETED_NONE;
        assert_int_equal(watch_check_end(&w, &o, &v, 21000, why, sizeof(why)), WATCH_GOES_ON);
        assert_int_equal(watch_check_end(&w, &o, &v, 21000 + WATCH_STOPPED_MS - 1, why, sizeof(why)),
                         WATCH_GOES_ON);
        assert_int_equal(watch_check_end(&w, &o, &v, 21000 + WATCH_STOPPED_MS, why, sizeof(why)),
                         WATCH_STOPPED);
        assert_string_equal(why, "the reshape stopped at 25.1%: not running (sync_action frozen) for 10s");

        /* sync_action "reshape" with no thread (a read-only array) does
         * not run either. */
        watch_init(&w, 0);
        o.action = MD_SYNC_ACTION_RESHAPE;
        o.completed.state = MD_SYNC_COMPLETED_NONE;
        status_decide(&o, &v);
        assert_int_equal(watch_check_end(&w, &o, &v, 0, why, sizeof(why)), WATCH_GOES_ON);
        assert_int_equal(watch_check_end(&w, &o, &v, WATCH_STOPPED_MS, why, sizeof(why)), WATCH_STOPPED);
        /* A thread waiting for another array does. */
        watch_init(&w, 0);
        o.completed.state = MD_SYNC_COMPLETED_DELAYED;
        assert_int_equal(watch_check_end(&w, &o, &v, 0, why, sizeof(why)), WATCH_GOES_ON);
        assert_int_equal(watch_check_end(&w, &o, &v, 3 * WATCH_STOPPED_MS, why, sizeof(why)), WATCH_GOES_ON);

        /* Held at sync_max with nobody supervising: waiting, not ended. */
        watch_init(&w, 0);
        o = observed();
        give_backup(&o);
        o.sync_max_progress = 196608;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_HELD);
        assert_int_equal(watch_check_end(&w, &o, &v, 0, why, sizeof(why)), WATCH_GOES_ON);
        assert_int_equal(watch_check_end(&w, &o, &v, 3 * WATCH_STOPPED_MS, why, sizeof(why)), WATCH_GOES_ON);

        /* No reshape any more: it finished. */
        o.action = MD_SYNC_ACTION_IDLE;
        o.completed.state = MD_SYNC_COMPLETED_NONE;
        o.position_array_sectors = MD_RESHAPE_POSITION_NONE;
        status_decide(&o, &v);
        assert_int_equal(watch_check_end(&w, &o, &v, 0, why, sizeof(why)), WATCH_FINISHED);
        assert_string_equal(why, "the reshape finished");

        /* Inactive: stopped at once. */
        o = observed();
        o.inactive = true;
        status_decide(&o, &v);
        assert_int_equal(watch_check_end(&w, &o, &v, 0, why, sizeof(why)), WATCH_STOPPED);
        assert_string_equal(why, "the array is not running any more (inactive)");
}

static void test_format_line(void **state)
{
        struct status_observed o = observed();
        struct status_view v;
        char line[512];

        (void) state;
        status_decide(&o, &v);
        watch_format_line(line, sizeof(line), &o, &v);
        assert_string_equal(line, "md0: 25.1% (192.0 MiB of 765.0 MiB), 3.0 MiB/s, 3m11s to go, "
                                  "nothing backed up, UNPROTECTED: see 'reshaped status /dev/md0'");

        give_backup(&o);
        o.sync_max_progress = 196608;
        o.supervisor_pid = 4242;
        status_decide(&o, &v);
        watch_format_line(line, sizeof(line), &o, &v);
        assert_string_equal(line, "md0: 25.1% (192.0 MiB of 765.0 MiB), 3.0 MiB/s, 3m11s to go, "
                                  "protected to 37.6%, PROTECTED by reshaped pid 4242");

        o.supervisor_pid = 0;
        o.mdadm_pid = 99;
        o.sync_max_progress = 196608 + 256;
        status_decide(&o, &v);
        watch_format_line(line, sizeof(line), &o, &v);
        assert_string_equal(line, "md0: 25.1% (192.0 MiB of 765.0 MiB), 3.0 MiB/s, 3m11s to go, "
                                  "protected to 37.6%, UNPROTECTED: see 'reshaped status /dev/md0'");

        /* Paused under its supervisor: who holds it. */
        o.mdadm_pid = 0;
        o.supervisor_pid = 4242;
        o.sync_max_progress = 196608;
        o.paused = o.pause_held = true;
        o.pause_held_progress = 196608;
        status_decide(&o, &v);
        watch_format_line(line, sizeof(line), &o, &v);
        assert_string_equal(line, "md0: 25.1% (192.0 MiB of 765.0 MiB), 3.0 MiB/s, 3m11s to go, "
                                  "protected to 37.6%, PAUSED by reshaped pid 4242");
        o.paused = o.pause_held = false;
        o.supervisor_pid = 0;

        o.action = MD_SYNC_ACTION_FROZEN;
        o.completed.state = MD_SYNC_COMPLETED_NONE;
        o.speed_known = false;
        status_decide(&o, &v);
        watch_format_line(line, sizeof(line), &o, &v);
        assert_string_equal(line, "md0: 25.1% (192.0 MiB of 765.0 MiB), rate unknown (frozen), "
                                  "protected to 37.6%, HELD at 37.6%, nobody supervises it");

        /* A geometry status cannot judge: says why, no made-up numbers. */
        o = observed();
        o.mdg.raid_disks_new = 0;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_UNKNOWN);
        watch_format_line(line, sizeof(line), &o, &v);
        assert_true(strncmp(line, "md0: progress unknown, UNKNOWN: cannot judge this reshape: ", 59) == 0);

        /* Cut, never overrun. */
        o = observed();
        status_decide(&o, &v);
        watch_format_line(line, 20, &o, &v);
        assert_string_equal(line, "md0: 25.1% (192.0 M");
}

static void test_plain_lines(void **state)
{
        static const struct { double percent; enum status_state s; bool due; } steps[] = {
                { 0.4, STATUS_TAKING_OVER, true },   /* the first */
                { 0.9, STATUS_TAKING_OVER, false },
                { 0.95, STATUS_PROTECTED, true },    /* a change of state */
                { 1.0, STATUS_PROTECTED, true },     /* a whole percent more */
                { 1.7, STATUS_PROTECTED, false },
                { 1.99, STATUS_PROTECTED, false },
                { 3.2, STATUS_PROTECTED, true },
                { 3.3, STATUS_PROTECTED, false },
                { 99.9, STATUS_PROTECTED, true },
        };
        struct status_view v = { .progress_known = true };
        struct watch w;

        (void) state;
        watch_init(&w, 0);
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                v.percent = steps[i].percent;
                v.state = steps[i].s;
                if (watch_plain_line_due(&w, &v) != steps[i].due)
                        fail_msg("step %zu (%.2f%%): due should be %d", i, steps[i].percent, steps[i].due);
        }
        /* Progress unknown: one line, not one per look. */
        watch_init(&w, 0);
        v = (struct status_view) { .state = STATUS_UNKNOWN };
        assert_true(watch_plain_line_due(&w, &v));
        assert_false(watch_plain_line_due(&w, &v));
}

/* ---- the command, on a fake tree ---- */

/* An unusual name, so that no process on this machine looks like its
 * supervisor. */
#define MD "md118"

static const struct fake_attr reshaping[] = {
        { "chunk_size", "131072 (65536)" },
        { "metadata_version", "0.91" },
        { "array_state", "active" },
        { "sync_action", "reshape" },
        { "sync_completed", "131072 / 522240" },
        { "sync_max", "max" },
        { "reshape_position", "393216" },
        { "array_size", "default" },
        { "sync_speed", "1024" },
        {}
};

struct fixture {
        char *root;
        char dir[64];
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        struct fake_array a = {
                .name = MD,
                .devnum = "9:118",
                .attrs = reshaping,
                .members = fake_members4,
                .n_members = ELEMENTSOF(fake_members4),
        };

        assert_non_null(f);
        f->root = fake_sysfs_create(&a);
        snprintf(f->dir, sizeof(f->dir), "/tmp/reshaped-test-watch-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        assert_int_equal(setenv("RESHAPED_STATE_DIR", f->dir, 1), 0);
        log_set_max_level(LOG_CRIT);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[128];

        fake_sysfs_remove(f->root);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

struct child {
        pid_t pid;
        int fd;           /* its stdout (and, on a pty, its stderr) */
        char out[16384];
        size_t n;
};

static void child_exec(struct fixture *f, const char *device)
{
        const char *bin = getenv("RESHAPED_TEST_BINARY");

        if (!bin)
                _exit(127);
        execl(bin, bin, "--sysfs-root", f->root, "watch", device, (char *) NULL);
        _exit(127);
}

/* `reshaped watch DEVICE`, its output on a pipe or a pseudo-terminal. */
static void spawn(struct fixture *f, const char *device, bool tty, struct child *c)
{
        *c = (struct child) {};
        if (tty) {
                struct winsize ws = { .ws_row = 24, .ws_col = 200 };

                c->pid = forkpty(&c->fd, NULL, NULL, &ws);
                assert_true(c->pid >= 0);
                if (c->pid == 0)
                        child_exec(f, device);
        } else {
                int p[2];

                assert_int_equal(pipe(p), 0);
                c->pid = fork();
                assert_true(c->pid >= 0);
                if (c->pid == 0) {
                        if (dup2(p[1], STDOUT_FILENO) < 0)
                                _exit(127);
                        close(p[0]);
                        close(p[1]);
                        child_exec(f, device);
                }
                close(p[1]);
                c->fd = p[0];
        }
}

/* Reads what comes for @ms (until the end when @ms < 0); false at the end. */
static bool drain(struct child *c, int ms)
{
        struct timespec t0, t;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                struct pollfd p = { .fd = c->fd, .events = POLLIN };
                int left = ms;
                ssize_t n;

                if (ms >= 0) {
                        clock_gettime(CLOCK_MONOTONIC, &t);
                        left = ms - (int) ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
                        if (left <= 0)
                                return true;
                } else
                        left = 15000;
                assert_true(poll(&p, 1, left) >= 0);
                if (!p.revents) {
                        if (ms < 0)
                                fail_msg("watch did not end; it said:\n%s", c->out);
                        continue;
                }
                n = read(c->fd, c->out + c->n, sizeof(c->out) - 1 - c->n);
                /* A pty's master reads EIO once the child side is closed. */
                if (n <= 0)
                        return false;
                c->n += (size_t) n;
                c->out[c->n] = '\0';
        }
}

/* Reads until @text has come, for at most @ms; whether it came. */
static bool drain_until(struct child *c, const char *text, int ms)
{
        for (int waited = 0; !strstr(c->out, text) && waited < ms; waited += 50)
                if (!drain(c, 50))
                        break;
        return strstr(c->out, text) != NULL;
}

static int finish(struct child *c)
{
        int status;

        while (drain(c, -1))
                ;
        close(c->fd);
        assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

static void set_finished(struct fixture *f)
{
        fake_sysfs_set(f->root, MD, "chunk_size", "131072");
        fake_sysfs_set(f->root, MD, "sync_action", "idle");
        fake_sysfs_set(f->root, MD, "sync_completed", "none");
        fake_sysfs_set(f->root, MD, "reshape_position", "none");
        fake_sysfs_set(f->root, MD, "sync_speed", "none");
}

static void test_cli_plain_until_finished(void **state)
{
        struct fixture *f = *state;
        const char *first, *second, *done;
        char line1[512];
        struct child c;
        int rc;

        spawn(f, MD, false, &c);
        assert_true(drain(&c, 1500));
        fake_sysfs_set(f->root, MD, "sync_completed", "262144 / 522240");
        fake_sysfs_set(f->root, MD, "reshape_position", "786432");
        assert_true(drain(&c, 1500));
        set_finished(f);
        rc = finish(&c);
        if (rc != 0)
                fail_msg("watch exited %d, not 0:\n%s", rc, c.out);
        /* One line per percent, not one per look; increasing; then the end. */
        snprintf(line1, sizeof(line1), MD ": 25.1%% (192.0 MiB of 765.0 MiB), 3.0 MiB/s, 3m11s to go, "
                 "nothing backed up, UNPROTECTED: see 'reshaped status %s/dev/" MD "'\n", f->root);
        first = strstr(c.out, line1);
        second = strstr(c.out, MD ": 50.2% (384.0 MiB of 765.0 MiB)");
        done = strstr(c.out, MD ": the reshape finished: raid5, 4 disks, chunk 128 KiB.\n");
        if (!first || !second || !done || !(first < second && second < done))
                fail_msg("lines missing or out of order:\n%s", c.out);
        assert_null(strstr(first + 1, MD ": 25.1%"));
        assert_null(strchr(c.out, '\r'));
}

static void test_cli_tty_redraws(void **state)
{
        struct fixture *f = *state;
        unsigned redraws = 0;
        struct child c;
        int rc;

        spawn(f, "/dev/" MD, true, &c);
        assert_true(drain(&c, 2600));
        set_finished(f);
        rc = finish(&c);
        if (rc != 0)
                fail_msg("watch exited %d, not 0:\n%s", rc, c.out);
        for (const char *p = c.out; (p = strstr(p, "\r" MD ": 25.1% (192.0 MiB")); p++)
                redraws++;
        /* No notification from a regular file: the fallback, once a second. */
        if (redraws < 2 || redraws > 4)
                fail_msg("%u redraws in 2.6 s, not 2 to 4:\n%s", redraws, c.out);
        /* One line redrawn in place: no newline before the end. */
        assert_true(strstr(c.out, "the reshape finished") < strchr(c.out, '\n'));
        assert_contains(c.out, "\033[K");
        assert_contains(c.out, MD ": the reshape finished: raid5, 4 disks, chunk 128 KiB.\r\n");
}

static void test_cli_stopped(void **state)
{
        struct fixture *f = *state;
        char expect[512];
        struct child c;
        int rc;

        /* The array stopped under it: gone. */
        spawn(f, MD, false, &c);
        assert_true(drain(&c, 1200));
        fake_sysfs_set(f->root, MD, "array_state", NULL);
        rc = finish(&c);
        if (rc != 1)
                fail_msg("watch exited %d, not 1:\n%s", rc, c.out);
        assert_contains(c.out, MD ": the array is gone (stopped?) with the reshape at 25.1%; see /proc/mdstat");

        /* Inactive: stopped at once. */
        fake_sysfs_set(f->root, MD, "array_state", "active");
        spawn(f, MD, false, &c);
        assert_true(drain(&c, 1200));
        fake_sysfs_set(f->root, MD, "array_state", "inactive");
        rc = finish(&c);
        if (rc != 1)
                fail_msg("watch exited %d, not 1:\n%s", rc, c.out);
        snprintf(expect, sizeof(expect), "\n" MD ": the array is not running any more (inactive); "
                 "see 'reshaped status %s/dev/" MD "'.\n", f->root);
        assert_contains(c.out, expect);
}

/* Runs watch to its end; exit status, stdout and stderr together. */
static int run_watch(struct fixture *f, const char *const *args, char *out, size_t size)
{
        const char *bin = getenv("RESHAPED_TEST_BINARY");
        const char *argv[8] = { bin, "--sysfs-root", f->root };
        char cmdline[1024] = "";
        size_t n = 0;
        FILE *p;
        int status;

        assert_non_null(bin);
        for (size_t i = 0; args[i]; i++)
                argv[3 + i] = args[i];
        for (size_t i = 0; argv[i]; i++)
                n += (size_t) snprintf(cmdline + n, sizeof(cmdline) - n, "'%s' ", argv[i]);
        snprintf(cmdline + n, sizeof(cmdline) - n, "2>&1");
        p = popen(cmdline, "r");
        assert_non_null(p);
        n = fread(out, 1, size - 1, p);
        out[n] = '\0';
        status = pclose(p);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

static void test_cli_errors(void **state)
{
        struct fixture *f = *state;
        char out[4096], expect[512];

        /* No reshape: nothing to watch, at once, and says so. */
        set_finished(f);
        assert_int_equal(run_watch(f, (const char *[]) { "watch", MD, NULL }, out, sizeof(out)), 4);
        assert_contains(out, "/dev/" MD ": no reshape in progress (raid5, 4 disks, chunk 128 KiB): nothing to watch; "
                             "'reshaped status' lists the arrays that reshape.\n");
        /* Inactive at the start: it may hold a reshape; the fix is named. */
        fake_sysfs_set(f->root, MD, "array_state", "inactive");
        assert_int_equal(run_watch(f, (const char *[]) { "watch", MD, NULL }, out, sizeof(out)), 1);
        assert_contains(out, "/dev/" MD ": not running (inactive): ");
        snprintf(expect, sizeof(expect), "; run 'reshaped restore %s/dev/" MD "'.\n", f->root);
        assert_contains(out, expect);

        /* Not an md array; a name that is nothing; a path that is nothing. */
        assert_int_equal(run_watch(f, (const char *[]) { "watch", "sda", NULL }, out, sizeof(out)), 2);
        assert_contains(out, "sda: not an md array; give an md array that is reshaping, such as /dev/md0");
        assert_int_equal(run_watch(f, (const char *[]) { "watch", "md9", NULL }, out, sizeof(out)), 2);
        assert_contains(out, "md9: not an md array; give an md array");
        assert_int_equal(run_watch(f, (const char *[]) { "watch", "/dev/md/nothing-here", NULL }, out, sizeof(out)), 2);
        assert_contains(out, "/dev/md/nothing-here: no such device; give an md array");

        /* The command line. */
        assert_int_equal(run_watch(f, (const char *[]) { "watch", NULL }, out, sizeof(out)), 2);
        assert_contains(out, "watch takes one DEVICE");
        assert_int_equal(run_watch(f, (const char *[]) { "watch", MD, MD, NULL }, out, sizeof(out)), 2);
        assert_int_equal(run_watch(f, (const char *[]) { "watch", "--bogus", MD, NULL }, out, sizeof(out)), 2);
        assert_int_equal(run_watch(f, (const char *[]) { "help", "watch", NULL }, out, sizeof(out)), 0);
        assert_contains(out, "Usage: reshaped watch DEVICE");
        assert_contains(out, "  4  DEVICE has no reshape in progress");
}

/* A process whose command line is what a supervisor's would be (as in
 * test-status.c); it ends with the test, whatever happens. */
static pid_t start_stand_in(int *ret_fd)
{
        char path[64], line[4096];
        int fds[2];
        pid_t pid;

        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);

                if (null < 0 || dup2(fds[0], STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
                    dup2(null, STDERR_FILENO) < 0)
                        _exit(127);
                close(fds[1]);
                execl("/bin/sh", "reshaped", "-c", "read x", "supervise", "/dev/" MD, (char *) NULL);
                _exit(127);
        }
        close(fds[0]);
        *ret_fd = fds[1];
        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int) pid);
        for (int i = 0; i < 500; i++) {
                FILE *p = fopen(path, "re");
                size_t n = p ? fread(line, 1, sizeof(line) - 1, p) : 0;

                if (p)
                        fclose(p);
                if (n > 0 && strcmp(line, "reshaped") == 0)
                        return pid;
                usleep(10000);
        }
        fail_msg("the stand-in supervisor did not start");
        return -1;
}

static void test_cli_supervisor_exits(void **state)
{
        struct fixture *f = *state;
        char expect[128];
        struct child c;
        int fd, rc;
        pid_t pid;

        pid = start_stand_in(&fd);
        spawn(f, MD, false, &c);
        snprintf(expect, sizeof(expect), "TAKING OVER by reshaped pid %d\n", (int) pid);
        if (!drain_until(&c, expect, 5000))
                fail_msg("watch did not name the supervisor:\n%s", c.out);
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        close(fd);
        /* At the next look (the fallback, 1 s after the first), not at the
         * next full one (2 s after the first). */
        if (!drain_until(&c, "UNPROTECTED: see 'reshaped status", 1500))
                fail_msg("watch still trusts the supervisor that exited:\n%s", c.out);
        set_finished(f);
        rc = finish(&c);
        if (rc != 0)
                fail_msg("watch exited %d, not 0:\n%s", rc, c.out);
}

static void test_cli_interrupted(void **state)
{
        struct fixture *f = *state;
        struct child c;
        int rc;

        spawn(f, MD, false, &c);
        assert_true(drain(&c, 800));
        assert_int_equal(kill(c.pid, SIGINT), 0);
        rc = finish(&c);
        if (rc != 3)
                fail_msg("watch exited %d, not 3:\n%s", rc, c.out);
        assert_contains(c.out, MD ": watch interrupted; the reshape goes on.\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_redraw_decision),
                cmocka_unit_test(test_end_detection),
                cmocka_unit_test(test_format_line),
                cmocka_unit_test(test_plain_lines),
                cmocka_unit_test_setup_teardown(test_cli_plain_until_finished, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_tty_redraws, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_stopped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_interrupted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_supervisor_exits, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
