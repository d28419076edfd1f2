// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What start and supervise share: their -b/-w options and opening the
 * array under its supervise lock, which a second opener is refused.
 */
#include <errno.h>
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "reshaped/cli/cmd-supervised.h"
#include "fake-sysfs.h"

static char run_dir[] = "/tmp/test-cmd-supervised.XXXXXX";

static const struct option options[] = {
        CMD_SUPERVISOR_LONG_OPTIONS,
        { "chunk", required_argument, NULL, 'c' },
        {}
};

/* Runs cmd_supervisor_getopt() over args, noting what it returns. */
static void getopt_all(char **args, struct supervisor_options *o, char *ret, size_t size)
{
        int argc = 0, opt;
        size_t n = 0;

        while (args[argc])
                argc++;
        optind = 0;  /* GNU getopt: start afresh */
        opterr = 0;
        while ((opt = cmd_supervisor_getopt(argc, args, CMD_SUPERVISOR_SHORT_OPTIONS "c:", options, o)) != -1) {
                assert_true(n + 1 < size);
                ret[n++] = (char) opt;
        }
        ret[n] = '\0';
}

static void test_options(void **state)
{
        char *good[] = { "start", "-b", "/backup/md0.bak", "--max-window", "256M", "-c", "128K", "md0", NULL };
        char *bad[] = { "start", "-c", "64K", "-w", "4K", "--backup-file=/b", NULL };
        struct supervisor_options o, defaults;
        char seen[8];

        (void) state;
        supervisor_options_init(&defaults);
        supervisor_options_init(&o);
        assert_true(o.section_max_bytes != 256u << 20);
        /* The shared options are applied, the command sees only its own. */
        getopt_all(good, &o, seen, sizeof(seen));
        assert_string_equal(seen, "c");
        assert_string_equal(o.backup_path, "/backup/md0.bak");
        assert_int_equal(o.section_max_bytes, 256u << 20);
        assert_int_equal(optind, 7);

        /* Below the smallest window: a usage error, the last good value kept. */
        supervisor_options_init(&o);
        getopt_all(bad, &o, seen, sizeof(seen));
        assert_string_equal(seen, "c?");
        assert_int_equal(o.section_max_bytes, defaults.section_max_bytes);
        assert_string_equal(o.backup_path, "/b");
}

static void test_open_locked(void **state)
{
        struct fake_array a = { .name = "md0", .devnum = "9:0" };
        char *root = fake_sysfs_create(&a);
        struct md *md = NULL, *md2 = NULL;
        int lock = -1, lock2 = -1;

        (void) state;
        assert_non_null(mkdtemp(run_dir));
        assert_int_equal(setenv("RESHAPED_RUN_DIR", run_dir, 1), 0);
        assert_int_equal(md_set_sysfs_root(root), 0);

        assert_int_equal(cmd_open_locked("/dev/md0", &md, &lock), 0);
        assert_non_null(md);
        assert_true(lock >= 0);
        assert_string_equal(md_name(md), "md0");

        /* A second opener is refused and keeps nothing open. */
        assert_int_equal(cmd_open_locked("md0", &md2, &lock2), -EBUSY);
        assert_null(md2);
        assert_int_equal(lock2, -1);
        /* No such array: refused before any lock. */
        assert_true(cmd_open_locked("md9", &md2, &lock2) < 0);
        assert_null(md2);

        md_close(md);
        close(lock);
        /* Released with the fd: the next opener gets it. */
        assert_int_equal(cmd_open_locked("md0", &md2, &lock2), 0);
        md_close(md2);
        close(lock2);

        assert_int_equal(md_set_sysfs_root(NULL), 0);
        fake_sysfs_remove(root);
        {
                char lock_path[sizeof(run_dir) + 16];

                snprintf(lock_path, sizeof(lock_path), "%s/md0.lock", run_dir);
                assert_int_equal(unlink(lock_path), 0);
                assert_int_equal(rmdir(run_dir), 0);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_options),
                cmocka_unit_test(test_open_locked),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
