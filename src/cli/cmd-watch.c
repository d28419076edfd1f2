// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `reshaped watch DEVICE`: what `reshaped status` says about one array,
 * as a line redrawn in place on a terminal (plain lines otherwise), until
 * the reshape ends; its outcome is the exit status. Sleeps in poll() on
 * sync_completed (md.c's notification fd) and a signalfd; src/report/watch.c
 * decides when to redraw and when the reshape has ended.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "reshaped/cli/cmd.h"
#include "reshaped/cli/cli-util.h"
#include "reshaped/util/log.h"
#include "reshaped/md/md.h"
#include "reshaped/cli/status-observe.h"
#include "reshaped/report/status.h"
#include "reshaped/report/watch.h"

/* Documented in `reshaped help watch` and reshaped(8). */
enum {
        WATCH_EXIT_FINISHED = EXIT_OK,
        WATCH_EXIT_STOPPED = 1,
        WATCH_EXIT_ERROR = 2,
        WATCH_EXIT_INTERRUPTED = 3,
        WATCH_EXIT_NO_RESHAPE = 4,
};

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What status reports on (a superblock it may not read, a missing
 * backup) is shown in the line, not logged; -v shows it. */
static int quiet_begin(void)
{
        int level = log_get_max_level();

        if (level < LOG_DEBUG)
                log_set_max_level(LOG_CRIT);
        return level;
}

static bool gone(int r)
{
        return r == -ENOENT || r == -ENODEV;
}

struct out {
        bool tty;
        bool open_line;  /* a redrawn line without its newline yet */
};

static void draw(struct out *out, struct watch *w, const struct status_observed *o,
                 const struct status_view *v)
{
        char line[1024];
        struct winsize ws;

        watch_format_line(line, sizeof(line), o, v);
        if (!out->tty) {
                if (watch_plain_line_due(w, v))
                        printf("%s\n", line);
        } else {
                /* A line wider than the terminal wraps, and \r would
                 * redraw only its last row. */
                if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 &&
                    strlen(line) >= ws.ws_col)
                        line[ws.ws_col - 1] = '\0';
                printf("\r%s\033[K", line);
                out->open_line = true;
        }
        fflush(stdout);
}

static void end_line(struct out *out)
{
        if (out->open_line)
                putchar('\n');
        out->open_line = false;
}

/* Whether the supervisor of the last full look has exited: the line
 * must not go on saying PROTECTED until the next one. */
static bool supervisor_exited(const struct status_observed *o)
{
        pid_t pid = o->supervisor_pid > 0 ? o->supervisor_pid : o->mdadm_pid;

        return pid > 0 && kill(pid, 0) < 0 && errno == ESRCH;
}

static int observe(struct md *md, struct status_observation *ob, bool full)
{
        int q = quiet_begin(), r;

        if (full) {
                status_observation_clear(ob);
                r = status_observe(md, ob);
        } else
                r = status_observe_progress(md, ob);
        log_set_max_level(q);
        return r;
}

static int open_signals(void)
{
        sigset_t mask;
        int fd;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        fd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to create a signalfd: %m");
        return fd;
}

/* Sleeps until a notification, a signal or the timeout; returns 1 after
 * a signal, 0 otherwise. */
static int wait_event(struct md *md, int sfd, struct watch *w, struct status_observation *ob)
{
        struct pollfd p[2] = {
                { .fd = md_sync_completed_fd(md), .events = POLLPRI | POLLERR },
                { .fd = sfd, .events = POLLIN },
        };
        int r, q;

        if (p[0].fd < 0)
                return p[0].fd;
        r = poll(p, 2, watch_wait_ms(w, now_ms()));
        if (r < 0)
                return errno == EINTR ? 0 : log_error_errno(errno, "Failed to wait for sync_completed of %s: %m",
                                                            md_name(md));
        if (p[1].revents & POLLIN)
                return 1;
        if (r == 0) {
                watch_woke(w);
                return 0;
        }
        if (p[0].revents & POLLNVAL)
                return log_error_errno(EBADF, "Failed to wait for sync_completed of %s: %m", md_name(md));
        if (p[0].revents & (POLLPRI | POLLERR)) {
                /* Takes the notification and re-arms it. */
                q = quiet_begin();
                r = md_sync_completed_consume(md, &ob->o.completed);
                log_set_max_level(q);
                if (r < 0)
                        return r;
                watch_woke(w);
        }
        return 0;
}

static void print_finished(const struct status_observed *o)
{
        const char *level = md_level_to_string(o->mdg.level);

        printf("%s: the reshape finished: %s, %u disks, chunk %" PRIu32 " KiB.\n", o->name,
               level ? level : "unknown level", o->mdg.raid_disks_new, o->mdg.chunk_bytes_new / 1024);
}

/* @observed_from, @observed_to: when the first full observation ran. */
static int watch_loop(struct md *md, int sfd, struct status_observation *ob, struct status_view *v,
                      int64_t observed_from, int64_t observed_to)
{
        struct out out = { .tty = isatty(STDOUT_FILENO) == 1 };
        double last_percent = v->progress_known ? v->percent : -1;
        struct watch w;
        char why[256];
        int r;

        watch_init(&w, observed_to);
        watch_full_done(&w, observed_from, observed_to);
        for (;;) {
                int64_t now = now_ms();

                switch (watch_check_end(&w, &ob->o, v, now, why, sizeof(why))) {
                case WATCH_FINISHED:
                        if (out.tty) {
                                printf("\r\033[K");
                                out.open_line = false;
                        }
                        print_finished(&ob->o);
                        return WATCH_EXIT_FINISHED;
                case WATCH_STOPPED:
                        end_line(&out);
                        printf("%s: %s; see 'reshaped status %s'.\n", ob->o.name, why, ob->o.devnode);
                        return WATCH_EXIT_STOPPED;
                case WATCH_GOES_ON:
                        break;
                }
                log_debug("%s: drawn at %" PRId64 " ms.", ob->o.name, now);
                draw(&out, &w, &ob->o, v);
                watch_drawn(&w, now);
                if (v->progress_known)
                        last_percent = v->percent;

                do {
                        r = wait_event(md, sfd, &w, ob);
                        if (r > 0) {
                                end_line(&out);
                                printf("%s: watch interrupted; the reshape goes on.\n", ob->o.name);
                                return WATCH_EXIT_INTERRUPTED;
                        }
                        if (r < 0)
                                break;
                        now = now_ms();
                } while (!watch_draw_due(&w, now));

                if (r >= 0) {
                        bool stale = v->progress_known && ob->o.sync_max_progress != MD_SYNC_MAX_UNLIMITED &&
                                     v->front_progress > ob->o.sync_max_progress;
                        bool full = watch_full_due(&w, now, stale) || supervisor_exited(&ob->o);

                        r = observe(md, ob, full);
                        if (full)
                                watch_full_done(&w, now, now_ms());
                }
                if (gone(r)) {
                        end_line(&out);
                        if (last_percent >= 0)
                                printf("%s: the array is gone (stopped?) with the reshape at %.1f%%; "
                                       "see /proc/mdstat and 'reshaped status'.\n", md_name(md), last_percent);
                        else
                                printf("%s: the array is gone (stopped?); see /proc/mdstat and 'reshaped status'.\n",
                                       md_name(md));
                        return WATCH_EXIT_STOPPED;
                }
                if (r < 0) {
                        end_line(&out);
                        log_error_errno(r, "%s: cannot read its state from sysfs any more: %m", md_devnode(md));
                        return WATCH_EXIT_ERROR;
                }
                status_decide(&ob->o, v);
        }
}

static int watch_one(const char *spec)
{
        struct status_observation ob = {};
        struct status_view v;
        struct md *md = NULL;
        int r, q, sfd = -1, ret;
        int64_t t0;

        q = quiet_begin();
        r = md_open(spec, &md);
        log_set_max_level(q);
        if (r < 0) {
                log_error("%s: %s; give an md array that is reshaping, such as /dev/md0 "
                          "(see /proc/mdstat or 'reshaped status').", spec, cli_md_open_strerror(spec, r));
                return WATCH_EXIT_ERROR;
        }
        sfd = open_signals();
        if (sfd < 0) {
                ret = WATCH_EXIT_ERROR;
                goto out;
        }
        t0 = now_ms();
        r = observe(md, &ob, true);
        if (r < 0) {
                log_error_errno(r, "%s: cannot read its state from sysfs: %m", md_devnode(md));
                ret = WATCH_EXIT_ERROR;
                goto out;
        }
        status_decide(&ob.o, &v);
        if (v.state == STATUS_NO_RESHAPE) {
                const char *level = md_level_to_string(ob.o.mdg.level);

                log_error("%s: no reshape in progress (%s, %u disks, chunk %" PRIu32 " KiB): nothing to watch; "
                          "'reshaped status' lists the arrays that reshape.", md_devnode(md),
                          level ? level : "unknown level", ob.o.mdg.raid_disks_new,
                          ob.o.mdg.chunk_bytes_new / 1024);
                ret = WATCH_EXIT_NO_RESHAPE;
                goto out;
        }
        if (v.state == STATUS_INACTIVE) {
                log_error("%s: not running (inactive): %s; run '%s'.", md_devnode(md), v.reason, v.fix);
                ret = WATCH_EXIT_STOPPED;
                goto out;
        }
        ret = watch_loop(md, sfd, &ob, &v, t0, now_ms());
        if (fflush(stdout) != 0) {
                log_error_errno(errno, "Failed to write the progress of %s: %m", md_name(md));
                ret = WATCH_EXIT_ERROR;
        }
out:
        if (sfd >= 0)
                close(sfd);
        status_observation_clear(&ob);
        md_close(md);
        return ret;
}

static int run_watch(int argc, char **argv)
{
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int opt;

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
                switch (opt) {
                case 'h':
                        cmd_print_help(&cmd_watch);
                        return EXIT_OK;
                default:
                        fprintf(stderr, "See 'reshaped help watch'.\n");
                        return WATCH_EXIT_ERROR;
                }
        }
        if (argc - optind != 1) {
                log_error("watch takes one DEVICE, such as /dev/md0; see 'reshaped help watch'.");
                return WATCH_EXIT_ERROR;
        }
        return watch_one(argv[optind]);
}

const struct cmd cmd_watch = {
        .name = "watch",
        .summary = "show a reshape's progress until it ends",
        .help =
        "Usage: reshaped watch DEVICE\n"
        "\n"
        "Shows what 'reshaped status' says about DEVICE's reshape in one line:\n"
        "progress, rate, time to go, how far the backup protects it, and who\n"
        "supervises it (or UNPROTECTED). On a terminal the line is redrawn in\n"
        "place at each checkpoint the kernel notifies (sync_completed), at most\n"
        "4 times a second and at least once a second; otherwise a plain line is\n"
        "printed per whole percent and per change of state. Ends when the reshape\n"
        "ends; the exit status says how, as for 'zpool wait'. Writes nothing to\n"
        "the array; reading the superblocks and the backup needs root.\n"
        "\n"
        "Options:\n"
        "  -h, --help   show this help\n"
        "\n"
        "Exit status:\n"
        "  0  the reshape finished\n"
        "  1  the reshape stopped without finishing: not running (sync_action frozen\n"
        "     or idle) for 10 s, the array became inactive, or it is gone (stopped)\n"
        "  2  an error: a DEVICE that does not exist or is not an md array, state\n"
        "     that cannot be read, or a bad command line\n"
        "  3  watch itself was interrupted (SIGINT, SIGTERM, SIGHUP); the reshape\n"
        "     goes on\n"
        "  4  DEVICE has no reshape in progress: nothing to watch\n",
        .run = run_watch,
};
