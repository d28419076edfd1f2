// SPDX-License-Identifier: GPL-2.0-or-later
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
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake-sysfs.h"
#include "reshaped/md/md.h"

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static const struct fake_member members4[] = {
        { "sdd", "spare", "none", "8:48" },
        { "sdb", "in_sync", "1", "8:16" },
        { "sda", "in_sync", "0", "8:0" },
        { "sdc", "in_sync,write_mostly", "2", "8:32" },
};

/* A raid5 3 -> 4 disk grow, chunk 64K -> 128K, 0.90 metadata, mid-way. */
static const struct fake_attr reshaping[] = {
        { "raid_disks", "4 (3)" },
        { "chunk_size", "131072 (65536)" },
        { "layout", "2" },
        { "metadata_version", "0.91" },
        { "array_state", "active" },
        { "sync_action", "reshape" },
        { "sync_completed", "131072 / 522240" },
        { "sync_max", "262144" },
        { "sync_min", "0" },
        { "sync_speed_min", "50000 (local)" },
        { "reshape_position", "262144" },
        { "suspend_lo", "262144" },
        { "suspend_hi", "393216" },
        {}
};

static char *make_tree(const struct fake_attr *attrs)
{
        struct fake_array a = {
                .name = "md0",
                .devnum = "9:0",
                .dev_md_name = "data",
                .attrs = attrs,
                .members = members4,
                .n_members = ELEMENTSOF(members4),
        };
        char *root = fake_sysfs_create(&a);

        assert_int_equal(md_set_sysfs_root(root), 0);
        return root;
}

static int setup_reshaping(void **state)
{
        *state = make_tree(reshaping);
        return 0;
}

static int setup_idle(void **state)
{
        *state = make_tree(NULL);
        return 0;
}

static int teardown(void **state)
{
        assert_int_equal(md_set_sysfs_root(NULL), 0);
        fake_sysfs_remove(*state);
        return 0;
}

static struct md *open_md0(void)
{
        struct md *md = NULL;

        assert_int_equal(md_open("md0", &md), 0);
        assert_non_null(md);
        return md;
}

/* Runs the md call in between with stderr going to a file and returns
 * what it logged. */
static int saved_stderr = -1;
static FILE *capture_file;

static void capture_start(void)
{
        fflush(stderr);
        capture_file = tmpfile();
        assert_non_null(capture_file);
        saved_stderr = dup(STDERR_FILENO);
        assert_true(saved_stderr >= 0);
        assert_true(dup2(fileno(capture_file), STDERR_FILENO) >= 0);
}

static char *capture_end(void)
{
        static char buf[4096];
        size_t n;

        fflush(stderr);
        assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
        close(saved_stderr);
        rewind(capture_file);
        n = fread(buf, 1, sizeof(buf) - 1, capture_file);
        buf[n] = '\0';
        fclose(capture_file);
        return buf;
}

static void test_open_name_forms(void **state)
{
        const char *root = *state;
        static const char *const specs[] = { "md0", "/dev/md0", "/dev/md/data" };
        char *devnode = fake_sysfs_path(root, "dev/md0");

        for (size_t i = 0; i < ELEMENTSOF(specs); i++) {
                struct md *md = NULL;

                assert_int_equal(md_open(specs[i], &md), 0);
                assert_string_equal(md_name(md), "md0");
                assert_string_equal(md_devnode(md), devnode);
                assert_int_equal(major(md_devnum(md)), 9);
                assert_int_equal(minor(md_devnum(md)), 0);
                assert_null(md_close(md));
        }
        free(devnode);
}

static void test_open_errors(void **state)
{
        struct md *md = NULL;
        const char *log;

        capture_start();
        assert_int_equal(md_open("md9", &md), -ENOENT);
        log = capture_end();
        assert_non_null(strstr(log, "md9"));
        assert_non_null(strstr(log, "not an md array"));

        capture_start();
        assert_int_equal(md_open("/dev/md/nosuch", &md), -ENOENT);
        log = capture_end();
        assert_non_null(strstr(log, "/dev/md/nosuch"));

        capture_start();
        assert_int_equal(md_open("/tmp/md0", &md), -ENODEV);
        log = capture_end();
        assert_non_null(strstr(log, "give mdX, /dev/mdX or /dev/md/NAME"));
        assert_null(md);
}

static void test_root_from_environment(void **state)
{
        const char *root = *state;
        struct md *md = NULL;

        assert_int_equal(md_set_sysfs_root(NULL), 0);
        assert_int_equal(setenv("RESHAPED_SYSFS_ROOT", root, 1), 0);
        assert_string_equal(md_get_sysfs_root(), root);
        assert_int_equal(md_open("/dev/md0", &md), 0);
        md = md_close(md);

        /* The option wins over the environment. */
        assert_int_equal(md_set_sysfs_root("/nonexistent-reshaped-root"), 0);
        assert_string_equal(md_get_sysfs_root(), "/nonexistent-reshaped-root");
        capture_start();
        assert_int_equal(md_open("md0", &md), -ENOENT);
        assert_non_null(strstr(capture_end(), "Cannot use sysfs root /nonexistent-reshaped-root"));

        assert_int_equal(unsetenv("RESHAPED_SYSFS_ROOT"), 0);
        assert_int_equal(md_set_sysfs_root(NULL), 0);
        assert_string_equal(md_get_sysfs_root(), "/sys");
        assert_int_equal(md_set_sysfs_root(root), 0);
}

/* With the real /sys (no md needed): libudev resolution refuses what is
 * not an md block device. */
static void test_real_root_errors(void **state)
{
        struct md *md = NULL;

        assert_int_equal(md_set_sysfs_root(NULL), 0);
        assert_string_equal(md_get_sysfs_root(), "/sys");

        capture_start();
        assert_int_equal(md_open("/dev/null", &md), -ENOTBLK);
        assert_non_null(strstr(capture_end(), "/dev/null is not a block device"));

        capture_start();
        assert_int_equal(md_open("md_reshaped_no_such_array", &md), -ENODEV);
        assert_non_null(strstr(capture_end(), "No block device named md_reshaped_no_such_array"));

        capture_start();
        assert_int_equal(md_open("/dev/md/reshaped-no-such-array", &md), -ENODEV);
        assert_non_null(strstr(capture_end(), "No md array is named /dev/md/reshaped-no-such-array"));
        assert_null(md);
}

static void test_read_typed(void **state)
{
        struct md *md = open_md0();
        struct md_sync_completed sc;
        struct md_geometry g;
        struct md_sync_speed sp;
        enum md_sync_action action;
        enum md_array_state st;
        uint64_t v, lo, hi;
        unsigned degraded;

        assert_int_equal(md_get_sync_action(md, &action), 0);
        assert_int_equal(action, MD_SYNC_ACTION_RESHAPE);
        assert_int_equal(md_get_sync_completed(md, &sc), 0);
        assert_int_equal(sc.state, MD_SYNC_COMPLETED_RUNNING);
        assert_int_equal(sc.completed_dev_sectors, 131072);
        assert_int_equal(sc.total_dev_sectors, 522240);
        assert_int_equal(md_get_reshape_position(md, &v), 0);
        assert_int_equal(v, 262144);
        assert_int_equal(md_get_sync_max(md, &v), 0);
        assert_int_equal(v, 262144);
        assert_int_equal(md_get_sync_min(md, &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(md_get_suspend(md, &lo, &hi), 0);
        assert_int_equal(lo, 262144);
        assert_int_equal(hi, 393216);
        assert_int_equal(md_get_array_state(md, &st), 0);
        assert_int_equal(st, MD_ARRAY_ACTIVE);
        assert_int_equal(md_get_degraded(md, &degraded), 0);
        assert_int_equal(degraded, 0);
        assert_int_equal(md_get_sync_speed_min(md, &sp), 0);
        assert_int_equal(sp.kib_per_sec, 50000);
        assert_true(sp.local);
        assert_int_equal(md_get_sync_speed_max(md, &sp), 0);
        assert_int_equal(sp.kib_per_sec, 200000);
        assert_false(sp.local);

        assert_int_equal(md_get_geometry(md, &g), 0);
        assert_int_equal(g.level, 5);
        assert_int_equal(g.raid_disks_new, 4);
        assert_int_equal(g.raid_disks_old, 3);
        assert_int_equal(g.chunk_bytes_new, 131072);
        assert_int_equal(g.chunk_bytes_old, 65536);
        assert_int_equal(g.layout_new, 2);
        assert_int_equal(g.layout_old, 2);
        assert_int_equal(g.component_kib, 261120);
        assert_int_equal(g.direction, MD_RESHAPE_DIRECTION_FORWARDS);
        assert_int_equal(g.metadata.kind, MD_METADATA_NATIVE);
        assert_int_equal(g.metadata.major, 0);
        assert_int_equal(g.metadata.minor, 91);
        md_close(md);
}

static void test_idle_values(void **state)
{
        struct md *md = open_md0();
        struct md_sync_completed sc;
        uint64_t v;

        assert_int_equal(md_get_sync_completed(md, &sc), 0);
        assert_int_equal(sc.state, MD_SYNC_COMPLETED_NONE);
        assert_int_equal(md_get_reshape_position(md, &v), 0);
        assert_true(v == MD_RESHAPE_POSITION_NONE);
        assert_int_equal(md_get_sync_max(md, &v), 0);
        assert_true(v == MD_SYNC_MAX_UNLIMITED);

        fake_sysfs_set(*state, "md0", "sync_completed", "delayed");
        assert_int_equal(md_get_sync_completed(md, &sc), 0);
        assert_int_equal(sc.state, MD_SYNC_COMPLETED_DELAYED);
        md_close(md);
}

/* raid5.c run()'s min_offset_diff: the smallest move in the reshape's
 * direction over the members in a slot; spares and a faulty slot-less
 * member do not count. */
static void test_geometry_offset_diff(void **state)
{
        struct md *md = open_md0();
        struct md_geometry g;

        assert_int_equal(md_get_geometry(md, &g), 0);
        assert_int_equal(g.offset_diff_dev_sectors, 0);

        fake_sysfs_set(*state, "md0", "dev-sda/offset", "2048");
        fake_sysfs_set(*state, "md0", "dev-sda/new_offset", "1280");
        fake_sysfs_set(*state, "md0", "dev-sdb/offset", "2048");
        fake_sysfs_set(*state, "md0", "dev-sdb/new_offset", "1536");
        fake_sysfs_set(*state, "md0", "dev-sdc/offset", "4096");
        fake_sysfs_set(*state, "md0", "dev-sdc/new_offset", "3072");
        fake_sysfs_set(*state, "md0", "dev-sdd/offset", "2048");
        fake_sysfs_set(*state, "md0", "dev-sdd/new_offset", "2000");
        fake_sysfs_set(*state, "md0", "dev-sdd/slot", "none");
        assert_int_equal(md_get_geometry(md, &g), 0);
        assert_int_equal(g.offset_diff_dev_sectors, -512);

        fake_sysfs_set(*state, "md0", "reshape_direction", "backwards");
        fake_sysfs_set(*state, "md0", "dev-sda/new_offset", "3000");
        fake_sysfs_set(*state, "md0", "dev-sdb/new_offset", "2800");
        fake_sysfs_set(*state, "md0", "dev-sdc/new_offset", "5000");
        assert_int_equal(md_get_geometry(md, &g), 0);
        assert_int_equal(g.offset_diff_dev_sectors, 752);
        md_close(md);
}

static void test_geometry_without_direction(void **state)
{
        struct md *md = open_md0();
        struct md_geometry g;

        fake_sysfs_set(*state, "md0", "reshape_direction", NULL);
        fake_sysfs_set(*state, "md0", "metadata_version", "1.2");
        fake_sysfs_set(*state, "md0", "level", "raid6");
        fake_sysfs_set(*state, "md0", "layout", "2 (18)");
        assert_int_equal(md_get_geometry(md, &g), 0);
        assert_int_equal(g.direction, MD_RESHAPE_DIRECTION_UNKNOWN);
        assert_int_equal(g.level, 6);
        assert_int_equal(g.layout_new, 2);
        assert_int_equal(g.layout_old, 18);
        assert_int_equal(g.metadata.major, 1);
        assert_int_equal(g.metadata.minor, 2);
        assert_int_equal(g.raid_disks_new, 4);
        assert_int_equal(g.raid_disks_old, 4);
        md_close(md);
}

static void test_write_attributes(void **state)
{
        struct md *md = open_md0();
        uint64_t v;
        char *s;

        assert_int_equal(md_set_sync_max(md, 1024), 0);
        s = fake_sysfs_get(*state, "md0", "sync_max");
        assert_string_equal(s, "1024\n");
        free(s);
        assert_int_equal(md_get_sync_max(md, &v), 0);
        assert_int_equal(v, 1024);

        /* A shorter value replaces a longer one whole. */
        assert_int_equal(md_set_sync_max_unlimited(md), 0);
        s = fake_sysfs_get(*state, "md0", "sync_max");
        assert_string_equal(s, "max\n");
        free(s);
        assert_int_equal(md_get_sync_max(md, &v), 0);
        assert_true(v == MD_SYNC_MAX_UNLIMITED);

        assert_int_equal(md_set_sync_min(md, 512), 0);
        s = fake_sysfs_get(*state, "md0", "sync_min");
        assert_string_equal(s, "512\n");
        free(s);

        assert_int_equal(md_set_sync_action(md, MD_SYNC_ACTION_FROZEN), 0);
        s = fake_sysfs_get(*state, "md0", "sync_action");
        assert_string_equal(s, "frozen\n");
        free(s);

        assert_int_equal(md_set_sync_speed_min(md, 0), 0);
        s = fake_sysfs_get(*state, "md0", "sync_speed_min");
        assert_string_equal(s, "system\n");
        free(s);
        assert_int_equal(md_set_sync_speed_max(md, 123456), 0);
        s = fake_sysfs_get(*state, "md0", "sync_speed_max");
        assert_string_equal(s, "123456\n");
        free(s);

        assert_int_equal(md_write_attr(md, "dev-sda/state", "want_replacement"), 0);
        s = fake_sysfs_get(*state, "md0", "dev-sda/state");
        assert_string_equal(s, "want_replacement\n");
        free(s);
        md_close(md);
}

static void set_old_mtime(const char *root, const char *attr)
{
        char rel[128];
        char *p;
        const struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };

        snprintf(rel, sizeof(rel), "block/md0/md/%s", attr);
        p = fake_sysfs_path(root, rel);
        assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
        free(p);
}

static bool was_written(const char *root, const char *attr)
{
        char rel[128];
        struct stat st;
        char *p;

        snprintf(rel, sizeof(rel), "block/md0/md/%s", attr);
        p = fake_sysfs_path(root, rel);
        assert_int_equal(stat(p, &st), 0);
        free(p);
        return st.st_mtim.tv_sec != 1000;
}

static void test_set_suspend_writes_only_changes(void **state)
{
        const char *root = *state;
        struct md *md = open_md0();
        uint64_t lo, hi;
        char *s;

        /* Reshaping fixture: [262144, 393216). Same values: no store. */
        set_old_mtime(root, "suspend_lo");
        set_old_mtime(root, "suspend_hi");
        assert_int_equal(md_set_suspend(md, 262144, 393216), 0);
        assert_false(was_written(root, "suspend_lo"));
        assert_false(was_written(root, "suspend_hi"));

        /* Only hi moves. */
        assert_int_equal(md_set_suspend(md, 262144, 524288), 0);
        assert_false(was_written(root, "suspend_lo"));
        assert_true(was_written(root, "suspend_hi"));
        s = fake_sysfs_get(root, "md0", "suspend_hi");
        assert_string_equal(s, "524288\n");
        free(s);

        /* Both move. */
        set_old_mtime(root, "suspend_lo");
        set_old_mtime(root, "suspend_hi");
        assert_int_equal(md_set_suspend(md, 393216, 655360), 0);
        assert_true(was_written(root, "suspend_lo"));
        assert_true(was_written(root, "suspend_hi"));
        assert_int_equal(md_get_suspend(md, &lo, &hi), 0);
        assert_int_equal(lo, 393216);
        assert_int_equal(hi, 655360);

        /* Only lo moves. */
        set_old_mtime(root, "suspend_lo");
        set_old_mtime(root, "suspend_hi");
        assert_int_equal(md_set_suspend(md, 655360, 655360), 0);
        assert_true(was_written(root, "suspend_lo"));
        assert_false(was_written(root, "suspend_hi"));
        md_close(md);
}

static void test_error_messages(void **state)
{
        struct md *md = open_md0();
        struct md_sync_completed sc;
        enum md_sync_action action;
        struct md_geometry g;
        const char *log;
        char *p;

        fake_sysfs_set(*state, "md0", "sync_completed", NULL);
        capture_start();
        assert_int_equal(md_get_sync_completed(md, &sc), -ENOENT);
        log = capture_end();
        assert_non_null(strstr(log, "Failed to read sync_completed of md0: No such file or directory"));

        fake_sysfs_set(*state, "md0", "sync_max", NULL);
        capture_start();
        assert_int_equal(md_set_sync_max(md, 1024), -ENOENT);
        log = capture_end();
        assert_non_null(strstr(log, "Failed to write sync_max=1024 for md0: No such file or directory"));

        fake_sysfs_set(*state, "md0", "sync_action", "bogus");
        capture_start();
        assert_int_equal(md_get_sync_action(md, &action), -EINVAL);
        log = capture_end();
        assert_non_null(strstr(log, "sync_action of md0"));
        assert_non_null(strstr(log, "\"bogus\""));

        /* raid_disks_show() prints nothing while the array has no disks. */
        p = fake_sysfs_path(*state, "block/md0/md/raid_disks");
        assert_int_equal(truncate(p, 0), 0);
        free(p);
        capture_start();
        assert_int_equal(md_get_geometry(md, &g), -ENODATA);
        log = capture_end();
        assert_non_null(strstr(log, "raid_disks of md0 is empty"));
        md_close(md);
}

static void test_members(void **state)
{
        const char *root = *state;
        struct md *md = open_md0();
        struct md_member *m;
        size_t n;
        char *devnode;

        assert_int_equal(md_get_members(md, &m, &n), 0);
        assert_int_equal(n, 4);
        assert_string_equal(m[0].name, "sda");
        assert_int_equal(m[0].slot, 0);
        assert_int_equal(m[0].state, MD_MEMBER_IN_SYNC);
        assert_int_equal(major(m[0].devnum), 8);
        assert_int_equal(minor(m[0].devnum), 0);
        assert_int_equal(m[0].data_offset_dev_sectors, 0);
        assert_int_equal(m[0].new_data_offset_dev_sectors, 0);
        assert_int_equal(m[0].size_kib, 261120);
        devnode = fake_sysfs_path(root, "dev/sda");
        assert_string_equal(m[0].devnode, devnode);
        free(devnode);

        assert_string_equal(m[1].name, "sdb");
        assert_int_equal(m[1].slot, 1);
        assert_int_equal(minor(m[1].devnum), 16);
        assert_string_equal(m[2].name, "sdc");
        assert_int_equal(m[2].slot, 2);
        assert_int_equal(m[2].state, MD_MEMBER_IN_SYNC | MD_MEMBER_WRITE_MOSTLY);
        assert_string_equal(m[3].name, "sdd");
        assert_int_equal(m[3].slot, MD_SLOT_NONE);
        assert_int_equal(m[3].state, MD_MEMBER_SPARE);
        md_members_free(m, n);

        fake_sysfs_set(root, "md0", "dev-sdb/state", "faulty");
        fake_sysfs_set(root, "md0", "dev-sdb/slot", "none");
        assert_int_equal(md_get_members(md, &m, &n), 0);
        assert_string_equal(m[2].name, "sdb");
        assert_int_equal(m[2].state, MD_MEMBER_FAULTY);
        md_members_free(m, n);
        md_close(md);
}

static void test_wait_times_out_and_consume_rereads(void **state)
{
        struct md *md = open_md0();
        struct md_sync_completed sc = { .state = 77 };
        struct timespec a, b;
        int64_t elapsed_ms;
        int fd;

        fd = md_sync_completed_fd(md);
        assert_true(fd >= 0);
        assert_int_equal(md_sync_completed_fd(md), fd);

        clock_gettime(CLOCK_MONOTONIC, &a);
        assert_int_equal(md_wait_sync_completed(md, 50, &sc), 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        elapsed_ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
        assert_true(elapsed_ms >= 49);
        assert_int_equal(sc.state, 77);

        /* The kept fd sees the current content, from offset 0. */
        fake_sysfs_set(*state, "md0", "sync_completed", "196608 / 522240");
        assert_int_equal(md_sync_completed_consume(md, &sc), 0);
        assert_int_equal(sc.state, MD_SYNC_COMPLETED_RUNNING);
        assert_int_equal(sc.completed_dev_sectors, 196608);
        fake_sysfs_set(*state, "md0", "sync_completed", "none");
        assert_int_equal(md_sync_completed_consume(md, &sc), 0);
        assert_int_equal(sc.state, MD_SYNC_COMPLETED_NONE);
        md_close(md);
}

/* Superblocks built from the on-disk layouts (md_p.h), by byte offset. */
static void put_ne32(uint8_t *b, size_t off, uint32_t v)
{
        memcpy(b + off, &v, 4);
}

static void put_le(uint8_t *b, size_t off, uint64_t v, size_t bytes)
{
        for (size_t i = 0; i < bytes; i++)
                b[off + i] = (uint8_t) (v >> (8 * i));
}

static uint32_t fold64(uint64_t sum)
{
        return (uint32_t) ((sum & 0xffffffff) + (sum >> 32));
}

static void build_sb0(uint8_t *b, unsigned minor_version, const uint32_t uuid[4], uint64_t events)
{
        uint64_t sum = 0;

        memset(b, 0, 4096);
        put_ne32(b, 0, 0xa92b4efc);          /* md_magic */
        put_ne32(b, 4, 0);                   /* major_version */
        put_ne32(b, 8, minor_version);
        put_ne32(b, 20, uuid[0]);            /* set_uuid0, word 5 */
        put_ne32(b, 28, 5);                  /* level */
        put_ne32(b, 40, 4);                  /* raid_disks */
        put_ne32(b, 52, uuid[1]);            /* set_uuid1..3, words 13-15 */
        put_ne32(b, 56, uuid[2]);
        put_ne32(b, 60, uuid[3]);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        put_ne32(b, 156, (uint32_t) events);         /* events_lo, word 32+7 */
        put_ne32(b, 160, (uint32_t) (events >> 32)); /* events_hi */
#else
        put_ne32(b, 156, (uint32_t) (events >> 32));
        put_ne32(b, 160, (uint32_t) events);
#endif
        for (size_t i = 0; i < 4096; i += 4) {
                uint32_t w;

                memcpy(&w, b + i, 4);
                sum += w;
        }
        put_ne32(b, 152, fold64(sum));       /* sb_csum, word 32+6 */
}

static void build_sb1(uint8_t *b, const uint8_t uuid[16], uint64_t events,
                      uint64_t super_offset_sectors, uint32_t max_dev)
{
        size_t size = 256 + 2 * (size_t) max_dev, i;
        uint64_t sum = 0;

        memset(b, 0, 4096);
        put_le(b, 0, 0xa92b4efc, 4);         /* magic */
        put_le(b, 4, 1, 4);                  /* major_version */
        memcpy(b + 16, uuid, 16);            /* set_uuid */
        memcpy(b + 32, "host:data", 9);      /* set_name */
        put_le(b, 72, 5, 4);                 /* level */
        put_le(b, 92, 4, 4);                 /* raid_disks */
        put_le(b, 144, super_offset_sectors, 8);
        put_le(b, 200, events, 8);
        put_le(b, 220, max_dev, 4);
        for (i = 0; i < max_dev && 256 + 2 * i + 2 <= 4096; i++)
                put_le(b, 256 + 2 * i, i < 4 ? i : 0xffff, 2);
        for (i = 0; i + 4 <= size && size <= 4096; i += 4)
                sum += (uint64_t) b[i] | (uint64_t) b[i + 1] << 8 |
                       (uint64_t) b[i + 2] << 16 | (uint64_t) b[i + 3] << 24;
        if (size <= 4096 && size - i == 2)
                sum += (uint64_t) b[i] | (uint64_t) b[i + 1] << 8;
        put_le(b, 216, fold64(sum), 4);
}

static const uint32_t uuid0[4] = { 0x6b8a4a2c, 0x01234567, 0x89abcdef, 0xdeadbeef };
static const uint8_t uuid1[16] = {
        0x3c, 0x9f, 0x12, 0xa0, 0x55, 0x01, 0xee, 0x7b,
        0x80, 0x42, 0x11, 0x00, 0xfe, 0xdc, 0xba, 0x98,
};

static void test_super_offsets(void **state)
{
        uint64_t off;

        assert_int_equal(md_super_offset_bytes(0, 90, 268435456, &off), 0);
        assert_int_equal(off, 268435456 - 65536);
        /* 100000 sectors: round down to 64 KiB (99968), minus 64 KiB. */
        assert_int_equal(md_super_offset_bytes(0, 90, 100000 * 512ULL, &off), 0);
        assert_int_equal(off, 99840 * 512ULL);
        assert_int_equal(md_super_offset_bytes(0, 90, 32768, &off), -ENOSPC);
        assert_int_equal(md_super_offset_bytes(1, 0, 268435456, &off), 0);
        assert_int_equal(off, 268435456 - 8192);
        /* 524289 sectors: minus 16, down to 8 sectors. */
        assert_int_equal(md_super_offset_bytes(1, 0, 524289 * 512ULL, &off), 0);
        assert_int_equal(off, 524272 * 512ULL);
        assert_int_equal(md_super_offset_bytes(1, 0, 23 * 512, &off), -ENOSPC);
        assert_int_equal(md_super_offset_bytes(1, 1, 268435456, &off), 0);
        assert_int_equal(off, 0);
        assert_int_equal(md_super_offset_bytes(1, 2, 268435456, &off), 0);
        assert_int_equal(off, 4096);
        assert_int_equal(md_super_offset_bytes(1, 3, 268435456, &off), -EOPNOTSUPP);
        assert_int_equal(md_super_offset_bytes(2, 0, 268435456, &off), -EOPNOTSUPP);
}

static void test_super_parse_090(void **state)
{
        uint8_t b[4096], uuid[16];
        uint64_t events = 0;
        const char *reason = NULL;

        build_sb0(b, 90, uuid0, 0x500000007ULL);
        assert_int_equal(md_super_parse(b, sizeof(b), 0, 90, 0, uuid, &events, &reason), 0);
        assert_true(events == 0x500000007ULL);
        /* mdadm copies int uuid[4] = { set_uuid0, set_uuid1, ... } as it
         * lies in memory: the superblock's bytes 20-23 and 52-63. */
        assert_memory_equal(uuid, b + 20, 4);
        assert_memory_equal(uuid + 4, b + 52, 12);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        {
                static const uint8_t expect[16] = {
                        0x2c, 0x4a, 0x8a, 0x6b, 0x67, 0x45, 0x23, 0x01,
                        0xef, 0xcd, 0xab, 0x89, 0xef, 0xbe, 0xad, 0xde,
                };

                assert_memory_equal(uuid, expect, 16);
        }
#endif

        build_sb0(b, 91, uuid0, 12);
        assert_int_equal(md_super_parse(b, sizeof(b), 0, 91, 0, uuid, &events, &reason), 0);
        assert_int_equal(events, 12);

        b[1000] ^= 1;
        assert_int_equal(md_super_parse(b, sizeof(b), 0, 90, 0, uuid, &events, &reason), -EBADMSG);
        assert_non_null(strstr(reason, "checksum"));

        build_sb0(b, 89, uuid0, 12);
        assert_int_equal(md_super_parse(b, sizeof(b), 0, 90, 0, uuid, &events, &reason), -EBADMSG);

        build_sb0(b, 90, uuid0, 12);
        put_ne32(b, 0, 0xfc4e2ba9);
        assert_int_equal(md_super_parse(b, sizeof(b), 0, 90, 0, uuid, &events, &reason),
                         -EPROTONOSUPPORT);
        put_ne32(b, 0, 0);
        assert_int_equal(md_super_parse(b, sizeof(b), 0, 90, 0, uuid, &events, &reason), -ENODATA);
        assert_int_equal(md_super_parse(b, 4095, 0, 90, 0, uuid, &events, &reason), -EINVAL);
}

static void test_super_parse_1x(void **state)
{
        uint8_t b[4096], uuid[16];
        uint64_t events = 0;
        const char *reason = NULL;

        /* 1.2: super_offset 8 sectors; max_dev 5 leaves a 2-byte tail. */
        build_sb1(b, uuid1, 0x0102030405060708ULL, 8, 5);
        assert_int_equal(md_super_parse(b, sizeof(b), 1, 2, 4096, uuid, &events, &reason), 0);
        assert_memory_equal(uuid, uuid1, 16);
        assert_true(events == 0x0102030405060708ULL);

        /* The superblock must say it lives where it was read. */
        assert_int_equal(md_super_parse(b, sizeof(b), 1, 1, 0, uuid, &events, &reason), -EBADMSG);
        assert_non_null(strstr(reason, "super_offset"));

        build_sb1(b, uuid1, 9, 0, 384);
        assert_int_equal(md_super_parse(b, sizeof(b), 1, 1, 0, uuid, &events, &reason), 0);
        assert_int_equal(events, 9);
        b[256 + 2 * 100] ^= 0x10;   /* inside dev_roles, so inside the checksum */
        assert_int_equal(md_super_parse(b, sizeof(b), 1, 1, 0, uuid, &events, &reason), -EBADMSG);
        assert_non_null(strstr(reason, "checksum"));

        build_sb1(b, uuid1, 9, 0, 1921);
        assert_int_equal(md_super_parse(b, sizeof(b), 1, 1, 0, uuid, &events, &reason), -EBADMSG);

        build_sb1(b, uuid1, 9, 0, 4);
        put_le(b, 4, 2, 4);
        assert_int_equal(md_super_parse(b, sizeof(b), 1, 1, 0, uuid, &events, &reason), -EBADMSG);
        put_le(b, 0, 0, 4);
        assert_int_equal(md_super_parse(b, sizeof(b), 1, 1, 0, uuid, &events, &reason), -ENODATA);
}

/* An image file standing in for a member device. */
static void write_image(const char *path, uint64_t size, uint64_t sb_offset, const uint8_t *sb)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, (off_t) size), 0);
        if (sb)
                assert_int_equal(pwrite(fd, sb, 4096, (off_t) sb_offset), 4096);
        assert_int_equal(close(fd), 0);
}

static void test_super_read_device(void **state)
{
        char path[] = "/tmp/reshaped-test-member-XXXXXX";
        uint8_t b[4096], uuid[16];
        uint64_t events;
        const char *log;
        int fd;

        fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);

        build_sb0(b, 90, uuid0, 42);
        write_image(path, 1 << 20, (1 << 20) - 65536, b);
        assert_int_equal(md_super_read_device(path, 0, 90, uuid, &events), 0);
        assert_int_equal(events, 42);
        assert_memory_equal(uuid + 4, b + 52, 12);

        build_sb1(b, uuid1, 43, ((1 << 20) - 8192) / 512, 4);
        write_image(path, 1 << 20, (1 << 20) - 8192, b);
        assert_int_equal(md_super_read_device(path, 1, 0, uuid, &events), 0);
        assert_int_equal(events, 43);
        assert_memory_equal(uuid, uuid1, 16);

        build_sb1(b, uuid1, 44, 8, 4);
        write_image(path, 1 << 20, 4096, b);
        assert_int_equal(md_super_read_device(path, 1, 2, uuid, &events), 0);
        assert_int_equal(events, 44);

        /* Wrong place: a 1.2 superblock read as 1.1. */
        capture_start();
        assert_int_equal(md_super_read_device(path, 1, 1, uuid, &events), -ENODATA);
        log = capture_end();
        assert_non_null(strstr(log, path));
        assert_non_null(strstr(log, "no 1.x superblock magic"));

        write_image(path, 32768, 0, NULL);
        capture_start();
        assert_int_equal(md_super_read_device(path, 0, 90, uuid, &events), -ENOSPC);
        capture_end();

        assert_int_equal(unlink(path), 0);
        capture_start();
        assert_int_equal(md_super_read_device(path, 0, 90, uuid, &events), -ENOENT);
        log = capture_end();
        assert_non_null(strstr(log, path));
}

/* Reads back what md_super_write_reshape_position() left at @offset. */
static uint64_t image_position(const char *path, uint64_t offset, unsigned major, unsigned minor)
{
        uint8_t b[4096], uuid[16];
        uint64_t pos = 0, events;
        bool active;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(pread(fd, b, sizeof(b), (off_t) offset), 4096);
        close(fd);
        assert_int_equal(md_super_parse(b, sizeof(b), major, minor, offset, uuid, &events, NULL), 0);
        assert_int_equal(md_super_reshape_position(b, major, &active, &pos), 0);
        return pos;
}

static void test_super_write_position(void **state)
{
        char path[] = "/tmp/reshaped-test-member-XXXXXX";
        uint8_t b[4096], before[4096], after[4096];
        const char *log;
        int fd;

        (void) state;
        fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);

        build_sb0(b, 91, uuid0, 42);
        write_image(path, 1 << 20, (1 << 20) - 65536, b);
        assert_int_equal(md_super_write_reshape_position(path, 0, 90, 16128), 0);
        assert_int_equal(image_position(path, (1 << 20) - 65536, 0, 90), 16128);

        build_sb1(b, uuid1, 43, 8, 4);
        write_image(path, 1 << 20, 4096, b);
        assert_int_equal(md_super_write_reshape_position(path, 1, 2, 0x123456789ULL), 0);
        assert_int_equal(image_position(path, 4096, 1, 2), 0x123456789ULL);
        /* nothing else in the superblock changes */
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, after, sizeof(after), 4096), 4096);
        close(fd);
        memcpy(before, b, sizeof(b));
        memcpy(before + 104, after + 104, 8);       /* reshape_position */
        memcpy(before + 216, after + 216, 4);       /* sb_csum */
        assert_memory_equal(before, after, sizeof(after));

        /* a superblock that does not check out is left alone */
        b[200] ^= 1;
        write_image(path, 1 << 20, 4096, b);
        capture_start();
        assert_int_equal(md_super_write_reshape_position(path, 1, 2, 768), -EBADMSG);
        log = capture_end();
        assert_non_null(strstr(log, path));
        assert_non_null(strstr(log, "checksum"));
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, after, sizeof(after), 4096), 4096);
        close(fd);
        assert_memory_equal(b, after, sizeof(after));
        assert_int_equal(unlink(path), 0);
}

static void test_read_uuid_and_events(void **state)
{
        const char *root = *state;
        struct md *md = open_md0();
        uint8_t b[4096], uuid[16];
        uint64_t events = 0;
        char *p;
        const char *log;

        /* sda (slot 0) has no superblock: the next in-sync member counts. */
        p = fake_sysfs_path(root, "dev/sda");
        write_image(p, 1 << 20, 0, NULL);
        free(p);
        build_sb1(b, uuid1, 77, 8, 4);
        p = fake_sysfs_path(root, "dev/sdb");
        write_image(p, 1 << 20, 4096, b);
        free(p);

        fake_sysfs_set(root, "md0", "metadata_version", "1.2");
        capture_start();
        assert_int_equal(md_read_uuid_and_events(md, uuid, &events), 0);
        log = capture_end();
        assert_non_null(strstr(log, "dev/sda"));
        assert_memory_equal(uuid, uuid1, 16);
        assert_int_equal(events, 77);

        fake_sysfs_set(root, "md0", "metadata_version", "external:imsm");
        capture_start();
        assert_int_equal(md_read_uuid_and_events(md, uuid, &events), -EOPNOTSUPP);
        log = capture_end();
        assert_non_null(strstr(log, "md0 has external metadata"));

        fake_sysfs_set(root, "md0", "metadata_version", "1.2");
        fake_sysfs_set(root, "md0", "dev-sda/state", "faulty");
        fake_sysfs_set(root, "md0", "dev-sdb/state", "spare");
        fake_sysfs_set(root, "md0", "dev-sdc/state", "faulty");
        capture_start();
        assert_int_equal(md_read_uuid_and_events(md, uuid, &events), -ENODEV);
        log = capture_end();
        assert_non_null(strstr(log, "md0 has no in-sync member"));
        md_close(md);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_open_name_forms, setup_idle, teardown),
                cmocka_unit_test_setup_teardown(test_open_errors, setup_idle, teardown),
                cmocka_unit_test_setup_teardown(test_root_from_environment, setup_idle, teardown),
                cmocka_unit_test_setup_teardown(test_real_root_errors, setup_idle, teardown),
                cmocka_unit_test_setup_teardown(test_read_typed, setup_reshaping, teardown),
                cmocka_unit_test_setup_teardown(test_idle_values, setup_idle, teardown),
                cmocka_unit_test_setup_teardown(test_geometry_without_direction, setup_idle, teardown),
                cmocka_unit_test_setup_teardown(test_geometry_offset_diff, setup_idle, teardown),
                cmocka_unit_test_setup_teardown(test_write_attributes, setup_idle, teardown),
                cmocka_unit_test_setup_teardown(test_set_suspend_writes_only_changes, setup_reshaping,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_error_messages, setup_idle, teardown),
                cmocka_unit_test_setup_teardown(test_members, setup_idle, teardown),
                cmocka_unit_test_setup_teardown(test_wait_times_out_and_consume_rereads, setup_reshaping,
                                                teardown),
                cmocka_unit_test(test_super_offsets),
                cmocka_unit_test(test_super_parse_090),
                cmocka_unit_test(test_super_parse_1x),
                cmocka_unit_test(test_super_read_device),
                cmocka_unit_test(test_super_write_position),
                cmocka_unit_test_setup_teardown(test_read_uuid_and_events, setup_idle, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
