// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * reshaped pause / resume, and the pause in reshaped status, on a fake
 * sysfs whose members are image files carrying 0.90 superblocks (the UUID
 * the pause is recorded under, and the checkpoint): with no supervisor
 * (held at the checkpoint, unprotected), with a stand-in supervisor that
 * holds the lock and answers the pause signal, and with bad names.
 */
#include <errno.h>
#include <fcntl.h>
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake-sysfs.h"
#include "reshaped/supervise/record.h"
#include "reshaped/report/status.h"
#include "reshaped/supervise/supervise-lock.h"

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* An unusual name, so that no other test's process looks like its
 * supervisor. */
#define MD "md118"
#define UUID "01020304:00000000:00000000:00000000"

/* raid5, 4 disks, chunk 64K -> 128K: the kernel parked at progress
 * 131072 (array sector 393216), its checkpoint on disk there. */
static const struct fake_attr parked[] = {
        { "chunk_size", "131072 (65536)" },
        { "metadata_version", "0.91" },
        { "array_state", "active" },
        { "sync_action", "reshape" },
        { "sync_completed", "131072 / 522240" },
        { "sync_max", "131072" },
        { "reshape_position", "393216" },
        { "array_size", "default" },
        { "sync_speed", "0" },
        {}
};

struct fixture {
        char *root;
        char dir[64];      /* state and run directories */
        pid_t stand_in;
};

/* md.c calc_sb_csum(): host-endian words, sb_csum counted as 0. */
static uint32_t sb0_csum(const uint8_t *buf)
{
        uint64_t sum = 0;

        for (size_t i = 0; i < MD_SB_BYTES; i += 4) {
                uint32_t w;

                memcpy(&w, buf + i, 4);
                if (i != offsetof(mdp_super_t, sb_csum))
                        sum += w;
        }
        return (uint32_t) ((sum & 0xffffffff) + (sum >> 32));
}

/* Each member a 128 KiB image with a 0.91 superblock (a reshape at
 * @position) where md puts it: 64 KiB from the end. */
static void write_members(struct fixture *f, uint32_t position)
{
        static uint8_t buf[MD_SB_BYTES];
        mdp_super_t *sb = (mdp_super_t *) buf;

        memset(buf, 0, sizeof(buf));
        sb->md_magic = MD_SB_MAGIC;
        sb->major_version = 0;
        sb->minor_version = 91;
        sb->set_uuid0 = 0x04030201;
        sb->level = 5;
        sb->raid_disks = 4;
        sb->events_lo = 7;
        sb->reshape_position = position;
        sb->new_level = 5;
        sb->new_chunk = 131072;
        sb->sb_csum = sb0_csum(buf);
        for (size_t i = 0; i < ELEMENTSOF(fake_members4); i++) {
                char rel[64], *path;
                int fd;

                snprintf(rel, sizeof(rel), "dev/%s", fake_members4[i].name);
                path = fake_sysfs_path(f->root, rel);
                fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
                assert_true(fd >= 0);
                assert_int_equal(ftruncate(fd, 128 * 1024), 0);
                assert_int_equal(pwrite(fd, buf, sizeof(buf), 64 * 1024), (ssize_t) sizeof(buf));
                close(fd);
                free(path);
        }
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        struct fake_array a = {
                .name = MD,
                .devnum = "9:118",
                .attrs = parked,
                .members = fake_members4,
                .n_members = ELEMENTSOF(fake_members4),
        };

        assert_non_null(f);
        f->root = fake_sysfs_create(&a);
        write_members(f, 393216);
        snprintf(f->dir, sizeof(f->dir), "/tmp/reshaped-test-pause-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        assert_int_equal(setenv("RESHAPED_STATE_DIR", f->dir, 1), 0);
        assert_int_equal(setenv("RESHAPED_RUN_DIR", f->dir, 1), 0);
        assert_int_equal(setenv("RESHAPED_NO_SYSTEMCTL", "1", 1), 0);
        *state = f;
        return 0;
}

static void stop_stand_in(struct fixture *f)
{
        if (f->stand_in > 0) {
                assert_int_equal(kill(f->stand_in, SIGKILL), 0);
                assert_int_equal(waitpid(f->stand_in, NULL, 0), f->stand_in);
                f->stand_in = 0;
        }
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[128];

        stop_stand_in(f);
        fake_sysfs_remove(f->root);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

/*
 * A supervisor's part of the protocol, no more: it holds the lock, and on
 * each pause signal confirms a pause recorded for UUID as held at progress
 * 131072 (or, with @final, that it cannot hold), or takes the
 * confirmation back when the pause is lifted.
 */
static void start_stand_in(struct fixture *f, bool final)
{
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                sigset_t mask;
                pid_t holder;
                int sig;

                if (supervise_lock_take(MD, &holder) < 0)
                        _exit(127);
                sigemptyset(&mask);
                sigaddset(&mask, SUPERVISE_PAUSE_SIGNAL);
                for (;;) {
                        struct supervise_held h = {
                                .pid = getpid(),
                                .progress_sectors = 131072,
                                .position_array_sectors = 393216,
                                .final_window = final,
                        };

                        if (sigwait(&mask, &sig) != 0)
                                _exit(127);
                        if (record_pause_get(UUID, &h.request) == 0)
                                (void) supervise_held_write(MD, &h);
                        else
                                supervise_held_remove(MD);
                }
        }
        f->stand_in = pid;
        for (int i = 0; i < 500; i++) {
                pid_t holder = 0;

                if (supervise_lock_holder(MD, &holder) == 1 && holder == pid)
                        return;
                usleep(10000);
        }
        fail_msg("the stand-in supervisor did not take the lock");
}

static char out[65536], err[4096];

/* Runs the built binary with --sysfs-root; its exit status. */
static int run_(struct fixture *f, const char *const *args)
{
        const char *argv[16] = { "--sysfs-root", f->root };

        for (size_t i = 0; args[i]; i++)
                argv[i + 2] = args[i];
        return fake_run_reshaped(out, sizeof(out), err, sizeof(err), argv);
}

#define assert_run(code, f, ...) \
        do { \
                int rc_ = run_((f), (const char *const[]) { __VA_ARGS__, NULL }); \
                if (rc_ != (code)) \
                        fail_msg("exited %d, not %d:\n%s%s", rc_, (code), out, err); \
        } while (0)

#define assert_contains(haystack, needle) \
        do { \
                if (!strstr((haystack), (needle))) \
                        fail_msg("output lacks \"%s\":\n%s", (needle), (haystack)); \
        } while (0)

static bool paused(void)
{
        uint64_t request;

        return record_pause_get(UUID, &request) == 0;
}

/* Parked at its checkpoint with nobody supervising: the pause holds at
 * once, survives (the record), shows in status, and resume lifts it and
 * says how to go on. */
static void test_unsupervised_parked(void **state)
{
        struct fixture *f = *state;

        assert_run(0, f, "pause", MD);
        assert_contains(out, MD " paused at 25.1%, array sector 393216: nobody supervises it");
        assert_true(paused());

        assert_run(1, f, "status", MD);
        assert_contains(out, "State:       PAUSED: nobody supervises it: the kernel stops at 25.1%");
        assert_contains(out, "Fix:         reshaped resume ");
        assert_run(1, f, "status", "--json", MD);
        assert_contains(out, "\"state\":\"paused\"");
        assert_contains(out, "\"paused\":true");

        assert_run(1, f, "resume", MD);
        assert_contains(err, "the pause is lifted, but nobody supervises it");
        assert_contains(err, "reshaped supervise ");
        assert_false(paused());
        assert_run(1, f, "status", "--json", MD);
        assert_contains(out, "\"paused\":false");
        assert_contains(out, "\"state\":\"held\"");

        assert_run(1, f, "resume", MD);
        assert_contains(err, MD " is not paused, and nobody supervises it");
}

/* sync_max=max, nobody supervising: not paused, and it says so; the
 * pause is recorded for the supervisor the message names. */
static void test_unsupervised_unprotected(void **state)
{
        struct fixture *f = *state;

        fake_sysfs_set(f->root, MD, "sync_max", "max");
        assert_run(1, f, "pause", MD);
        assert_contains(err, MD ": not paused: the reshape runs UNPROTECTED (sync_max=max");
        assert_contains(err, "reshaped supervise ");
        assert_string_equal(out, "");
        assert_true(paused());
        assert_run(1, f, "status", MD);
        assert_contains(out, "State:       UNPROTECTED: ");
        assert_contains(out, "a pause is recorded, in effect once supervision holds it");

        /* Past its checkpoint with a numeric limit: no pause either. */
        fake_sysfs_set(f->root, MD, "sync_max", "196608");
        assert_run(1, f, "pause", MD);
        assert_contains(err, MD ": not paused: nobody supervises it, and the kernel may go on to 37.6%");
}

/* A running supervisor is signalled and the command waits for its
 * confirmation, and says where it holds. */
static void test_supervised(void **state)
{
        struct fixture *f = *state;
        struct supervise_held h;

        start_stand_in(f, false);
        assert_run(0, f, "pause", "--timeout", "10", MD);
        assert_contains(out, MD " paused at 25.1%, array sector 393216 (held by reshaped pid ");
        assert_int_equal(supervise_held_read(MD, &h), 0);
        assert_int_equal(h.pid, f->stand_in);
        assert_run(0, f, "resume", "--timeout", "10", MD);
        assert_contains(out, MD " resumed; reshaped (pid ");
        assert_int_equal(supervise_held_read(MD, &h), -ENOENT);
        assert_false(paused());
        stop_stand_in(f);

        /* One that cannot hold (its last window): not paused, not recorded. */
        start_stand_in(f, true);
        assert_run(1, f, "pause", "--timeout", "10", MD);
        assert_contains(err, "not paused: the kernel is in its last window");
        assert_false(paused());
        stop_stand_in(f);

        /* One that answers no more: a timeout, said as such; its answer
         * to the pause before is not taken for one to this one. */
        start_stand_in(f, false);
        assert_run(0, f, "pause", "--timeout", "10", MD);
        assert_int_equal(kill(f->stand_in, SIGSTOP), 0);
        assert_run(1, f, "pause", "--timeout", "1", MD);
        assert_contains(err, "has not confirmed the hold in 1 s");
        assert_int_equal(kill(f->stand_in, SIGCONT), 0);
}

static void test_bad_names_and_no_reshape(void **state)
{
        struct fixture *f = *state;

        assert_run(2, f, "pause", "sda");
        assert_contains(err, "sda: not an md array; give an md array such as /dev/md0");
        assert_run(2, f, "resume", "md9");
        assert_contains(err, "md9: not an md array");
        assert_run(2, f, "pause");
        assert_contains(err, "pause needs exactly one DEVICE");
        assert_run(2, f, "pause", "--timeout", "soon", MD);
        assert_run(2, f, "resume", "--bogus", MD);

        fake_sysfs_set(f->root, MD, "sync_action", "idle");
        fake_sysfs_set(f->root, MD, "reshape_position", "none");
        assert_run(3, f, "pause", MD);
        assert_contains(err, MD ": no reshape in progress");
        assert_run(3, f, "resume", MD);
        assert_false(paused());

        fake_sysfs_set(f->root, MD, "array_state", "inactive");
        assert_run(3, f, "pause", MD);
        assert_contains(err, "is assembled but not running");

        assert_run(0, f, "help", "pause");
        assert_contains(out, "Usage: reshaped pause [--timeout SECONDS] DEVICE");
        assert_run(0, f, "help", "resume");
        assert_contains(out, "Usage: reshaped resume [--timeout SECONDS] DEVICE");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_unsupervised_parked, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unsupervised_unprotected, setup, teardown),
                cmocka_unit_test_setup_teardown(test_supervised, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_names_and_no_reshape, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
