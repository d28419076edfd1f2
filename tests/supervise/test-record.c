// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The state directory's records: the backup path links and the
 * generation token (written, read back, raised; damage of every kind
 * refused; a missing one reported as missing; removed with the record).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "reshaped/supervise/record.h"

#define UUID_A "11223344:55667788:99aabbcc:ddeef001"
#define UUID_B "a1b2c3d4:e5f60718:293a4b5c:6d7e8f90"

static char dir[64];

static int setup(void **state)
{
        snprintf(dir, sizeof(dir), "/tmp/reshaped-record-XXXXXX");
        assert_non_null(mkdtemp(dir));
        setenv("RESHAPED_STATE_DIR", dir, 1);
        return 0;
}

static int teardown(void **state)
{
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static const char *token_file(const char *uuid)
{
        static char path[256];

        assert_int_equal(record_token_path(uuid, path, sizeof(path)), 0);
        return path;
}

static void write_token(const char *uuid, uint64_t generation)
{
        struct record_token *t = NULL;

        assert_int_equal(record_token_open(uuid, &t), 0);
        assert_int_equal(record_token_write(t, generation), 0);
        record_token_close(t);
}

static uint64_t read_token(const char *uuid)
{
        uint64_t g = 0;

        assert_int_equal(record_token_read(uuid, &g), 0);
        return g;
}

/* Written in place, each write replacing the last; one per array. */
static void test_token_roundtrip(void **state)
{
        struct record_token *t = NULL;
        struct stat st;

        assert_int_equal(record_token_open(UUID_A, &t), 0);
        assert_int_equal(record_token_write(t, 2), 0);
        assert_int_equal(read_token(UUID_A), 2);
        assert_int_equal(record_token_write(t, 3), 0);
        assert_int_equal(record_token_write(t, 0x123456789abcull), 0);
        assert_int_equal(read_token(UUID_A), 0x123456789abcull);
        record_token_close(t);
        assert_int_equal(stat(token_file(UUID_A), &st), 0);
        assert_int_equal(st.st_size, 64);

        write_token(UUID_B, 7);
        assert_int_equal(read_token(UUID_B), 7);
        assert_int_equal(read_token(UUID_A), 0x123456789abcull);
        /* Opening again keeps what is there until the next write. */
        assert_int_equal(record_token_open(UUID_A, &t), 0);
        assert_int_equal(read_token(UUID_A), 0x123456789abcull);
        record_token_close(t);
}

/* No token (a record of an older version, a reshape mdadm monitored), or
 * one created and never written (a crash right after the open): none. */
static void test_token_missing(void **state)
{
        struct record_token *t = NULL;
        uint64_t g = 99;

        assert_int_equal(record_token_read(UUID_A, &g), -ENOENT);
        assert_int_equal(g, 99);
        assert_int_equal(record_token_open(UUID_A, &t), 0);
        assert_int_equal(record_token_read(UUID_A, &g), -ENOENT);
        record_token_close(t);
}

static void poke(const char *path, off_t off, uint8_t xor_mask)
{
        uint8_t b;
        int fd = open(path, O_RDWR);

        assert_true(fd >= 0);
        assert_int_equal(pread(fd, &b, 1, off), 1);
        b ^= xor_mask;
        assert_int_equal(pwrite(fd, &b, 1, off), 1);
        close(fd);
}

/* Any flipped bit, a wrong size, or the token of another array under
 * this one's name: -EBADMSG, never a generation. */
static void test_token_corrupt(void **state)
{
        uint64_t g = 99;
        char other[256];

        for (off_t off = 0; off < 64; off++) {
                write_token(UUID_A, 41);
                poke(token_file(UUID_A), off, (uint8_t) (1u << (off % 8)));
                assert_int_equal(record_token_read(UUID_A, &g), -EBADMSG);
                assert_int_equal(g, 99);
        }

        write_token(UUID_A, 41);
        assert_int_equal(truncate(token_file(UUID_A), 63), 0);
        assert_int_equal(record_token_read(UUID_A, &g), -EBADMSG);
        write_token(UUID_A, 41);
        assert_int_equal(truncate(token_file(UUID_A), 65), 0);
        assert_int_equal(record_token_read(UUID_A, &g), -EBADMSG);

        write_token(UUID_B, 41);
        snprintf(other, sizeof(other), "%s", token_file(UUID_B));
        assert_int_equal(rename(other, token_file(UUID_A)), 0);
        assert_int_equal(record_token_read(UUID_A, &g), -EBADMSG);
        assert_int_equal(g, 99);
}

/* The record goes with its token; the token of another array stays. */
static void test_remove(void **state)
{
        char *path = NULL;
        uint64_t g;

        assert_int_equal(record_save(UUID_A, "md0", "/srv/md0.backup"), 0);
        write_token(UUID_A, 5);
        write_token(UUID_B, 6);
        assert_int_equal(record_lookup("md0", &path), 0);
        assert_string_equal(path, "/srv/md0.backup");
        free(path);
        assert_int_equal(record_remove(UUID_A, "md0"), 0);
        assert_int_equal(record_lookup("md0", &path), -ENOENT);
        assert_int_equal(record_lookup(UUID_A, &path), -ENOENT);
        assert_int_equal(record_token_read(UUID_A, &g), -ENOENT);
        assert_int_equal(read_token(UUID_B), 6);
        /* Nothing left to remove is no error. */
        assert_int_equal(record_remove(UUID_A, "md0"), 0);
}

/* The pause: recorded, read back, replaced by a newer request, lifted;
 * lifting twice is no error. */
static void test_pause_roundtrip(void **state)
{
        uint64_t request = 0;

        assert_int_equal(record_pause_get(UUID_A, &request), -ENOENT);
        assert_int_equal(record_pause_set(UUID_A, 42), 0);
        assert_int_equal(record_pause_get(UUID_A, &request), 0);
        assert_int_equal(request, 42);
        assert_int_equal(record_pause_get(UUID_B, &request), -ENOENT);
        assert_int_equal(record_pause_set(UUID_A, 0xfedcba9876543210ull), 0);
        assert_int_equal(record_pause_get(UUID_A, &request), 0);
        assert_true(request == 0xfedcba9876543210ull);
        assert_int_equal(record_pause_clear(UUID_A), 0);
        assert_int_equal(record_pause_get(UUID_A, &request), -ENOENT);
        assert_int_equal(record_pause_clear(UUID_A), 0);
}

/* A record of an older version (links and token, no pause file) is not
 * paused; removing a paused record lifts the pause with it. */
static void test_pause_old_record_and_remove(void **state)
{
        uint64_t request = 0;

        assert_int_equal(record_save(UUID_A, "md5", "/backup/a"), 0);
        write_token(UUID_A, 9);
        assert_int_equal(record_pause_get(UUID_A, &request), -ENOENT);
        assert_int_equal(record_pause_set(UUID_A, 7), 0);
        assert_int_equal(record_remove(UUID_A, "md5"), 0);
        assert_int_equal(record_pause_get(UUID_A, &request), -ENOENT);
}

/* A damaged pause file is reported as such (callers hold: paused). */
static void test_pause_damaged(void **state)
{
        static const char *const bad[] = {
                "", "reshaped-pause-1\n", "reshaped-pause-1 \n", "reshaped-pause-1 12x\n",
                "reshaped-pause-2 12\n", "reshaped-pause-1 12", "reshaped-pause-1 99999999999999999999\n",
        };
        char path[256];
        uint64_t request = 0;

        assert_int_equal(record_pause_path(UUID_A, path, sizeof(path)), 0);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

                assert_true(fd >= 0);
                assert_int_equal(write(fd, bad[i], strlen(bad[i])), (ssize_t) strlen(bad[i]));
                close(fd);
                if (record_pause_get(UUID_A, &request) != -EBADMSG)
                        fail_msg("\"%s\" was not refused", bad[i]);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_token_roundtrip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_token_missing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_token_corrupt, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pause_roundtrip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pause_old_record_and_remove, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pause_damaged, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
