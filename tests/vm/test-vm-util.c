// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VM helpers' shared code: what probe and contract-watch take for a
 * number in a sysfs attribute, how an attribute is read, where mdstat
 * shows a reshape, and the words the
 * data patterns are made of (a change there would fail every image made
 * before it).
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
#include <unistd.h>

#include <cmocka.h>

#include "helpers/vm-util.h"

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static void test_parse_u64(void **state)
{
        static const struct {
                const char *s;
                int r;
                uint64_t v;
        } t[] = {
                { "0", 0, 0 },
                { "261120", 0, 261120 },
                { "18446744073709551615", 0, UINT64_MAX },
                { "18446744073709551616", -ERANGE, 0 },
                { "max", -EINVAL, 0 },
                { "none", -EINVAL, 0 },
                { "", -EINVAL, 0 },
                { "-1", -EINVAL, 0 },
                { "+1", -EINVAL, 0 },
                { " 1", -EINVAL, 0 },
                { "1 ", -EINVAL, 0 },
                { "1\n", -EINVAL, 0 },
                { "0x10", -EINVAL, 0 },
                { "12 / 100", -EINVAL, 0 },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                uint64_t v = 7;

                assert_int_equal(vm_parse_u64(t[i].s, &v), t[i].r);
                assert_int_equal(v, t[i].r == 0 ? t[i].v : 7);
        }
}

/* sync_completed's "A / B" and raid_disks' "NEW (OLD)" are read a number
 * at a time. */
static void test_parse_leading_u64(void **state)
{
        const char *end = NULL;
        uint64_t v = 0;

        (void) state;
        assert_int_equal(vm_parse_leading_u64("1024 / 261120", &v, &end), 0);
        assert_int_equal(v, 1024);
        assert_string_equal(end, " / 261120");
        assert_int_equal(vm_parse_leading_u64("5 (4)", &v, &end), 0);
        assert_int_equal(v, 5);
        assert_string_equal(end, " (4)");
        assert_int_equal(vm_parse_leading_u64("none", &v, &end), -EINVAL);
        assert_int_equal(vm_parse_leading_u64("delayed", &v, &end), -EINVAL);
        assert_int_equal(vm_parse_leading_u64("99999999999999999999 / 1", &v, &end), -ERANGE);
}

static void test_little_endian(void **state)
{
        static const unsigned char bytes[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x88 };
        unsigned char out[8];

        (void) state;
        assert_int_equal(vm_le64(bytes), UINT64_C(0x8807060504030201));
        assert_int_equal(vm_le32(bytes + 4), UINT32_C(0x88070605));
        vm_store_le64(out, UINT64_C(0x8807060504030201));
        assert_memory_equal(out, bytes, sizeof(bytes));
}

/* The first two outputs of splitmix64 seeded with 0, as published with
 * the generator: vm-pattern and vm-fswriter images depend on them. */
static void test_splitmix64(void **state)
{
        (void) state;
        assert_int_equal(vm_splitmix64(0), 0);
        assert_int_equal(vm_splitmix64(UINT64_C(0x9e3779b97f4a7c15)), UINT64_C(0xe220a8397b1dcdaf));
        assert_int_equal(vm_splitmix64(UINT64_C(0x3c6ef372fe94f82a)), UINT64_C(0x6e789e6aa1b965f4));
}

static int temp_file(const char *content)
{
        char path[] = "/tmp/test-vm-util.XXXXXX";
        size_t len = strlen(content);
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(write(fd, content, len), (ssize_t) len);
        return fd;
}

static void test_pread_attr(void **state)
{
        static const struct {
                const char *content;
                size_t size;
                const char *want;
        } t[] = {
                { "reshape\n", 128, "reshape" },
                { "1024 / 261120\n", 128, "1024 / 261120" },
                { "max", 128, "max" },
                { "\n", 128, "" },
                { "", 128, "" },
                { "forwards\n", 5, "forw" },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                char buf[128];
                int fd = temp_file(t[i].content);

                /* The file offset is at the end: the attribute is read from
                 * its start all the same, as poll() on sysfs needs. */
                memset(buf, 'x', sizeof(buf));
                assert_int_equal(vm_pread_attr(fd, buf, t[i].size), 0);
                assert_string_equal(buf, t[i].want);
                assert_int_equal(close(fd), 0);
        }
        assert_int_equal(vm_pread_attr(-1, (char[8]) {}, 8), -EBADF);
}

static void test_md_attr_path(void **state)
{
        char path[VM_ATTR_PATH_BYTES], name[VM_ATTR_PATH_BYTES + 1], buf[16] = "untouched";

        (void) state;
        assert_int_equal(vm_md_attr_path("md0", "sync_max", path, sizeof(path)), 0);
        assert_string_equal(path, "/sys/block/md0/md/sync_max");
        assert_int_equal(vm_md_attr_path("md0", "sync_max", path, 26), -ENAMETOOLONG);
        assert_int_equal(vm_md_attr_path("md0", "sync_max", path, 27), 0);

        /* Errors leave errno set for callers that print %m. */
        memset(name, 'a', sizeof(name) - 1);
        name[sizeof(name) - 1] = '\0';
        errno = 0;
        assert_int_equal(vm_read_md_attr(name, "level", buf, sizeof(buf)), -ENAMETOOLONG);
        assert_int_equal(errno, ENAMETOOLONG);
        errno = 0;
        assert_int_equal(vm_read_md_attr("md-test-vm-util-none", "level", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(errno, ENOENT);
        assert_string_equal(buf, "untouched");
}

/* /proc/mdstat as Linux 6.1 prints it (md.c md_seq_show, status_resync). */
static const char mdstat[] =
        "Personalities : [raid6] [raid5] [raid4] \n"
        "md10 : active raid5 vdh[2] vdg[1] vdf[0]\n"
        "      81788928 blocks super 1.2 level 5, 64k chunk, algorithm 2 [3/3] [UUU]\n"
        "      [==>..................]  reshape = 12.5% (5120/40894) finish=0.2min speed=2560K/sec\n"
        "      \n"
        "md1 : active raid6 vde[3] vdd[2] vdc[1] vdb[0]\n"
        "      81788928 blocks super 1.2 level 6, 64k chunk, algorithm 2 [4/4] [UUUU]\n"
        "      [>....................]  resync =  3.1% (1280/40894) finish=0.5min speed=1280K/sec\n"
        "      \n"
        "md0 : active raid5 vdd[3] vdc[2] vdb[1] vda[0]\n"
        "      122683392 blocks super 1.2 level 5, 64k chunk, algorithm 2 [4/4] [UUUU]\n"
        "      [>....................]  reshape =  0.0% (1/40894) finish=0.5min speed=0K/sec\n"
        "      \n"
        "md2 : active raid5 vdk[2] vdj[1] vdi[0]\n"
        "      81788928 blocks super 1.2 level 5, 64k chunk, algorithm 2 [3/3] [UUU]\n"
        "      bitmap: 1/1 pages [4KB], 65536KB chunk\n"
        "\n"
        "md4 : active raid5 vdn[2] vdm[1] vdl[0]\n"
        "      81788928 blocks super 1.2 level 5, 64k chunk, algorithm 2 [3/3] [UUU]\n"
        "      [====>................]  reshape = 25.0% (10240/40894) finish=0.2min speed=2560K/sec\n"
        "      bitmap: 1/1 pages [4KB], 65536KB chunk\n"
        "\n"
        "unused devices: <none>\n";

static void test_mdstat_reshape_kib(void **state)
{
        static const struct {
                const char *md;
                int r;
                uint64_t kib;
        } t[] = {
                { "md10", 1, 5120 },
                { "md1", 0, 0 },        /* a resync; md0's reshape is not md1's */
                { "md0", 1, 1 },        /* md's MD_RESYNC_ACTIVE: the caller's to judge */
                { "md2", 0, 0 },        /* with a bitmap; md4's reshape is not md2's */
                { "md4", 1, 10240 },
                { "md3", 0, 0 },
                { "md", 0, 0 },
        };
        char path[] = "/tmp/test-vm-util-mdstat.XXXXXX";
        int fd = mkstemp(path);

        (void) state;
        assert_true(fd >= 0);
        assert_int_equal(write(fd, mdstat, sizeof(mdstat) - 1), (ssize_t) sizeof(mdstat) - 1);
        assert_int_equal(close(fd), 0);
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                uint64_t kib = 7;

                assert_int_equal(vm_mdstat_reshape_kib(path, t[i].md, &kib), t[i].r);
                assert_int_equal(kib, t[i].r == 1 ? t[i].kib : 7);
        }
        assert_int_equal(unlink(path), 0);
        assert_int_equal(vm_mdstat_reshape_kib(path, "md0", (uint64_t[1]) {}), -ENOENT);
}

static void test_full_io(void **state)
{
        unsigned char out[10000], in[sizeof(out)];
        int fd = temp_file("");
        int ro;

        (void) state;
        for (size_t i = 0; i < sizeof(out); i++)
                out[i] = (unsigned char) (i * 7);
        assert_int_equal(vm_pwrite_full(fd, out, sizeof(out), 4096), 0);
        assert_int_equal(vm_pread_full(fd, in, sizeof(in), 4096), 0);
        assert_memory_equal(in, out, sizeof(out));
        /* The file ends 1 byte short of this read. */
        assert_int_equal(vm_pread_full(fd, in, sizeof(in), 4097), -ENODATA);
        assert_int_equal(vm_pread_full(fd, in, 0, 1 << 20), 0);

        ro = open("/dev/null", O_RDONLY | O_CLOEXEC);
        assert_true(ro >= 0);
        assert_int_equal(vm_pwrite_full(ro, out, sizeof(out), 0), -EBADF);
        assert_int_equal(close(ro), 0);
        assert_int_equal(close(fd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_u64),
                cmocka_unit_test(test_parse_leading_u64),
                cmocka_unit_test(test_little_endian),
                cmocka_unit_test(test_splitmix64),
                cmocka_unit_test(test_pread_attr),
                cmocka_unit_test(test_md_attr_path),
                cmocka_unit_test(test_mdstat_reshape_kib),
                cmocka_unit_test(test_full_io),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
