// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The supervisor (reshaped supervise, the built binary) against a fake
 * kernel (fake-kernel.h) on a fake sysfs whose members are image files:
 * a raid5 of 4 x 8 MiB, 0.90 metadata, chunk 64K -> 128K, its content a
 * pattern written in the old layout. The fake checks, unit by unit, that
 * whatever it rewrites with sync_max a number is in the backup with the
 * array's content; the tests check what the supervisor leaves behind.
 *
 * restore's assembly (md_assemble_readonly()) takes block devices only:
 * the restore tests run restore_prepare() on the member images, set the
 * fake sysfs to what md shows after that assembly, and drive the rest of
 * restore (restore_write_back(), then the supervisor) in a child, as
 * cmd-restore.c does, through ROOT/dev/mdX, the array's content.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/raid/md_p.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake-kernel.h"
#include "fake-sysfs.h"
#include "reshaped/backup/backup.h"
#include "reshaped/md/md.h"
#include "reshaped/members/member-write.h"
#include "reshaped/cli/cmd.h"
#include "reshaped/cli/cmd-supervised.h"
#include "reshaped/supervise/supervise-lock.h"
#include "reshaped/supervise/supervisor.h"
#include "restore/restore-internal.h"

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#define MD "md121"
#define COMPONENT_KIB 8192u
#define MEMBER_BYTES ((COMPONENT_KIB + 64u) * 1024u)
#define SUPER_OFFSET ((uint64_t) COMPONENT_KIB * 1024u)  /* 0.90: 64 KiB from the end */
#define END_PROGRESS (2u * COMPONENT_KIB)
/* Generous: a run takes about a second, more under ASan on a busy host. */
#define RUN_TIMEOUT_MS 120000

struct fixture {
        char *root;
        char dir[64];
        char backup[96];
        char log[96];
        char *members[4];
        uint8_t super[MD_SB_BYTES];
        struct reshape_geometry g;
        uint8_t *content;
        pid_t pid;
};

static void put_file(const char *path, const char *value)
{
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        assert_true(fprintf(f, "%s\n", value) >= 0);
        assert_int_equal(fclose(f), 0);
}

static void put_rel(struct fixture *f, const char *rel, const char *value)
{
        char *p = fake_sysfs_path(f->root, rel);

        put_file(p, value);
        free(p);
}

static void build_super(struct fixture *f, uint64_t position, bool reshaping)
{
        mdp_super_t *sb = (mdp_super_t *) f->super;

        memset(f->super, 0, sizeof(f->super));
        sb->md_magic = MD_SB_MAGIC;
        sb->major_version = 0;
        sb->minor_version = reshaping ? 91 : 90;
        sb->set_uuid0 = 0x0a0b0c0d;
        sb->level = 5;
        sb->layout = 2;
        sb->raid_disks = 4;
        sb->chunk_size = 65536;
        sb->size = COMPONENT_KIB;
        sb->events_lo = 9;
        sb->new_level = 5;
        sb->new_layout = 2;
        sb->new_chunk = 131072;
        sb->nr_disks = sb->active_disks = sb->working_disks = 4;
        for (unsigned i = 0; i < 4; i++)
                sb->disks[i] = (mdp_disk_t) { .number = i, .major = 8, .minor = 16 * i, .raid_disk = i,
                                              .state = (1 << MD_DISK_ACTIVE) | (1 << MD_DISK_SYNC) };
        assert_int_equal(md_super_set_reshape_position(f->super, 0, position), 0);
}

/* Members in the old layout with the pattern, each with the superblock. */
static void build_members(struct fixture *f)
{
        mdp_super_t *sb = (mdp_super_t *) f->super;
        uint64_t position = sb->reshape_position;
        struct stripe_layout old = { .level = 5, .raid_disks = 4, .chunk_sectors = 128, .algorithm = 2 };
        struct member_source src[4];
        struct member_writer *w = NULL;
        uint64_t stripes = COMPONENT_KIB * 2u / old.chunk_sectors;

        for (unsigned i = 0; i < 4; i++) {
                char rel[32];
                int fd;

                snprintf(rel, sizeof(rel), "dev/%s", fake_members4[i].name);
                f->members[i] = fake_sysfs_path(f->root, rel);
                fd = open(f->members[i], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                assert_true(fd >= 0);
                assert_int_equal(ftruncate(fd, MEMBER_BYTES), 0);
                /* Each its own (which member it is); f->super is left
                 * naming the last. */
                sb->this_disk = sb->disks[i];
                assert_int_equal(md_super_set_reshape_position(f->super, 0, position), 0);
                assert_int_equal(pwrite(fd, f->super, MD_SB_BYTES, SUPER_OFFSET), MD_SB_BYTES);
                close(fd);
                src[i] = (struct member_source) { f->members[i], 0 };
                snprintf(rel, sizeof(rel), "block/" MD "/md/dev-%s/size", fake_members4[i].name);
                put_rel(f, rel, "8192");
        }
        assert_int_equal(member_writer_open(&old, src, &w), 0);
        assert_int_equal(member_writer_put(w, 0, stripes, f->content), 0);
        assert_int_equal(member_writer_sync(w), 0);
        member_writer_free(w);
}

/* The kernel at @front (sync_completed) with its checkpoint at @ckpt,
 * sync_max=max, as mdadm hands it over; or, @idle, no reshape yet. */
static struct fixture *setup_array(uint64_t front, uint64_t ckpt, bool idle)
{
        struct fixture *f = calloc(1, sizeof(*f));
        const struct geometry_input in = {
                .old_level = 5, .new_level = 5, .old_raid_disks = 4, .new_raid_disks = 4,
                .old_chunk_bytes = 65536, .new_chunk_bytes = 131072,
                .old_layout = 2, .new_layout = 2, .component_kib = COMPONENT_KIB,
        };
        const char *why = NULL;
        char completed[64], position[32];
        struct fake_attr attrs[] = {
                { "chunk_size", idle ? "65536" : "131072 (65536)" },
                { "component_size", "8192" },
                { "metadata_version", idle ? "0.90" : "0.91" },
                { "array_state", idle ? "clean" : "active" },
                { "sync_action", idle ? "idle" : "reshape" },
                { "sync_completed", idle ? "none" : completed },
                { "sync_max", "max" },
                { "reshape_position", idle ? "none" : position },
                { "array_size", "default" },
                { "sync_speed", "0" },
                { "stripe_cache_size", "256" },
                {}
        };
        struct fake_array a = {
                .name = MD, .devnum = "9:121", .attrs = attrs,
                .members = fake_members4, .n_members = ELEMENTSOF(fake_members4),
        };
        char *p;
        int fd;

        assert_non_null(f);
        assert_int_equal(geometry_init(&f->g, &in, &why), 0);
        snprintf(completed, sizeof(completed), "%" PRIu64 " / %u", front, END_PROGRESS);
        snprintf(position, sizeof(position), "%" PRIu64, geometry_progress_to_position(&f->g, ckpt));
        f->root = fake_sysfs_create(&a);

        assert_int_equal(posix_memalign((void **) &f->content, 4096, sectors_to_bytes(f->g.array_sectors)), 0);
        for (size_t i = 0; i < sectors_to_bytes(f->g.array_sectors); i++)
                f->content[i] = (uint8_t) ((i * 2654435761u) >> 13);
        build_super(f, geometry_progress_to_position(&f->g, ckpt), !idle);
        build_members(f);
        /* /dev/mdX reads as md shows the array, its content (nothing
         * writes to it; a reshape keeps it): the take-over reads the first
         * block, and a backup left behind is compared with it. */
        p = fake_sysfs_path(f->root, "dev/" MD);
        fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, f->content, sectors_to_bytes(f->g.array_sectors), 0),
                         (ssize_t) sectors_to_bytes(f->g.array_sectors));
        close(fd);
        free(p);

        snprintf(f->dir, sizeof(f->dir), "/tmp/reshaped-test-supervise-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->backup, sizeof(f->backup), "%s/md.bak", f->dir);
        snprintf(f->log, sizeof(f->log), "%s/log", f->dir);
        assert_int_equal(setenv("RESHAPED_STATE_DIR", f->dir, 1), 0);
        assert_int_equal(setenv("RESHAPED_RUN_DIR", f->dir, 1), 0);
        assert_int_equal(setenv("RESHAPED_SYSFS_ROOT", f->root, 1), 0);
        /* The supervisor looks at least every WATCHDOG_USEC / 4: 10 ms. */
        assert_int_equal(setenv("WATCHDOG_USEC", "40000", 1), 0);
        return f;
}

static struct fixture *setup_at(uint64_t front, uint64_t ckpt)
{
        return setup_array(front, ckpt, false);
}

static struct fake_kernel *kernel_idle(struct fixture *f, bool idle, uint64_t front, uint64_t ckpt,
                                       uint64_t free_limit, bool hold_until_frozen)
{
        const char *members[4] = { f->members[0], f->members[1], f->members[2], f->members[3] };
        struct fake_kernel_config c = {
                .root = f->root, .md = MD, .members = members, .n_members = 4,
                .super_offset_bytes = SUPER_OFFSET, .super = f->super, .geo = &f->g,
                .backup_path = f->backup, .content = f->content,
                .front_progress = front, .checkpoint_progress = ckpt,
                .free_limit_progress = free_limit, .hold_until_frozen = hold_until_frozen,
                .new_chunk_size = "131072",
                .begin_chunk_size = idle ? "131072 (65536)" : NULL,
                .begin_expect_chunk_size = "131072",
        };
        struct fake_kernel *k = fake_kernel_start(&c);

        assert_non_null(k);
        return k;
}

static struct fake_kernel *kernel(struct fixture *f, uint64_t front, uint64_t ckpt,
                                  uint64_t free_limit, bool hold_until_frozen)
{
        return kernel_idle(f, false, front, ckpt, free_limit, hold_until_frozen);
}

static void teardown_fixture(struct fixture *f)
{
        char cmd[128];

        if (f->pid > 0) {
                kill(f->pid, SIGKILL);
                waitpid(f->pid, NULL, 0);
        }
        for (unsigned i = 0; i < 4; i++)
                free(f->members[i]);
        fake_sysfs_remove(f->root);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        unsetenv("WATCHDOG_USEC");
        unsetenv("RESHAPED_SYSFS_ROOT");
        free(f->content);
        free(f);
}

/* reshaped COMMAND MD --backup-file B --max-window 4M [@extra]. */
static void spawn(struct fixture *f, const char *command, const char *extra)
{
        const char *bin = getenv("RESHAPED_TEST_BINARY");
        int fd;

        assert_non_null(bin);
        fd = open(f->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        f->pid = fork();
        assert_true(f->pid >= 0);
        if (f->pid == 0) {
                if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
                        _exit(127);
                execl(bin, bin, command, MD, "--backup-file", f->backup, "--max-window", "4M", extra, NULL);
                _exit(127);
        }
        close(fd);
}

static void spawn_supervise(struct fixture *f)
{
        spawn(f, "supervise", NULL);
}

static char *read_log(struct fixture *f)
{
        static char buf[65536];
        int fd = open(f->log, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        assert_true(fd >= 0);
        n = read(fd, buf, sizeof(buf) - 1);
        assert_true(n >= 0);
        buf[n] = '\0';
        close(fd);
        return buf;
}

/* Its exit status, within RUN_TIMEOUT_MS; a failure as soon as its
 * output says @fail_on (not NULL). */
static int wait_exit_unless(struct fixture *f, const char *fail_on)
{
        struct timespec t0, t;
        int status;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                pid_t r = waitpid(f->pid, &status, WNOHANG);

                assert_true(r >= 0);
                if (r == f->pid)
                        break;
                if (fail_on && strstr(read_log(f), fail_on))
                        fail_msg("the supervisor said \"%s\":\n%s", fail_on, read_log(f));
                clock_gettime(CLOCK_MONOTONIC, &t);
                if ((t.tv_sec - t0.tv_sec) * 1000 > RUN_TIMEOUT_MS)
                        fail_msg("the supervisor did not exit in %d s:\n%s", RUN_TIMEOUT_MS / 1000, read_log(f));
                usleep(10000);
        }
        f->pid = 0;
        if (!WIFEXITED(status))
                fail_msg("the supervisor died of signal %d:\n%s", WTERMSIG(status), read_log(f));
        return WEXITSTATUS(status);
}

static int wait_exit(struct fixture *f)
{
        return wait_exit_unless(f, NULL);
}

static char *attr(struct fixture *f, const char *name)
{
        static char buf[4][128];
        static unsigned next;
        char *v = fake_sysfs_get(f->root, MD, name);
        char *b = buf[next++ % 4];

        snprintf(b, sizeof(buf[0]), "%.*s", (int) strcspn(v, "\n"), v);
        free(v);
        return b;
}

static void check_no_breach(struct fixture *f, const struct fake_kernel_state *st)
{
        if (st->breach[0])
                fail_msg("fake kernel: %s\nsupervisor:\n%s", st->breach, read_log(f));
}

/* The reshape ran to its end under the supervisor, which cleaned up. */
static void check_finished(struct fixture *f, int status, const struct fake_kernel_state *st)
{
        char *log = read_log(f);

        check_no_breach(f, st);
        if (status != 0 || !st->finished)
                fail_msg("exit %d, finished %d:\n%s", status, st->finished, log);
        assert_string_equal(st->sync_max_at_end, "max");
        assert_string_equal(attr(f, "suspend_lo"), "0");
        assert_string_equal(attr(f, "suspend_hi"), "0");
        assert_non_null(strstr(log, "reshape finished"));
        /* The backup is removed once nothing needs it. */
        assert_int_equal(access(f->backup, F_OK), -1);
        assert_int_equal(errno, ENOENT);
}

/* mdadm's hand-off: sync_max=max, nothing reshaped or checkpointed yet.
 * The take-over sees a kernel that has not begun, backs up the first
 * unit, and every window after it. */
static void test_takeover_at_start(void **state)
{
        struct fixture *f = setup_at(0, 0);
        struct fake_kernel *k = kernel(f, 0, 0, 0, true);
        struct fake_kernel_state st;
        int status;

        (void) state;
        spawn_supervise(f);
        status = wait_exit(f);
        fake_kernel_stop(k, &st);
        check_finished(f, status, &st);
        assert_int_equal(st.units_free, 0);
        assert_true(st.units_protected >= END_PROGRESS / f->g.unit_progress_sectors);
        teardown_fixture(f);
}

/* A kernel that has run unpaced past its last checkpoint: taken over
 * where it is, everything from there on protected. */
static void test_takeover_later(void **state)
{
        struct fixture *f = setup_at(3072, 2048);
        struct fake_kernel *k = kernel(f, 3072, 2048, 4096, false);
        struct fake_kernel_state st;
        int status;

        (void) state;
        spawn_supervise(f);
        status = wait_exit(f);
        fake_kernel_stop(k, &st);
        check_finished(f, status, &st);
        assert_true(st.units_free <= (4096 - 3072) / f->g.unit_progress_sectors);
        assert_non_null(strstr(read_log(f), "took over at"));
        teardown_fixture(f);
}

/*
 * What a stop left: writes suspended exactly over the backup's sections
 * beyond the on-disk checkpoint, each holding the array's content, and
 * sync_max no further than what is backed up (or the checkpoint).
 */
static void check_backup_covers(struct fixture *f, const struct fake_kernel_state *st, bool suspend_matches)
{
        uint64_t ckpt_pos = geometry_progress_to_position(&f->g, st->checkpoint);
        struct array_range hull = { 0, 0 };
        uint8_t hbuf[BACKUP_HEADER_BYTES];
        struct backup_header h;
        uint64_t lo, hi, limit;
        const char *max;
        int fd;

        check_no_breach(f, st);
        fd = open(f->backup, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, hbuf, sizeof(hbuf), 0), sizeof(hbuf));
        assert_int_equal(backup_header_decode(hbuf, &h).reason, BACKUP_VERIFY_OK);
        for (unsigned i = 0; i < BACKUP_SLOTS; i++) {
                const struct backup_section *sec = &h.sections[i];
                uint64_t bytes = sectors_to_bytes(sec->length_sectors);
                uint8_t *data;

                if (!sec->length_sectors || sec->array_start_sectors + sec->length_sectors <= ckpt_pos)
                        continue;
                data = malloc(bytes);
                assert_non_null(data);
                assert_int_equal(pread(fd, data, bytes, (off_t) backup_section_offset_bytes(&h, i)), (ssize_t) bytes);
                assert_memory_equal(data, f->content + sectors_to_bytes(sec->array_start_sectors), bytes);
                free(data);
                if (!array_range_sectors(hull) || sec->array_start_sectors < hull.lo_array_sectors)
                        hull.lo_array_sectors = sec->array_start_sectors;
                if (sec->array_start_sectors + sec->length_sectors > hull.hi_array_sectors)
                        hull.hi_array_sectors = sec->array_start_sectors + sec->length_sectors;
        }
        close(fd);

        lo = strtoull(attr(f, "suspend_lo"), NULL, 10);
        hi = strtoull(attr(f, "suspend_hi"), NULL, 10);
        if (array_range_sectors(hull)) {
                if (suspend_matches) {
                        assert_int_equal(lo, hull.lo_array_sectors);
                        assert_int_equal(hi, hull.hi_array_sectors);
                }
                limit = geometry_position_to_progress(&f->g, hull.hi_array_sectors);
        } else {
                if (suspend_matches)
                        assert_true(hi <= lo);
                limit = st->checkpoint;
        }
        max = attr(f, "sync_max");
        if (strcmp(max, "max") == 0)
                assert_int_equal(limit, f->g.end_progress_sectors);
        else
                assert_true(strtoull(max, NULL, 10) <= limit);
        assert_true(st->front <= limit);
}

static void check_stopped_consistent(struct fixture *f, const struct fake_kernel_state *st)
{
        check_backup_covers(f, st, true);
}

/* A store by someone else, whole at once as sysfs takes it (the
 * supervisor may read the attribute at any moment). */
static void store(struct fixture *f, const char *name, const char *value)
{
        char *tmp = fake_sysfs_path(f->root, "block/" MD "/md/.test-store");
        char rel[64], *p;

        snprintf(rel, sizeof(rel), "block/" MD "/md/%s", name);
        p = fake_sysfs_path(f->root, rel);
        put_file(tmp, value);
        assert_int_equal(rename(tmp, p), 0);
        free(p);
        free(tmp);
}

/* Until @pred holds for the fake kernel, bounded. */
static void wait_kernel(struct fixture *f, struct fake_kernel *k,
                        bool (*pred)(const struct fake_kernel_state *, void *), void *userdata)
{
        struct fake_kernel_state st;

        if (fake_kernel_wait(k, pred, userdata, RUN_TIMEOUT_MS))
                return;
        fake_kernel_get(k, &st);
        fail_msg("the fake kernel never got there (front %" PRIu64 ", checkpoint %" PRIu64 ", parked %d, finished %d, breach \"%s\"):\n%s",
                 st.front, st.checkpoint, st.parked, st.finished, st.breach, read_log(f));
}

static bool parked_at(const struct fake_kernel_state *st, void *userdata)
{
        return st->parked && st->front == *(const uint64_t *) userdata;
}

static bool ended(const struct fake_kernel_state *st, void *userdata)
{
        (void) userdata;
        return st->finished;
}

/* sync_max read from sysfs, bounded: what the supervisor stored. */
static void wait_sync_max_beyond(struct fixture *f, uint64_t progress, bool want_max)
{
        for (unsigned i = 0; i < RUN_TIMEOUT_MS / 10; i++) {
                const char *max = attr(f, "sync_max");

                if (want_max ? strcmp(max, "max") == 0
                             : strcmp(max, "max") != 0 && strtoull(max, NULL, 10) > progress)
                        return;
                usleep(10000);
        }
        fail_msg("sync_max never went %s %" PRIu64 ":\n%s", want_max ? "to max at" : "beyond", progress,
                 read_log(f));
}

/* SIGTERM with windows held and the kernel short of sync_max: the kernel
 * is let on to sync_max, then frozen there with nothing at risk. */
static void test_stop_window_held(void **state)
{
        uint64_t stall = END_PROGRESS / 2;
        struct fixture *f = setup_at(0, 0);
        struct fake_kernel *k = kernel(f, 0, 0, 0, true);
        struct fake_kernel_state st;
        int status;

        (void) state;
        fake_kernel_stall_at(k, stall);
        spawn_supervise(f);
        wait_kernel(f, k, parked_at, &stall);
        wait_sync_max_beyond(f, stall, false);
        assert_int_equal(kill(f->pid, SIGTERM), 0);
        fake_kernel_stall_at(k, 0);
        status = wait_exit(f);
        fake_kernel_stop(k, &st);
        if (status != 3 || !strstr(read_log(f), "Stopped safely at"))
                fail_msg("exit %d:\n%s", status, read_log(f));
        assert_string_equal(attr(f, "sync_action"), "frozen");
        /* It reached sync_max and checkpointed there. */
        assert_int_equal(st.front, st.checkpoint);
        assert_int_equal(strtoull(attr(f, "sync_max"), NULL, 10), st.front);
        check_stopped_consistent(f, &st);
        assert_string_equal(attr(f, "suspend_hi"), "0");
        teardown_fixture(f);
}

/* Frozen by someone else (mdadm --stop does it first) with windows held
 * beyond the checkpoint: held at once, those writes kept suspended. */
static void test_stop_frozen_by_other(void **state)
{
        uint64_t stall = END_PROGRESS / 2;
        struct fixture *f = setup_at(0, 0);
        struct fake_kernel *k = kernel(f, 0, 0, 0, true);
        struct fake_kernel_state st;
        int status;

        (void) state;
        fake_kernel_stall_at(k, stall);
        spawn_supervise(f);
        wait_kernel(f, k, parked_at, &stall);
        wait_sync_max_beyond(f, stall, false);
        store(f, "sync_action", "frozen");
        status = wait_exit(f);
        fake_kernel_stop(k, &st);
        if (status != 3 || !strstr(read_log(f), "someone else froze"))
                fail_msg("exit %d:\n%s", status, read_log(f));
        assert_string_equal(attr(f, "sync_action"), "frozen");
        check_stopped_consistent(f, &st);
        /* Something was held beyond the checkpoint, and still is. */
        assert_true(strtoull(attr(f, "suspend_hi"), NULL, 10) > geometry_progress_to_position(&f->g, st.checkpoint));
        teardown_fixture(f);
}

/* SIGTERM after the final release (sync_max=max, the rest backed up):
 * the kernel is let run to the end. */
static void test_stop_final_release(void **state)
{
        uint64_t stall = END_PROGRESS - 256;
        struct fixture *f = setup_at(0, 0);
        struct fake_kernel *k = kernel(f, 0, 0, 0, true);
        struct fake_kernel_state st;
        int status;

        (void) state;
        fake_kernel_stall_at(k, stall);
        spawn_supervise(f);
        wait_kernel(f, k, parked_at, &stall);
        wait_sync_max_beyond(f, stall, true);
        assert_int_equal(kill(f->pid, SIGTERM), 0);
        fake_kernel_stall_at(k, 0);
        wait_kernel(f, k, ended, NULL);
        status = wait_exit(f);
        fake_kernel_stop(k, &st);
        check_no_breach(f, &st);
        if (status != 3 || !strstr(read_log(f), "the reshape had finished, and no writes are suspended"))
                fail_msg("exit %d:\n%s", status, read_log(f));
        assert_string_equal(attr(f, "suspend_lo"), "0");
        assert_string_equal(attr(f, "suspend_hi"), "0");
        teardown_fixture(f);
}

static char *slurp(const char *path, size_t *ret_size)
{
        struct stat st;
        char *buf;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        buf = malloc((size_t) st.st_size + 1);
        assert_non_null(buf);
        assert_int_equal(pread(fd, buf, (size_t) st.st_size, 0), st.st_size);
        close(fd);
        *ret_size = (size_t) st.st_size;
        return buf;
}

/* Until the supervisor's output says @text, bounded. */
static void wait_log(struct fixture *f, const char *text)
{
        for (unsigned i = 0; i < RUN_TIMEOUT_MS / 10; i++) {
                if (strstr(read_log(f), text))
                        return;
                usleep(10000);
        }
        fail_msg("the supervisor never said \"%s\":\n%s", text, read_log(f));
}

/* Whether an attribute the supervisor stores is half written: md.c
 * truncates, then writes the line (sysfs takes a store whole). */
static bool store_in_flight(struct fixture *f)
{
        static const char *const names[] = { "sync_max", "sync_min", "sync_action", "suspend_lo", "suspend_hi" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char *v = fake_sysfs_get(f->root, MD, names[i]);
                bool whole = v[0] && v[strlen(v) - 1] == '\n';

                free(v);
                if (!whole)
                        return true;
        }
        return false;
}

/* SIGKILL, as a power cut of the process alone; never inside a store,
 * which a real sysfs takes whole. */
static void kill_supervisor(struct fixture *f)
{
        int status;

        for (unsigned i = 0; i < RUN_TIMEOUT_MS; i++) {
                assert_int_equal(kill(f->pid, SIGSTOP), 0);
                assert_int_equal(waitpid(f->pid, &status, WUNTRACED), f->pid);
                assert_true(WIFSTOPPED(status));
                if (!store_in_flight(f))
                        break;
                assert_int_equal(kill(f->pid, SIGCONT), 0);
                usleep(1000);
        }
        assert_int_equal(kill(f->pid, SIGKILL), 0);
        assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
        f->pid = 0;
        assert_true(WIFSIGNALED(status));
}

/* Writes @byte over 4 KiB of /dev/mdX at array sector @sector. */
static void poke_array(struct fixture *f, uint64_t sector, int byte)
{
        char *p = fake_sysfs_path(f->root, "dev/" MD);
        uint8_t block[4096];
        int fd = open(p, O_WRONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        if (byte < 0)
                memcpy(block, f->content + sectors_to_bytes(sector), sizeof(block));
        else
                memset(block, byte, sizeof(block));
        assert_int_equal(pwrite(fd, block, sizeof(block), (off_t) sectors_to_bytes(sector)), (ssize_t) sizeof(block));
        close(fd);
        free(p);
}

/* The first section of the backup beyond the checkpoint. */
static uint64_t held_section_start(struct fixture *f, uint64_t ckpt_pos)
{
        uint8_t hbuf[BACKUP_HEADER_BYTES];
        struct backup_header h;
        uint64_t lo = UINT64_MAX;
        int fd = open(f->backup, O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(pread(fd, hbuf, sizeof(hbuf), 0), sizeof(hbuf));
        close(fd);
        assert_int_equal(backup_header_decode(hbuf, &h).reason, BACKUP_VERIFY_OK);
        for (unsigned i = 0; i < BACKUP_SLOTS; i++)
                if (h.sections[i].length_sectors &&
                    h.sections[i].array_start_sectors + h.sections[i].length_sectors > ckpt_pos &&
                    h.sections[i].array_start_sectors < lo)
                        lo = h.sections[i].array_start_sectors;
        assert_true(lo != UINT64_MAX);
        return lo < ckpt_pos ? ckpt_pos : lo;
}

/* SIGKILL with windows held and the kernel short of sync_max: what the
 * kernel may still rewrite is in the backup. While the array's content
 * differs from that backup beyond the checkpoint (torn, as an interrupted
 * restore leaves it) a second supervisor refuses to replace it and
 * changes nothing; when the array holds the same bytes, one replaces it
 * and protects the rest to the end. */
static void test_kill_then_supervise(void **state)
{
        uint64_t stall = END_PROGRESS / 2, torn;
        struct fixture *f = setup_at(0, 0);
        struct fake_kernel *k = kernel(f, 0, 0, 0, true);
        struct fake_kernel_state st, st2;
        char *before, *after, sync_max[32], lo[32], hi[32];
        size_t n_before, n_after;
        int status;

        (void) state;
        fake_kernel_stall_at(k, stall);
        spawn_supervise(f);
        wait_kernel(f, k, parked_at, &stall);
        wait_sync_max_beyond(f, stall, false);
        kill_supervisor(f);
        fake_kernel_get(k, &st);
        check_backup_covers(f, &st, false);

        torn = held_section_start(f, geometry_progress_to_position(&f->g, st.checkpoint));
        poke_array(f, torn, 0xa5);
        before = slurp(f->backup, &n_before);
        snprintf(sync_max, sizeof(sync_max), "%s", attr(f, "sync_max"));
        snprintf(lo, sizeof(lo), "%s", attr(f, "suspend_lo"));
        snprintf(hi, sizeof(hi), "%s", attr(f, "suspend_hi"));
        spawn_supervise(f);
        status = wait_exit_unless(f, "took over");
        if (status != 1 || !strstr(read_log(f), "that this process did not write"))
                fail_msg("exit %d:\n%s", status, read_log(f));
        after = slurp(f->backup, &n_after);
        assert_int_equal(n_after, n_before);
        assert_memory_equal(after, before, n_before);
        free(after);
        free(before);
        assert_string_equal(attr(f, "sync_max"), sync_max);
        assert_string_equal(attr(f, "suspend_lo"), lo);
        assert_string_equal(attr(f, "suspend_hi"), hi);
        fake_kernel_get(k, &st2);
        assert_int_equal(st2.checkpoint, st.checkpoint);

        /* Let go once it has taken over: before, the kernel would reach
         * sync_max and checkpoint, and nothing would be held any more. */
        poke_array(f, torn, -1);
        spawn_supervise(f);
        wait_log(f, "protected: ");
        fake_kernel_stall_at(k, 0);
        status = wait_exit(f);
        fake_kernel_stop(k, &st);
        check_finished(f, status, &st);
        assert_non_null(strstr(read_log(f), "no restore needed"));
        assert_int_equal(st.units_free, 0);
        teardown_fixture(f);
}

/* mdadm's hand-off of a small reshape may start the supervisor after
 * its end: nothing to supervise, exit 0; writes a killed supervisor left
 * suspended are let go. */
static void test_supervise_no_reshape(void **state)
{
        struct fixture *f = setup_array(0, 0, true);
        int status;

        (void) state;
        fake_sysfs_set(f->root, MD, "suspend_lo", "0");
        fake_sysfs_set(f->root, MD, "suspend_hi", "8192");
        spawn_supervise(f);
        status = wait_exit(f);
        if (status != 0 || !strstr(read_log(f), "no reshape is running"))
                fail_msg("exit %d:\n%s", status, read_log(f));
        assert_string_equal(attr(f, "suspend_lo"), "0");
        assert_string_equal(attr(f, "suspend_hi"), "0");
        assert_string_equal(attr(f, "sync_action"), "idle");
        teardown_fixture(f);
}

/* A store refused before the reshape begins (sync_min here, like md's
 * EINVAL or EBUSY): the geometry written back, sync_max=max, idle, and
 * the backup made for it removed. */
static void test_start_refused(void **state)
{
        struct fixture *f = setup_array(0, 0, true);
        struct fake_kernel *k;
        struct fake_kernel_state st;
        char *p = fake_sysfs_path(f->root, "block/" MD "/md/sync_min");
        int status;

        (void) state;
        /* Readable files only: the write fails with ENOSPC. */
        assert_int_equal(unlink(p), 0);
        assert_int_equal(symlink("/dev/full", p), 0);
        free(p);
        k = kernel_idle(f, true, 0, 0, 0, false);
        spawn(f, "start", "--chunk=128K");
        status = wait_exit(f);
        fake_kernel_stop(k, &st);
        check_no_breach(f, &st);
        if (status != 1 || !strstr(read_log(f), "the kernel refused the new geometry; the array is unchanged"))
                fail_msg("exit %d:\n%s", status, read_log(f));
        assert_false(st.begun);
        /* The roll-back's chunk_size store follows the first one back to
         * back (sync_min's went to /dev/full) and is noted with it: the
         * values below say it was made. */
        assert_string_equal(st.writes, "sync_action chunk_size layout raid_disks sync_max sync_action");
        assert_string_equal(attr(f, "chunk_size"), "65536");
        assert_string_equal(attr(f, "layout"), "2");
        assert_string_equal(attr(f, "raid_disks"), "4");
        assert_string_equal(attr(f, "sync_max"), "max");
        assert_string_equal(attr(f, "sync_action"), "idle");
        assert_int_equal(access(f->backup, F_OK), -1);
        assert_int_equal(errno, ENOENT);
        teardown_fixture(f);
}

/* start on an idle array, run to the end: the new geometry stored, the
 * reshape begun with sync_max=0, every unit the kernel rewrites backed
 * up first, and the array left with the new chunk. */
static void test_start_to_end(void **state)
{
        struct fixture *f = setup_array(0, 0, true);
        struct fake_kernel *k = kernel_idle(f, true, 0, 0, 0, false);
        struct fake_kernel_state st;
        int status;

        (void) state;
        spawn(f, "start", "--chunk=128K");
        status = wait_exit(f);
        fake_kernel_stop(k, &st);
        check_finished(f, status, &st);
        assert_true(st.begun);
        assert_non_null(strstr(read_log(f), "reshape set up with sync_max=0"));
        /* Nothing ran before the supervisor held it. */
        assert_int_equal(st.units_free, 0);
        assert_true(st.units_protected >= END_PROGRESS / f->g.unit_progress_sectors);
        assert_string_equal(attr(f, "chunk_size"), "131072");
        teardown_fixture(f);
}

/* Array sectors of the backup's sections beyond the on-disk checkpoint. */
static struct array_range held_beyond(struct fixture *f, uint64_t ckpt_pos)
{
        uint8_t hbuf[BACKUP_HEADER_BYTES];
        struct backup_header h;
        struct array_range hull = { UINT64_MAX, 0 };
        int fd = open(f->backup, O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(pread(fd, hbuf, sizeof(hbuf), 0), sizeof(hbuf));
        close(fd);
        assert_int_equal(backup_header_decode(hbuf, &h).reason, BACKUP_VERIFY_OK);
        for (unsigned i = 0; i < BACKUP_SLOTS; i++) {
                uint64_t lo = h.sections[i].array_start_sectors, hi = lo + h.sections[i].length_sectors;

                if (!h.sections[i].length_sectors || hi <= ckpt_pos)
                        continue;
                if (lo < ckpt_pos)
                        lo = ckpt_pos;
                if (lo < hull.lo_array_sectors)
                        hull.lo_array_sectors = lo;
                if (hi > hull.hi_array_sectors)
                        hull.hi_array_sectors = hi;
        }
        assert_true(hull.hi_array_sectors > hull.lo_array_sectors);
        return hull;
}

/*
 * A crash with windows held: the supervisor killed, then the kernel gone
 * (its front lost, the superblocks at its checkpoint), and what it may
 * have been rewriting beyond the checkpoint torn in the array. Returns
 * the checkpoint (progress); @torn the array sectors torn.
 */
static uint64_t crash_with_windows_held(struct fixture *f, struct array_range *torn)
{
        uint64_t stall = END_PROGRESS / 2;
        struct fake_kernel *k = kernel(f, 0, 0, 0, true);
        struct fake_kernel_state st;

        fake_kernel_stall_at(k, stall);
        spawn_supervise(f);
        wait_kernel(f, k, parked_at, &stall);
        wait_sync_max_beyond(f, stall, false);
        kill_supervisor(f);
        fake_kernel_stop(k, &st);
        check_backup_covers(f, &st, false);
        assert_true(st.checkpoint > 0);
        *torn = held_beyond(f, geometry_progress_to_position(&f->g, st.checkpoint));
        for (uint64_t s = torn->lo_array_sectors; s < torn->hi_array_sectors; s += 8)
                poke_array(f, s, 0xa5);
        return st.checkpoint;
}

/* The array stopped (mdadm --stop): restore_prepare() reads the member
 * images, verifies the backup and plans the write-back. */
static void restore_prepared(struct fixture *f, struct restore_ctx *c)
{
        char *paths[4] = { f->members[0], f->members[1], f->members[2], f->members[3] };

        fake_sysfs_set(f->root, MD, "array_state", "inactive");
        *c = (struct restore_ctx) { .md_name = MD };
        snprintf(c->devnode, sizeof(c->devnode), "/dev/" MD);
        assert_int_equal(restore_prepare(c, f->backup, paths, ELEMENTSOF(paths)), 0);
        /* Four members, none taken for another's second node. */
        assert_int_equal(c->n_members, 4);
        assert_false(c->ended);
        assert_false(c->write_old);
        assert_int_equal(c->critical_position, 0);
        assert_true(c->plan.n_ranges > 0);
}

static void restore_free(struct restore_ctx *c)
{
        md_member_supers_free(c->members, c->n_members);
        free(c->backup_path);
}

/* What md shows once md_assemble_readonly() has started the members:
 * read-only at the superblocks' checkpoint, nothing suspended. The fake
 * does not model read-only; it reads frozen until restore freezes it. */
static void assembled(struct fixture *f, uint64_t ckpt)
{
        char pos[32];

        snprintf(pos, sizeof(pos), "%" PRIu64, geometry_progress_to_position(&f->g, ckpt));
        fake_sysfs_set(f->root, MD, "chunk_size", "131072 (65536)");
        fake_sysfs_set(f->root, MD, "metadata_version", "0.91");
        fake_sysfs_set(f->root, MD, "reshape_position", pos);
        fake_sysfs_set(f->root, MD, "sync_completed", "none");
        fake_sysfs_set(f->root, MD, "sync_action", "frozen");
        fake_sysfs_set(f->root, MD, "sync_min", "0");
        fake_sysfs_set(f->root, MD, "sync_max", "max");
        fake_sysfs_set(f->root, MD, "suspend_lo", "0");
        fake_sysfs_set(f->root, MD, "suspend_hi", "0");
        fake_sysfs_set(f->root, MD, "array_state", "readonly");
}

/*
 * The rest of `reshaped restore` after the assembly, in a child as the
 * command runs it: under the array's lock, the write-back, then the
 * supervisor to the end. @fsize_limit (bytes, 0: none) makes writes to
 * the array past it fail, as a member failing under the write-back.
 */
static void spawn_restore(struct fixture *f, struct restore_ctx *c, uint64_t fsize_limit)
{
        int fd = open(f->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        assert_true(fd >= 0);
        f->pid = fork();
        assert_true(f->pid >= 0);
        if (f->pid == 0) {
                struct rlimit rl = { fsize_limit, fsize_limit };
                struct supervisor_options o;
                struct md *md = NULL;
                pid_t holder;
                int r;

                if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
                        _exit(127);
                if (fsize_limit && (signal(SIGXFSZ, SIG_IGN) == SIG_ERR || setrlimit(RLIMIT_FSIZE, &rl) < 0))
                        _exit(127);
                if (supervise_lock_take(c->md_name, &holder) < 0)
                        _exit(EXIT_FAILURE_RUN);
                r = restore_write_back(c, &md);
                if (r < 0)
                        _exit(cmd_supervised_exit_status(r));
                supervisor_options_init(&o);
                if (supervisor_options_max_window(&o, "4M") < 0)
                        _exit(127);
                o.backup_path = c->backup_path;
                r = supervisor_run(md, &o);
                cmd_report_failure(md, r);
                md_close(md);
                _exit(cmd_supervised_exit_status(r));
        }
        close(fd);
}

/* Every byte of the array (ROOT/dev/mdX) is the content. */
static void check_array_content(struct fixture *f)
{
        char *p = fake_sysfs_path(f->root, "dev/" MD);
        size_t n;
        char *arr = slurp(p, &n);

        free(p);
        assert_int_equal(n, sectors_to_bytes(f->g.array_sectors));
        for (size_t i = 0; i < n; i += 4096)
                if (memcmp(arr + i, f->content + i, 4096) != 0)
                        fail_msg("array byte %zu (sector %zu) differs from the content:\n%s", i, i / 512,
                                 read_log(f));
        free(arr);
}

/* A crash with windows held, then restore: the backup written back over
 * what was torn, the reshape resumed from the checkpoint and supervised
 * to the end, every unit rewritten backed up first, every byte intact. */
static void test_restore_then_supervise(void **state)
{
        struct fixture *f = setup_at(0, 0);
        struct fake_kernel *k;
        struct fake_kernel_state st;
        struct restore_ctx c;
        struct array_range torn;
        uint64_t ckpt;
        int status;

        (void) state;
        ckpt = crash_with_windows_held(f, &torn);
        restore_prepared(f, &c);
        assembled(f, ckpt);
        k = kernel(f, ckpt, ckpt, 0, false);
        spawn_restore(f, &c, 0);
        status = wait_exit(f);
        fake_kernel_stop(k, &st);
        check_finished(f, status, &st);
        assert_non_null(strstr(read_log(f), "emptied"));
        assert_int_equal(st.units_free, 0);
        check_array_content(f);
        restore_free(&c);
        teardown_fixture(f);
}

/*
 * A restore whose write-back fails part way (writes to the array past a
 * third of what is torn fail): it stops with the reshape frozen at the
 * checkpoint and the backup untouched. supervise on that array refuses
 * to replace the backup (its sections beyond the checkpoint are the only
 * good copy) and changes nothing; a second restore verifies the same
 * backup, writes all of it back and supervises to the end.
 */
static void test_restore_interrupted(void **state)
{
        struct fixture *f = setup_at(0, 0);
        struct fake_kernel *k;
        struct fake_kernel_state st, st2;
        struct restore_ctx c;
        struct array_range torn;
        uint64_t ckpt, cut_bytes, generation;
        char *before, *after, *p, *arr, sync_max[32];
        size_t n_before, n_after, n;
        int status;

        (void) state;
        ckpt = crash_with_windows_held(f, &torn);
        restore_prepared(f, &c);
        generation = c.rep.header.generation;
        before = slurp(f->backup, &n_before);
        assembled(f, ckpt);
        k = kernel(f, ckpt, ckpt, 0, false);
        /* A third of the way: inside the first section, whether the
         * supervisor held one window or two when it was killed. */
        cut_bytes = sectors_to_bytes(torn.lo_array_sectors + array_range_sectors(torn) / 3) / 4096 * 4096;
        assert_true(cut_bytes > sectors_to_bytes(torn.lo_array_sectors));
        spawn_restore(f, &c, cut_bytes);
        status = wait_exit(f);
        if (status != 1 || !strstr(read_log(f), "the reshape stays frozen at its checkpoint"))
                fail_msg("exit %d:\n%s", status, read_log(f));
        restore_free(&c);
        /* Stopped in the middle: the first part written back, the rest
         * still torn, the backup as it was. */
        p = fake_sysfs_path(f->root, "dev/" MD);
        arr = slurp(p, &n);
        free(p);
        assert_memory_equal(arr + sectors_to_bytes(torn.lo_array_sectors),
                            f->content + sectors_to_bytes(torn.lo_array_sectors),
                            cut_bytes - sectors_to_bytes(torn.lo_array_sectors));
        assert_int_equal((uint8_t) arr[cut_bytes], 0xa5);
        free(arr);
        after = slurp(f->backup, &n_after);
        assert_int_equal(n_after, n_before);
        assert_memory_equal(after, before, n_before);
        free(after);
        assert_string_equal(attr(f, "sync_action"), "frozen");
        snprintf(sync_max, sizeof(sync_max), "%s", attr(f, "sync_max"));
        assert_int_equal(strtoull(sync_max, NULL, 10), ckpt);

        spawn_supervise(f);
        status = wait_exit_unless(f, "took over");
        if (status != 1 || !strstr(read_log(f), "that this process did not write"))
                fail_msg("exit %d:\n%s", status, read_log(f));
        after = slurp(f->backup, &n_after);
        assert_int_equal(n_after, n_before);
        assert_memory_equal(after, before, n_before);
        free(after);
        free(before);
        assert_string_equal(attr(f, "sync_max"), sync_max);
        assert_string_equal(attr(f, "suspend_hi"), "0");
        fake_kernel_stop(k, &st);
        check_no_breach(f, &st);
        assert_int_equal(st.front, ckpt);
        assert_int_equal(st.checkpoint, ckpt);

        restore_prepared(f, &c);
        assert_int_equal(c.rep.header.generation, generation);
        assembled(f, ckpt);
        k = kernel(f, ckpt, ckpt, 0, false);
        spawn_restore(f, &c, 0);
        status = wait_exit(f);
        fake_kernel_stop(k, &st2);
        check_finished(f, status, &st2);
        assert_int_equal(st2.units_free, 0);
        check_array_content(f);
        restore_free(&c);
        teardown_fixture(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_takeover_at_start),
                cmocka_unit_test(test_takeover_later),
                cmocka_unit_test(test_stop_window_held),
                cmocka_unit_test(test_stop_frozen_by_other),
                cmocka_unit_test(test_stop_final_release),
                cmocka_unit_test(test_kill_then_supervise),
                cmocka_unit_test(test_supervise_no_reshape),
                cmocka_unit_test(test_start_refused),
                cmocka_unit_test(test_start_to_end),
                cmocka_unit_test(test_restore_then_supervise),
                cmocka_unit_test(test_restore_interrupted),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
