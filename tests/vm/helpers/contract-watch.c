// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm-contract-watch: check the kernel's side of a supervised reshape, the
 * "halfway rule": with a numeric sync_max the kernel records its position
 * (reshape_position in the superblock, written and waited for) and then
 * notifies sync_completed each time it has gone half way from the last
 * notified position to sync_max, and it stops at sync_max.
 *
 *   vm-contract-watch --md MD --member DEV --unit N --scale N
 *                     [--idle-ms MS] [--timeout-s S] LIMIT...
 *   vm-contract-watch ... --restart-after-ms MS LIMIT
 *
 * MD is the array (md0) whose reshape is set up but not started (new
 * geometry written, sync_action idle or frozen). DEV is one member, whose
 * on-disk 1.x superblock is read back after every notification. --unit is the
 * reshape unit (what one reshape request moves) and LIMIT the successive
 * sync_max values, all counted as sync_max counts: sectors per member for
 * raid4/5/6, array sectors for raid10. --scale converts them into array
 * sectors (reshape_position's unit): the new number of data disks for
 * raid4/5/6, 1 for raid10. Forward reshapes only.
 *
 * It writes sync_max = LIMIT[0], arms poll() on sync_completed, writes
 * sync_action = reshape, and for each LIMIT (raising sync_max to it after
 * the first) follows every notification until the kernel parks. Each
 * notified value v after a value p must be
 *   - p's next halfway point h(p): the first unit boundary q > p with
 *     2 (q - p) >= LIMIT - p ("halfway"),
 *   - or a later point of the chain h(h(p)) ... ("coalesced": notifications
 *     came faster than this process read them; counted, accepted),
 *   - or below h(p) ("extra": a checkpoint for another reason, e.g. the
 *     10 s timer; counted, accepted),
 * and reshape_position must be at least v * scale, and the superblock's
 * at least p * scale (the kernel assigns sync_completed before it writes
 * the superblock and notifies after, so a reader woken by one checkpoint
 * may read the next one's value; it starts a checkpoint only once the one
 * before is on disk). The kernel must then park: /proc/mdstat's position
 * stays at the last notified value v for --idle-ms, with LIMIT <= v <
 * LIMIT + unit, and reshape_position (sysfs and superblock) = v * scale.
 * A kernel that stops without such a notification fails the contract.
 *
 * With --restart-after-ms MS and one LIMIT it checks the other half of the
 * rule: the reshape runs with sync_max = max for MS, is frozen, gets
 * sync_max = LIMIT (below where it got to) and is let go (sync_action
 * idle). Restarting at some p >= LIMIT, the kernel must record p
 * (reshape_position and the superblock = p * scale), notify it, and park.
 *
 * Output: one "watch:" line per notification and per phase, the notified
 * sequence, then "watch: contract met" or "watch: contract NOT met: WHY".
 * Exit status: 0 met, 1 not met, 2 usage or system error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <linux/raid/md_p.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vm-util.h"

#define ATTR_BYTES 128
#define SB_IO_BYTES 4096
#define POLL_TICK_MS 100
#define MAX_LIMITS 8
#define MAX_EVENTS 256

struct options {
        const char *md;
        const char *member;
        uint64_t unit_sync_sectors;
        uint64_t scale;
        unsigned idle_ms;
        unsigned timeout_s;
        unsigned restart_after_ms;      /* restart mode when > 0 */
        uint64_t limit_sync_sectors[MAX_LIMITS];
        unsigned n_limits;
};

/* What the kernel shows after one notification. */
struct observation {
        bool running;                   /* sync_completed is "A / B" */
        uint64_t completed_sync_sectors;
        bool position_known;            /* reshape_position is a number */
        uint64_t position_array_sectors;
        bool sb_reshaping;              /* superblock has RESHAPE_ACTIVE */
        uint64_t sb_position_array_sectors;
};

struct watch {
        const struct options *opt;
        int completed_fd;
        int member_fd;
        uint64_t sb_offset_bytes;
        double t0_s;
        uint64_t notified_sync_sectors;         /* last notified value */
        uint64_t sequence[MAX_EVENTS];
        unsigned n_sequence;
        unsigned n_halfway, n_coalesced, n_extra, n_repeat;
        char why[256];                  /* set when the contract is not met */
};

/* Opens the array's attribute @name; its path is left in @path
 * (VM_ATTR_PATH_BYTES) for the caller's messages. Returns the fd or -errno. */
static int open_attr(const struct options *opt, const char *name, int flags, char *path)
{
        int fd, r;

        r = vm_md_attr_path(opt->md, name, path, VM_ATTR_PATH_BYTES);
        if (r < 0)
                return r;
        fd = open(path, flags | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                fprintf(stderr, "vm-contract-watch: open %s: %s\n", path, strerror(errno));
                return r;
        }
        return fd;
}

static int read_attr(const struct options *opt, const char *name, char *buf, size_t size)
{
        char path[VM_ATTR_PATH_BYTES];
        int fd, r;

        fd = open_attr(opt, name, O_RDONLY, path);
        if (fd < 0)
                return fd;
        r = vm_pread_attr(fd, buf, size);
        if (r < 0)
                fprintf(stderr, "vm-contract-watch: read %s: %s\n", path, strerror(-r));
        close(fd);
        return r;
}

static int write_attr(const struct options *opt, const char *name, const char *value)
{
        char path[VM_ATTR_PATH_BYTES];
        size_t len = strlen(value);
        ssize_t n;
        int fd, r;

        fd = open_attr(opt, name, O_WRONLY, path);
        if (fd < 0)
                return fd;
        n = write(fd, value, len);
        r = n < 0 ? -errno : (size_t) n != len ? -EIO : 0;
        if (r < 0)
                fprintf(stderr, "vm-contract-watch: write '%s' to %s: %s\n", value, path, strerror(-r));
        close(fd);
        return r;
}

/* The reshape's live position from /proc/mdstat, in sync sectors;
 * -ENOENT when no reshape is shown. */
static int mdstat_position(const char *md, uint64_t *ret_sync_sectors)
{
        uint64_t kib;
        int r;

        r = vm_mdstat_reshape_kib("/proc/mdstat", md, &kib);
        if (r < 0) {
                fprintf(stderr, "vm-contract-watch: open /proc/mdstat: %s\n", strerror(-r));
                return r;
        }
        if (r == 0)
                return -ENOENT;
        *ret_sync_sectors = kib * 2;
        return 0;
}

/* Where the member's 1.x superblock lives (md.c super_1_load). */
static int superblock_offset(const struct options *opt, int member_fd, uint64_t *ret_bytes)
{
        char version[ATTR_BYTES];
        uint64_t size_bytes;
        int r;

        r = read_attr(opt, "metadata_version", version, sizeof(version));
        if (r < 0)
                return r;
        if (strcmp(version, "1.1") == 0) {
                *ret_bytes = 0;
                return 0;
        }
        if (strcmp(version, "1.2") == 0) {
                *ret_bytes = 8 * 512;
                return 0;
        }
        if (strcmp(version, "1.0") != 0) {
                fprintf(stderr, "vm-contract-watch: %s has metadata %s; use 1.0, 1.1 or 1.2\n",
                        opt->md, version);
                return -EINVAL;
        }
        if (ioctl(member_fd, BLKGETSIZE64, &size_bytes) < 0) {
                r = -errno;
                fprintf(stderr, "vm-contract-watch: BLKGETSIZE64 %s: %s\n", opt->member, strerror(errno));
                return r;
        }
        *ret_bytes = ((size_bytes / 512 - 16) & ~(uint64_t) 7) * 512;
        return 0;
}

/* The member's superblock as it is on the device (O_DIRECT). */
static int read_superblock(struct watch *w, struct observation *o)
{
        unsigned char *sb;
        ssize_t n;
        int r = 0;

        if (posix_memalign((void **) &sb, SB_IO_BYTES, SB_IO_BYTES) != 0)
                return -ENOMEM;
        n = pread(w->member_fd, sb, SB_IO_BYTES, (off_t) w->sb_offset_bytes);
        if (n != SB_IO_BYTES) {
                r = n < 0 ? -errno : -EIO;
                fprintf(stderr, "vm-contract-watch: read superblock of %s: %s\n",
                        w->opt->member, strerror(-r));
        } else if (vm_le32(sb + offsetof(struct mdp_superblock_1, magic)) != MD_SB_MAGIC ||
                   vm_le32(sb + offsetof(struct mdp_superblock_1, major_version)) != 1) {
                fprintf(stderr, "vm-contract-watch: %s has no 1.x superblock at byte %" PRIu64 "\n",
                        w->opt->member, w->sb_offset_bytes);
                r = -EINVAL;
        } else {
                o->sb_reshaping = vm_le32(sb + offsetof(struct mdp_superblock_1, feature_map)) &
                                  MD_FEATURE_RESHAPE_ACTIVE;
                o->sb_position_array_sectors =
                        vm_le64(sb + offsetof(struct mdp_superblock_1, reshape_position));
        }
        free(sb);
        return r;
}

static int observe(struct watch *w, struct observation *o)
{
        char buf[ATTR_BYTES];
        unsigned long long done, total;
        int r;

        *o = (struct observation) {};
        r = vm_pread_attr(w->completed_fd, buf, sizeof(buf));
        if (r < 0) {
                fprintf(stderr, "vm-contract-watch: read sync_completed: %s\n", strerror(-r));
                return r;
        }
        if (sscanf(buf, "%llu / %llu", &done, &total) == 2) {
                o->running = true;
                o->completed_sync_sectors = done;
        }
        r = read_attr(w->opt, "reshape_position", buf, sizeof(buf));
        if (r < 0)
                return r;
        o->position_known = vm_parse_u64(buf, &o->position_array_sectors) == 0;
        return read_superblock(w, o);
}

/* The first unit boundary q after @from with 2 (q - from) >= limit - from. */
static uint64_t next_halfway(uint64_t from, uint64_t limit, uint64_t unit)
{
        uint64_t half = (limit - from + 1) / 2;
        uint64_t units = (half + unit - 1) / unit;

        return from + (units ? units : 1) * unit;
}

static void fail(struct watch *w, const char *why)
{
        if (w->why[0] == '\0')
                snprintf(w->why, sizeof(w->why), "%s", why);
}

/* Classifies and checks one notified value; returns its label. */
static const char *check_notification(struct watch *w, const struct observation *o, uint64_t limit)
{
        const struct options *opt = w->opt;
        uint64_t prev = w->notified_sync_sectors, v = o->completed_sync_sectors;
        uint64_t need_array_sectors = v * opt->scale;
        const char *label;
        char why[256];

        if (w->n_sequence == 0 && v == 0) {
                label = "start";
        } else if (v == prev) {
                w->n_repeat++;
                label = "repeat";
        } else if (v < prev) {
                snprintf(why, sizeof(why), "sync_completed went back from %" PRIu64 " to %" PRIu64, prev, v);
                fail(w, why);
                label = "BACKWARDS";
        } else if (prev >= limit) {
                snprintf(why, sizeof(why), "moved on to %" PRIu64 " after reaching sync_max %" PRIu64, v, limit);
                fail(w, why);
                label = "PAST-LIMIT";
        } else if (v < next_halfway(prev, limit, opt->unit_sync_sectors)) {
                w->n_extra++;
                label = "extra";
        } else {
                uint64_t h = next_halfway(prev, limit, opt->unit_sync_sectors);
                unsigned skipped = 0;

                while (h < v && h < limit) {
                        h = next_halfway(h, limit, opt->unit_sync_sectors);
                        skipped++;
                }
                if (h != v) {
                        snprintf(why, sizeof(why),
                                 "notified %" PRIu64 " after %" PRIu64 " without a notification at halfway point %" PRIu64,
                                 v, prev, next_halfway(prev, limit, opt->unit_sync_sectors));
                        fail(w, why);
                        label = "SKIPPED-HALFWAY";
                } else if (skipped > 0) {
                        w->n_coalesced += skipped;
                        w->n_halfway++;
                        label = "halfway(coalesced)";
                } else {
                        w->n_halfway++;
                        label = "halfway";
                }
        }

        /* A report of position 0 claims nothing about the metadata. */
        if (v > 0 && (!o->position_known || o->position_array_sectors < need_array_sectors)) {
                snprintf(why, sizeof(why), "reshape_position behind notified %" PRIu64 " (x%" PRIu64 ")",
                         v, opt->scale);
                fail(w, why);
        }
        /*
         * The kernel sets sync_completed before it writes the superblock
         * and notifies after, so a reader woken by one checkpoint may
         * already read the next one's value. What is certain: the kernel
         * starts a checkpoint only after the previous one is on disk.
         */
        if (v > prev && prev > 0 &&
            (!o->sb_reshaping || o->sb_position_array_sectors < prev * opt->scale)) {
                snprintf(why, sizeof(why),
                         "superblock reshape_position %" PRIu64 " behind %" PRIu64 " (x%" PRIu64 "), notified before %" PRIu64,
                         o->sb_position_array_sectors, prev, opt->scale, v);
                fail(w, why);
        }
        if ((v != prev || w->n_sequence == 0) && w->n_sequence < MAX_EVENTS)
                w->sequence[w->n_sequence++] = v;
        w->notified_sync_sectors = v;
        return label;
}

/* In restart mode the halfway chain does not apply: just record. */
static const char *note_restart(struct watch *w, const struct observation *o)
{
        if (w->n_sequence < MAX_EVENTS)
                w->sequence[w->n_sequence++] = o->completed_sync_sectors;
        w->notified_sync_sectors = o->completed_sync_sectors;
        return "restart";
}

static void print_observation(const struct watch *w, const char *what, const struct observation *o,
                              const char *label)
{
        printf("watch: t=%.3f %s completed=%" PRIu64 " reshape_position=%" PRIu64
               " sb_reshape_position=%" PRIu64 "%s %s\n",
               vm_now_s() - w->t0_s, what, o->completed_sync_sectors,
               o->position_known ? o->position_array_sectors : 0,
               o->sb_position_array_sectors, o->sb_reshaping ? "" : "(not reshaping)", label);
        fflush(stdout);
}

/* The kernel parked at @mdstat_sync_sectors: was that the contract? */
static int check_park(struct watch *w, uint64_t limit, uint64_t mdstat_sync_sectors)
{
        const struct options *opt = w->opt;
        uint64_t v = w->notified_sync_sectors;
        struct observation o;
        char why[256];
        int r;

        r = observe(w, &o);
        if (r < 0)
                return r;
        print_observation(w, "parked", &o, "");
        printf("watch: parked: mdstat position %" PRIu64 ", last notification %" PRIu64 ", sync_max %" PRIu64 "\n",
               mdstat_sync_sectors, v, limit);
        if (mdstat_sync_sectors < limit) {
                snprintf(why, sizeof(why), "kernel stopped at %" PRIu64 ", before sync_max %" PRIu64 " (last notification %" PRIu64 ")",
                         mdstat_sync_sectors, limit, v);
                fail(w, why);
        } else if (mdstat_sync_sectors >= limit + opt->unit_sync_sectors) {
                snprintf(why, sizeof(why), "kernel ran to %" PRIu64 ", past sync_max %" PRIu64,
                         mdstat_sync_sectors, limit);
                fail(w, why);
        } else if (v != mdstat_sync_sectors) {
                snprintf(why, sizeof(why), "kernel parked at %" PRIu64 " (sync_max %" PRIu64 ") but the last notification was %" PRIu64,
                         mdstat_sync_sectors, limit, v);
                fail(w, why);
        } else if (!o.position_known || o.position_array_sectors != v * opt->scale ||
                   !o.sb_reshaping || o.sb_position_array_sectors != v * opt->scale) {
                snprintf(why, sizeof(why), "parked at %" PRIu64 " but reshape_position (sysfs or superblock) is not %" PRIu64,
                         v, v * opt->scale);
                fail(w, why);
        }
        return 0;
}

/* Follows one phase, from the current position up to @limit. */
static int follow(struct watch *w, uint64_t limit)
{
        const struct options *opt = w->opt;
        double deadline_s = vm_now_s() + opt->timeout_s, moved_s = vm_now_s();
        uint64_t last_mdstat = UINT64_MAX;
        bool started = w->n_sequence > 0;
        int r;

        for (;;) {
                struct pollfd p = { .fd = w->completed_fd, .events = POLLPRI | POLLERR };
                uint64_t pos = 0;

                r = poll(&p, 1, POLL_TICK_MS);
                if (r < 0) {
                        r = -errno;
                        fprintf(stderr, "vm-contract-watch: poll sync_completed: %s\n", strerror(errno));
                        return r;
                }
                if (r > 0) {
                        struct observation o;

                        r = observe(w, &o);
                        if (r < 0)
                                return r;
                        if (o.running) {
                                started = true;
                                print_observation(w, "notify", &o,
                                                  opt->restart_after_ms > 0 ? note_restart(w, &o)
                                                                            : check_notification(w, &o, limit));
                        } else if (started) {
                                fail(w, "the reshape ended or was interrupted before reaching sync_max");
                                return 0;
                        }
                }

                r = mdstat_position(opt->md, &pos);
                if (r < 0 && r != -ENOENT)
                        return r;
                if (r == 0 && pos != last_mdstat) {
                        last_mdstat = pos;
                        moved_s = vm_now_s();
                } else if (r == 0 && started && (vm_now_s() - moved_s) * 1000 >= opt->idle_ms) {
                        return opt->restart_after_ms > 0 ? 0 : check_park(w, limit, pos);
                }
                if (vm_now_s() > deadline_s) {
                        fail(w, "timed out before the kernel parked");
                        return 0;
                }
        }
}

/* Opens the member and sync_completed, and arms poll() on the latter. */
static int open_watch(struct watch *w)
{
        const struct options *opt = w->opt;
        char path[VM_ATTR_PATH_BYTES], buf[ATTR_BYTES];
        int r;

        w->member_fd = open(opt->member, O_RDONLY | O_DIRECT | O_CLOEXEC);
        if (w->member_fd < 0) {
                fprintf(stderr, "vm-contract-watch: open %s: %s\n", opt->member, strerror(errno));
                return -errno;
        }
        r = superblock_offset(opt, w->member_fd, &w->sb_offset_bytes);
        if (r < 0)
                return r;
        w->completed_fd = open_attr(opt, "sync_completed", O_RDONLY, path);
        if (w->completed_fd < 0)
                return w->completed_fd;
        return vm_pread_attr(w->completed_fd, buf, sizeof(buf));
}

static int write_limit(const struct options *opt, uint64_t limit_sync_sectors)
{
        char buf[32];

        snprintf(buf, sizeof(buf), "%" PRIu64, limit_sync_sectors);
        return write_attr(opt, "sync_max", buf);
}

/* The times printed count from here, where md begins the reshape. */
static int start_reshape(struct watch *w)
{
        w->t0_s = vm_now_s();
        return write_attr(w->opt, "sync_action", "reshape");
}

/* The reshape limited to each LIMIT in turn. */
static int run_windows(struct watch *w)
{
        const struct options *opt = w->opt;
        int r;

        r = write_limit(opt, opt->limit_sync_sectors[0]);
        if (r < 0)
                return r;
        r = start_reshape(w);
        if (r < 0)
                return r;

        for (unsigned i = 0; i < opt->n_limits && w->why[0] == '\0'; i++) {
                uint64_t limit = opt->limit_sync_sectors[i];
                unsigned first = w->n_sequence;

                printf("watch: phase %u: sync_max=%" PRIu64 " from %" PRIu64 "\n",
                       i + 1, limit, w->notified_sync_sectors);
                if (i > 0) {
                        r = write_limit(opt, limit);
                        if (r < 0)
                                return r;
                }
                r = follow(w, limit);
                if (r < 0)
                        return r;
                printf("watch: phase %u sequence:", i + 1);
                for (unsigned k = first; k < w->n_sequence; k++)
                        printf(" %" PRIu64, w->sequence[k]);
                printf("\n");
        }
        printf("watch: notifications: %u halfway (%u more coalesced), %u extra, %u repeated\n",
               w->n_halfway, w->n_coalesced, w->n_extra, w->n_repeat);
        return 0;
}

/* Waits until the frozen reshape's thread is gone (sync_completed "none"). */
static int wait_stopped(struct watch *w)
{
        double deadline_s = vm_now_s() + w->opt->timeout_s;
        struct observation o;
        int r;

        for (;;) {
                r = observe(w, &o);
                if (r < 0)
                        return r;
                if (!o.running)
                        return 0;
                if (vm_now_s() > deadline_s) {
                        fprintf(stderr, "vm-contract-watch: %s still reshaping %u s after 'frozen'\n",
                                w->opt->md, w->opt->timeout_s);
                        return -ETIMEDOUT;
                }
                usleep(POLL_TICK_MS * 1000);
        }
}

/*
 * Restart mode: the reshape runs unlimited for a while, is frozen, gets a
 * sync_max below the position it reached, and is let go again. It must
 * restart, find itself at or beyond sync_max, record that position and
 * notify it, and park there.
 */
static int run_restart(struct watch *w)
{
        const struct options *opt = w->opt;
        uint64_t limit = opt->limit_sync_sectors[0], v;
        struct observation o;
        char why[256];
        int r;

        r = write_attr(opt, "sync_max", "max");
        if (r < 0)
                return r;
        r = start_reshape(w);
        if (r < 0)
                return r;
        usleep(opt->restart_after_ms * 1000);
        r = write_attr(opt, "sync_action", "frozen");
        if (r < 0)
                return r;
        r = wait_stopped(w);
        if (r < 0)
                return r;
        r = observe(w, &o);
        if (r < 0)
                return r;
        print_observation(w, "frozen", &o, "");

        r = write_limit(opt, limit);
        if (r < 0)
                return r;
        printf("watch: restart with sync_max=%" PRIu64 "\n", limit);
        r = write_attr(opt, "sync_action", "idle");
        if (r < 0)
                return r;
        r = follow(w, limit);
        if (r < 0)
                return r;

        v = w->notified_sync_sectors;
        if (w->why[0] != '\0')
                return 0;
        r = observe(w, &o);
        if (r < 0)
                return r;
        printf("watch: restarted at %" PRIu64 " (sync_max %" PRIu64 "): reshape_position %" PRIu64
               ", superblock %" PRIu64 ", want %" PRIu64 "\n",
               v, limit, o.position_array_sectors, o.sb_position_array_sectors, v * opt->scale);
        if (v < limit) {
                snprintf(why, sizeof(why), "restarted at %" PRIu64 ", below sync_max %" PRIu64
                         ": freeze earlier or run longer", v, limit);
                fail(w, why);
        } else if (!o.position_known || o.position_array_sectors != v * opt->scale ||
                   !o.sb_reshaping || o.sb_position_array_sectors != v * opt->scale) {
                snprintf(why, sizeof(why), "restarted at %" PRIu64 ", beyond sync_max %" PRIu64
                         ", without recording it: reshape_position %" PRIu64 ", superblock %" PRIu64,
                         v, limit, o.position_array_sectors, o.sb_position_array_sectors);
                fail(w, why);
        }
        return 0;
}

static void usage(FILE *f)
{
        fputs("usage: vm-contract-watch --md MD --member DEV --unit SECTORS --scale N\n"
              "                         [--idle-ms MS] [--timeout-s S] LIMIT...\n"
              "       vm-contract-watch ... --restart-after-ms MS LIMIT\n", f);
}

/* Returns 0 to run, 1 when help was printed, -EINVAL on bad usage. */
static int parse_options(int argc, char **argv, struct options *opt)
{
        static const struct option longopts[] = {
                { "md", required_argument, NULL, 'm' },
                { "member", required_argument, NULL, 'd' },
                { "unit", required_argument, NULL, 'u' },
                { "scale", required_argument, NULL, 's' },
                { "idle-ms", required_argument, NULL, 'i' },
                { "timeout-s", required_argument, NULL, 't' },
                { "restart-after-ms", required_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        uint64_t v;
        int c;

        *opt = (struct options) { .idle_ms = 3000, .timeout_s = 120 };
        while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                switch (c) {
                case 'm':
                        opt->md = optarg;
                        break;
                case 'd':
                        opt->member = optarg;
                        break;
                case 'u':
                case 's':
                case 'i':
                case 't':
                case 'r':
                        if (vm_parse_u64(optarg, &v) < 0 || v == 0 || v > UINT32_MAX) {
                                fprintf(stderr, "vm-contract-watch: bad number '%s'\n", optarg);
                                return -EINVAL;
                        }
                        if (c == 'u')
                                opt->unit_sync_sectors = v;
                        else if (c == 's')
                                opt->scale = v;
                        else if (c == 'i')
                                opt->idle_ms = (unsigned) v;
                        else if (c == 't')
                                opt->timeout_s = (unsigned) v;
                        else
                                opt->restart_after_ms = (unsigned) v;
                        break;
                case 'h':
                        usage(stdout);
                        return 1;
                default:
                        return -EINVAL;
                }
        }
        if (!opt->md || !opt->member || opt->unit_sync_sectors == 0 || opt->scale == 0 ||
            optind >= argc || argc - optind > MAX_LIMITS) {
                fprintf(stderr, "vm-contract-watch: need --md, --member, --unit, --scale and 1 to %d limits\n",
                        MAX_LIMITS);
                return -EINVAL;
        }
        if (opt->restart_after_ms > 0 && argc - optind != 1) {
                fprintf(stderr, "vm-contract-watch: --restart-after-ms takes exactly one limit\n");
                return -EINVAL;
        }
        for (int i = optind; i < argc; i++) {
                if (vm_parse_u64(argv[i], &v) < 0 ||
                    (opt->n_limits > 0 && v <= opt->limit_sync_sectors[opt->n_limits - 1])) {
                        fprintf(stderr, "vm-contract-watch: limits must be rising numbers, got '%s'\n", argv[i]);
                        return -EINVAL;
                }
                opt->limit_sync_sectors[opt->n_limits++] = v;
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct options opt;
        struct watch w = { .opt = &opt, .completed_fd = -1, .member_fd = -1 };
        int r;

        r = parse_options(argc, argv, &opt);
        if (r != 0) {
                if (r < 0)
                        usage(stderr);
                return r < 0 ? 2 : 0;
        }
        r = open_watch(&w);
        if (r >= 0)
                r = opt.restart_after_ms > 0 ? run_restart(&w) : run_windows(&w);
        if (w.completed_fd >= 0)
                close(w.completed_fd);
        if (w.member_fd >= 0)
                close(w.member_fd);
        if (r < 0) {
                fprintf(stderr, "vm-contract-watch: %s\n", strerror(-r));
                return 2;
        }
        if (w.why[0] != '\0') {
                printf("watch: contract NOT met: %s\n", w.why);
                return 1;
        }
        printf("watch: contract met\n");
        return 0;
}
