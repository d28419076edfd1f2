// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One supervisor per array: the lock under RESHAPED_RUN_DIR refuses a
 * second holder with its pid, and a holder that dies, by _exit() or by
 * SIGKILL without closing anything, leaves nothing that blocks the next.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "reshaped/supervise/supervise-lock.h"

static char dir[] = "/tmp/test-supervise-lock.XXXXXX";

static int setup(void **state)
{
        char run[sizeof(dir) + 8];

        (void) state;
        if (!mkdtemp(dir))
                return -1;
        /* A directory the lock module must create itself. */
        snprintf(run, sizeof(run), "%s/run", dir);
        return setenv("RESHAPED_RUN_DIR", run, 1);
}

static int teardown(void **state)
{
        char cmd[sizeof(dir) + 16];

        (void) state;
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static pid_t pid_in_file(const char *md_name)
{
        char path[256], buf[32] = "";
        FILE *f;

        snprintf(path, sizeof(path), "%s/run/%s.lock", dir, md_name);
        f = fopen(path, "re");
        assert_non_null(f);
        assert_non_null(fgets(buf, sizeof(buf), f));
        fclose(f);
        return (pid_t) atoi(buf);
}

/* A child that takes the lock of @md_name, says so on a pipe and waits
 * to be killed. */
static pid_t child_holding(const char *md_name)
{
        int p[2];
        pid_t child;
        char c;

        assert_int_equal(pipe(p), 0);
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                pid_t h;

                close(p[0]);
                if (supervise_lock_take(md_name, &h) < 0)
                        _exit(1);
                if (write(p[1], "x", 1) != 1)
                        _exit(1);
                for (;;)
                        pause();
        }
        close(p[1]);
        assert_int_equal(read(p[0], &c, 1), 1);
        close(p[0]);
        return child;
}

static void test_take_writes_pid_cloexec(void **state)
{
        pid_t holder = -1;
        int fd;

        (void) state;
        fd = supervise_lock_take("md0", &holder);
        assert_true(fd >= 0);
        assert_int_equal(holder, 0);
        assert_int_equal(pid_in_file("md0"), getpid());
        /* A child exec'ed by the holder must not keep the lock alive. */
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        close(fd);
}

static void test_second_refused_with_pid_then_after_sigkill(void **state)
{
        pid_t child, holder = -1;
        int fd, status;

        (void) state;
        child = child_holding("md0");
        assert_int_equal(supervise_lock_take("md0", &holder), -EBUSY);
        assert_int_equal(holder, child);
        /* Another array is another lock. */
        fd = supervise_lock_take("md1", &holder);
        assert_true(fd >= 0);
        close(fd);

        assert_int_equal(kill(child, SIGKILL), 0);
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFSIGNALED(status));
        /* Its file, with its pid, is still there: stale, and no obstacle. */
        assert_int_equal(pid_in_file("md0"), child);
        fd = supervise_lock_take("md0", &holder);
        assert_true(fd >= 0);
        assert_int_equal(pid_in_file("md0"), getpid());
        close(fd);
}

static void test_after_exit(void **state)
{
        pid_t child, holder = -1;
        int fd, status;

        (void) state;
        child = fork();
        assert_true(child >= 0);
        if (child == 0)
                _exit(supervise_lock_take("md2", &holder) >= 0 ? 0 : 1);
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(pid_in_file("md2"), child);
        fd = supervise_lock_take("md2", &holder);
        assert_true(fd >= 0);
        assert_int_equal(pid_in_file("md2"), getpid());
        close(fd);
}

/* The same process asking twice is refused too (flock locks belong to an
 * open file): a command must take it once, never again below. */
static void test_same_process_twice(void **state)
{
        pid_t holder = -1;
        int fd;

        (void) state;
        fd = supervise_lock_take("md3", &holder);
        assert_true(fd >= 0);
        assert_int_equal(supervise_lock_take("md3", &holder), -EBUSY);
        assert_int_equal(holder, getpid());
        close(fd);
}

/* supervise_lock_holder() tells who holds a lock without disturbing it,
 * and a pause signal sent to a holder that is not listening yet (the
 * supervisor sets up its signalfd later) stays pending instead of
 * killing it. */
static void test_holder_and_pause_signal(void **state)
{
        pid_t child, pid = -1;
        sigset_t pending;
        int fd, status;

        (void) state;
        assert_int_equal(supervise_lock_holder("md4", &pid), 0);
        child = child_holding("md4");
        assert_int_equal(supervise_lock_holder("md4", &pid), 1);
        assert_int_equal(pid, child);
        assert_int_equal(kill(child, SUPERVISE_PAUSE_SIGNAL), 0);
        usleep(100000);
        assert_int_equal(waitpid(child, &status, WNOHANG), 0);
        assert_int_equal(kill(child, SIGKILL), 0);
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        assert_int_equal(supervise_lock_holder("md4", &pid), 0);

        fd = supervise_lock_take("md4", &pid);
        assert_true(fd >= 0);
        assert_int_equal(raise(SUPERVISE_PAUSE_SIGNAL), 0);
        assert_int_equal(sigpending(&pending), 0);
        assert_true(sigismember(&pending, SUPERVISE_PAUSE_SIGNAL));
        close(fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_take_writes_pid_cloexec),
                cmocka_unit_test(test_second_refused_with_pid_then_after_sigkill),
                cmocka_unit_test(test_after_exit),
                cmocka_unit_test(test_same_process_twice),
                cmocka_unit_test(test_holder_and_pause_signal),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
