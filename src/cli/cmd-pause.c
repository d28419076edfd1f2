// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `reshaped pause` and `reshaped resume`. The pause is kept in the record
 * (record.h), where every supervisor looks for it when it starts; a
 * running one (the holder of the lock, supervise-lock.h) is told with a
 * signal and confirms where it holds the kernel in RUN_DIR/MDNAME.held.
 * With nobody supervising, a pause is only recorded, and it holds only
 * when the kernel already stands at a protected boundary; resume then
 * starts supervision through systemd (reshaped@MDNAME.service) when
 * systemd runs, and otherwise says the command.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "reshaped/backup/backup.h"
#include "reshaped/cli/cmd.h"
#include "reshaped/cli/cli-util.h"
#include "reshaped/util/log.h"
#include "reshaped/md/md.h"
#include "reshaped/supervise/record.h"
#include "reshaped/plan/reshape-shape.h"
#include "reshaped/supervise/supervise-lock.h"

/* Documented in `reshaped help pause` and reshaped(8). */
enum {
        PAUSE_EXIT_OK = EXIT_OK,
        PAUSE_EXIT_NOT_DONE = 1,    /* refused, or not (yet) in effect; the message says why */
        PAUSE_EXIT_ERROR = 2,       /* bad name, unreadable state, bad command line */
        PAUSE_EXIT_NO_RESHAPE = 3,  /* the array is not reshaping */
};

#define DEFAULT_TIMEOUT_S 120

struct target {
        struct md *md;
        char uuid[BACKUP_UUID_STRING_MAX];
        bool geo_ok;
        struct reshape_geometry geo;
};

/* Opens @spec as a reshaping array with a readable UUID; the exit status
 * when it is not one (logged), -1 when it is. */
static int open_target(const char *spec, const char *verb, struct target *t)
{
        struct md_geometry mdg;
        enum md_array_state st;
        enum md_sync_action action;
        uint64_t pos, array_kib = 0, events;
        uint8_t raw[16];
        const char *why;
        char buf[64];
        int r, level;

        *t = (struct target) {};
        level = log_get_max_level();
        log_set_max_level(level < LOG_DEBUG ? LOG_CRIT : level);
        r = md_open(spec, &t->md);
        log_set_max_level(level);
        if (r < 0) {
                log_error("%s: %s; give an md array such as /dev/md0 (see /proc/mdstat).", spec, cli_md_open_strerror(spec, r));
                return PAUSE_EXIT_ERROR;
        }
        r = md_get_array_state(t->md, &st);
        if (r < 0)
                return PAUSE_EXIT_ERROR;
        if (st == MD_ARRAY_INACTIVE || st == MD_ARRAY_CLEAR) {
                log_error("%s is assembled but not running: nothing to %s. If it holds a reshape, restore it first: reshaped restore %s",
                          md_devnode(t->md), verb, md_devnode(t->md));
                return PAUSE_EXIT_NO_RESHAPE;
        }
        r = md_get_sync_action(t->md, &action);
        if (r < 0)
                return PAUSE_EXIT_ERROR;
        r = md_get_reshape_position(t->md, &pos);
        if (r < 0)
                return PAUSE_EXIT_ERROR;
        if (action != MD_SYNC_ACTION_RESHAPE && pos == MD_RESHAPE_POSITION_NONE) {
                log_error("%s: no reshape in progress (sync_action=%s, reshape_position none): nothing to %s.",
                          md_devnode(t->md), md_sync_action_to_string(action), verb);
                return PAUSE_EXIT_NO_RESHAPE;
        }
        r = md_read_uuid_and_events(t->md, raw, &events);
        if (r < 0) {
                log_error("%s: cannot read its superblocks to find the array's UUID, under which the pause is recorded (%s); run as root.",
                          md_devnode(t->md), strerror(-r));
                return PAUSE_EXIT_ERROR;
        }
        backup_uuid_format(raw, t->uuid);
        if (md_get_geometry(t->md, &mdg) == 0) {
                if (md_read_attr(t->md, "array_size", buf, sizeof(buf)) > 0 && strncmp(buf, "default", 7) != 0)
                        array_kib = strtoull(buf, NULL, 10);
                t->geo_ok = reshape_shape_geometry(&mdg, array_kib, &t->geo, &why) == 0;
        }
        return -1;
}

static double percent(const struct target *t, uint64_t progress)
{
        return t->geo_ok ? 100.0 * (double) progress / (double) t->geo.end_progress_sectors : -1;
}

static uint64_t position(const struct target *t, uint64_t progress)
{
        return t->geo_ok ? geometry_progress_to_position(&t->geo, progress) : 0;
}

static void sleep_ms(unsigned ms)
{
        (void) nanosleep(&(struct timespec) { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000 }, NULL);
}

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* A number no earlier pause of this array used. */
static uint64_t new_request(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return ((uint64_t) ts.tv_sec * 1000000000 + (uint64_t) ts.tv_nsec) ^ (uint64_t) getpid();
}

static int parse_args(int argc, char **argv, const struct cmd *c, unsigned *ret_timeout_s)
{
        static const struct option options[] = {
                { "help",    no_argument,       NULL, 'h' },
                { "timeout", required_argument, NULL, 't' },
                {}
        };
        char *end;
        int opt;

        *ret_timeout_s = DEFAULT_TIMEOUT_S;
        while ((opt = getopt_long(argc, argv, "ht:", options, NULL)) != -1) {
                switch (opt) {
                case 'h':
                        cmd_print_help(c);
                        return EXIT_OK;
                case 't':
                        errno = 0;
                        *ret_timeout_s = (unsigned) strtoul(optarg, &end, 10);
                        if (errno || end == optarg || *end || *ret_timeout_s > 86400) {
                                log_error("--timeout: '%s' is not a number of seconds (0 to 86400).", optarg);
                                return PAUSE_EXIT_ERROR;
                        }
                        break;
                default:
                        fprintf(stderr, "See 'reshaped help %s'.\n", c->name);
                        return PAUSE_EXIT_ERROR;
                }
        }
        if (optind + 1 != argc) {
                log_error("%s needs exactly one DEVICE, like /dev/md0; see 'reshaped help %s'.", c->name, c->name);
                return PAUSE_EXIT_ERROR;
        }
        return -1;
}

static void print_percent(const struct target *t, uint64_t progress)
{
        if (t->geo_ok)
                printf("%.1f%%, array sector %" PRIu64, percent(t, progress), position(t, progress));
        else
                printf("progress sector %" PRIu64, progress);
}

/* A running supervisor holds the kernel at the end of what is backed up:
 * waits for it to say where. */
static int pause_supervised(struct target *t, pid_t pid, uint64_t request, unsigned timeout_s)
{
        uint64_t deadline = now_ms() + (uint64_t) timeout_s * 1000;
        const char *name = md_name(t->md);
        struct supervise_held h;
        pid_t holder = pid;

        if (pid > 0 && kill(pid, SUPERVISE_PAUSE_SIGNAL) < 0 && errno != ESRCH) {
                log_error_errno(errno, "%s: the pause is recorded, but signalling its supervisor (pid %d) failed: %m; it holds the kernel once it is restarted.",
                                name, (int) pid);
                return PAUSE_EXIT_NOT_DONE;
        }
        for (;;) {
                if (supervise_held_read(name, &h) == 0 && h.request == request &&
                    (holder == 0 || h.pid == holder))
                        break;
                if (supervise_lock_holder(name, &holder) == 0) {
                        log_error("%s: the pause is recorded, but its supervisor exited before it held the kernel; see its log. A supervisor started on it holds it at the protected boundary.",
                                  name);
                        return PAUSE_EXIT_NOT_DONE;
                }
                if (now_ms() >= deadline) {
                        log_error("%s: the pause is recorded, but its supervisor (pid %d) has not confirmed the hold in %u s; see its log (journalctl -u reshaped@%s, or its stderr). 'reshaped status %s' shows where the kernel is.",
                                  name, (int) holder, timeout_s, name, md_devnode(t->md));
                        return PAUSE_EXIT_NOT_DONE;
                }
                sleep_ms(100);
        }
        if (h.final_window) {
                (void) record_pause_clear(t->uuid);
                log_error("%s: not paused: the kernel is in its last window (at %.1f%%), already protected to the end with sync_max=max, and cannot be held there without freezing; it finishes on its own.",
                          name, percent(t, h.progress_sectors));
                return PAUSE_EXIT_NOT_DONE;
        }
        printf("%s paused at ", name);
        print_percent(t, h.progress_sectors);
        printf(" (held by reshaped pid %d); the array stays readable and writable. Resume with: reshaped resume %s\n",
               (int) h.pid, md_devnode(t->md));
        return PAUSE_EXIT_OK;
}

/* Nobody supervises: the pause holds now only if the kernel cannot move
 * past its checkpoint on disk. Recorded either way, so that a
 * supervisor started on the array holds it. */
static int pause_unsupervised(struct target *t)
{
        struct md_sync_completed sc;
        uint64_t sync_max, ckpt_pos, ckpt = 0;
        bool active = false;
        char *backup = NULL;
        int rc, r;

        r = md_get_sync_max(t->md, &sync_max);
        if (r < 0)
                return PAUSE_EXIT_ERROR;
        r = md_get_sync_completed(t->md, &sc);
        if (r < 0)
                return PAUSE_EXIT_ERROR;
        r = md_read_disk_checkpoint(t->md, &active, &ckpt_pos);
        if (r == 0 && t->geo_ok)
                ckpt = active ? geometry_position_to_progress(&t->geo, ckpt_pos) : 0;
        if (r == 0 && t->geo_ok && sync_max != MD_SYNC_MAX_UNLIMITED && sync_max <= ckpt &&
            (sc.state != MD_SYNC_COMPLETED_RUNNING || sc.completed_dev_sectors <= ckpt)) {
                printf("%s paused at ", md_name(t->md));
                print_percent(t, sync_max);
                printf(": nobody supervises it and the kernel is held at sync_max, its checkpoint on disk; the array stays readable and writable. A supervisor started on it holds it there until: reshaped resume %s\n",
                       md_devnode(t->md));
                return PAUSE_EXIT_OK;
        }
        rc = record_lookup(md_name(t->md), &backup);
        if (sync_max == MD_SYNC_MAX_UNLIMITED)
                log_error("%s: not paused: the reshape runs UNPROTECTED (sync_max=max, nobody supervises it), and stopping the kernel here would not make what it rewrote safe.",
                          md_name(t->md));
        else
                log_error("%s: not paused: nobody supervises it, and the kernel may go on to %.1f%% (sync_max), past its checkpoint on disk%s.",
                          md_name(t->md), percent(t, sync_max), r < 0 ? " (unreadable)" : "");
        log_error("%s: the pause is recorded: start supervision, which takes the reshape over and holds it at the protected boundary: reshaped supervise %s --backup-file %s",
                  md_name(t->md), md_devnode(t->md), rc == 0 ? backup : "FILE");
        free(backup);
        return PAUSE_EXIT_NOT_DONE;
}

/* What pause and resume begin with: the command line, the array, and
 * whether a supervisor holds it (*holder 1, its *pid) or not (0). An exit
 * status when that already ends the command, -1 to go on; t->md is to be
 * closed either way. */
static int begin(int argc, char **argv, const struct cmd *c, const char *verb, struct target *t,
                 unsigned *timeout_s, pid_t *pid, int *holder)
{
        int rc;

        *t = (struct target) {};
        rc = parse_args(argc, argv, c, timeout_s);
        if (rc >= 0)
                return rc;
        rc = open_target(argv[optind], verb, t);
        if (rc >= 0)
                return rc;
        *holder = supervise_lock_holder(md_name(t->md), pid);
        return *holder < 0 ? PAUSE_EXIT_ERROR : -1;
}

static int run_pause(int argc, char **argv)
{
        struct target t;
        unsigned timeout_s;
        uint64_t request;
        pid_t pid = 0;
        int rc, holder;

        rc = begin(argc, argv, &cmd_pause, "pause", &t, &timeout_s, &pid, &holder);
        if (rc >= 0)
                goto out;
        rc = PAUSE_EXIT_ERROR;
        request = new_request();
        if (record_pause_set(t.uuid, request) < 0)
                goto out;
        rc = holder == 1 ? pause_supervised(&t, pid, request, timeout_s) : pause_unsupervised(&t);
out:
        md_close(t.md);
        return rc;
}

/* Runs systemctl start --no-block UNIT; 0 when it says the job is queued. */
static int start_unit(const char *unit)
{
        int status;
        pid_t pid;

        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "Failed to fork: %m");
        if (pid == 0) {
                execlp("systemctl", "systemctl", "start", "--no-block", unit, (char *) NULL);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0)
                return log_error_errno(errno, "Failed to wait for systemctl: %m");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return log_error_errno(EIO, "systemctl start %s failed (%s %d).", unit,
                                       WIFEXITED(status) ? "exit status" : "signal",
                                       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return 0;
}

static int resume_unsupervised(struct target *t)
{
        const char *e = getenv("RESHAPED_NO_SYSTEMCTL");
        char unit[128];

        snprintf(unit, sizeof(unit), "reshaped@%s.service", md_name(t->md));
        if ((!e || strcmp(e, "1") != 0) && sd_booted() > 0) {
                if (start_unit(unit) == 0) {
                        printf("%s resumed: started %s to supervise it (systemctl status %s).\n",
                               md_name(t->md), unit, unit);
                        return PAUSE_EXIT_OK;
                }
                log_error("%s: the pause is lifted, but %s did not start; start supervision yourself: reshaped supervise %s",
                          md_name(t->md), unit, md_devnode(t->md));
                return PAUSE_EXIT_NOT_DONE;
        }
        log_error("%s: the pause is lifted, but nobody supervises it, so the kernel stays where it is. Continue with: reshaped supervise %s",
                  md_name(t->md), md_devnode(t->md));
        return PAUSE_EXIT_NOT_DONE;
}

/* Waits for the supervisor to take back its hold. */
static int resume_supervised(struct target *t, pid_t pid, unsigned timeout_s)
{
        uint64_t deadline = now_ms() + (uint64_t) timeout_s * 1000;
        const char *name = md_name(t->md);
        struct supervise_held h;
        pid_t holder = pid;

        if (pid > 0 && kill(pid, SUPERVISE_PAUSE_SIGNAL) < 0 && errno != ESRCH) {
                log_error_errno(errno, "%s: the pause is lifted, but signalling its supervisor (pid %d) failed: %m; restart it.",
                                name, (int) pid);
                return PAUSE_EXIT_NOT_DONE;
        }
        while (supervise_held_read(name, &h) == 0 && h.pid == holder && holder > 0) {
                if (supervise_lock_holder(name, &holder) == 0)
                        return resume_unsupervised(t);
                if (now_ms() >= deadline) {
                        log_error("%s: the pause is lifted, but its supervisor (pid %d) has not gone on in %u s; see its log.",
                                  name, (int) holder, timeout_s);
                        return PAUSE_EXIT_NOT_DONE;
                }
                sleep_ms(100);
        }
        printf("%s resumed; reshaped (pid %d) goes on.\n", name, (int) holder);
        return PAUSE_EXIT_OK;
}

static int run_resume(int argc, char **argv)
{
        struct target t;
        unsigned timeout_s;
        uint64_t request;
        pid_t pid = 0;
        int rc, r, holder;

        rc = begin(argc, argv, &cmd_resume, "resume", &t, &timeout_s, &pid, &holder);
        if (rc >= 0)
                goto out;
        rc = PAUSE_EXIT_ERROR;
        r = record_pause_get(t.uuid, &request);
        if (r == -ENOENT) {
                if (holder == 1)
                        log_error("%s is not paused; reshaped (pid %d) supervises it.", md_name(t.md), (int) pid);
                else
                        log_error("%s is not paused, and nobody supervises it; continue it with: reshaped supervise %s",
                                  md_name(t.md), md_devnode(t.md));
                rc = PAUSE_EXIT_NOT_DONE;
                goto out;
        }
        if (r < 0 && r != -EBADMSG)
                goto out;
        if (record_pause_clear(t.uuid) < 0)
                goto out;
        rc = holder == 1 ? resume_supervised(&t, pid, timeout_s) : resume_unsupervised(&t);
out:
        md_close(t.md);
        return rc;
}

#define PAUSE_EXIT_HELP \
        "Exit status:\n" \
        "  0  done\n" \
        "  1  refused or not (yet) in effect; the message says why and what to do\n" \
        "  2  an error: a DEVICE that does not exist or is not an md array, state\n" \
        "     that cannot be read, or a bad command line\n" \
        "  3  the array is not reshaping\n"

const struct cmd cmd_pause = {
        .name = "pause",
        .summary = "hold a reshape at the end of what is backed up",
        .help =
        "Usage: reshaped pause [--timeout SECONDS] DEVICE\n"
        "\n"
        "Records the pause of DEVICE's reshape (in /var/lib/reshaped, so that it\n"
        "outlives the supervisor and a reboot) and tells the running supervisor,\n"
        "which raises sync_max no further: the kernel runs on to the end of what\n"
        "is backed up, checkpoints there and is held; then no write is suspended\n"
        "and the array stays readable and writable. Waits for the supervisor to\n"
        "confirm and prints where the kernel is held. A supervisor started on a\n"
        "paused array holds it at the protected boundary. With nobody supervising,\n"
        "the pause is in effect at once if the kernel is already held at its\n"
        "checkpoint; otherwise (an unprotected reshape) it is recorded, not in\n"
        "effect, and the supervise command that takes the reshape over and holds\n"
        "it is shown. In its last window (sync_max=max) a reshape cannot be held\n"
        "without freezing: it is left to finish.\n"
        "\n"
        "Options:\n"
        "  --timeout SECONDS  wait this long for the supervisor (default 120)\n"
        "  -h, --help         show this help\n"
        "\n"
        PAUSE_EXIT_HELP,
        .run = run_pause,
};

const struct cmd cmd_resume = {
        .name = "resume",
        .summary = "go on with a paused reshape",
        .help =
        "Usage: reshaped resume [--timeout SECONDS] DEVICE\n"
        "\n"
        "Lifts the pause of DEVICE's reshape and tells the running supervisor,\n"
        "which goes on. With nobody supervising, starts reshaped@MDNAME.service\n"
        "when systemd runs (not with RESHAPED_NO_SYSTEMCTL=1), and otherwise\n"
        "prints the supervise command to run.\n"
        "\n"
        "Options:\n"
        "  --timeout SECONDS  wait this long for the supervisor (default 120)\n"
        "  -h, --help         show this help\n"
        "\n"
        PAUSE_EXIT_HELP,
        .run = run_resume,
};
