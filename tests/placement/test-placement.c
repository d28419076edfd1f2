// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/magic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "reshaped/md/md.h"
#include "reshaped/placement/placement.h"

#define MIB (1024ULL * 1024ULL)

/* makedev() as a constant expression, for the tables; glibc's encoding for
 * majors below 4096 and minors below 256 (test_devno_macro checks it). */
#define DEVNO(major_nr, minor_nr) ((dev_t) ((major_nr) << 8 | (minor_nr)))

/* ---- placement_judge(): the rules, on facts given by hand --------------- */

static const struct placement_device array_items[] = {
        { .devno = DEVNO(9, 0),   .relation = PLACEMENT_ARRAY,   .name = "md0" },
        { .devno = DEVNO(259, 0), .relation = PLACEMENT_STACKED, .name = "md0p1" },
        { .devno = DEVNO(253, 0), .relation = PLACEMENT_STACKED, .name = "dm-0" },
        { .devno = DEVNO(8, 17),  .relation = PLACEMENT_MEMBER,  .name = "sdb1" },
        { .devno = DEVNO(8, 32),  .relation = PLACEMENT_MEMBER,  .name = "sdc" },
};

static const struct placement_devices array_devices = {
        .items = (struct placement_device *) array_items,
        .n = sizeof(array_items) / sizeof(array_items[0]),
};

struct judge_case {
        const char *label;
        bool is_block_device;
        const char *fs_type;
        struct placement_device targets[3];
        size_t n_targets;
        uint64_t existing_bytes, free_bytes, required_bytes;
        int ret;
        enum placement_reason reason;
        const char *says;      /* part of the message */
};

static const struct judge_case judge_cases[] = {
        { "tmpfs", false, "tmpfs", { { DEVNO(0, 23), 0, "", "" } }, 1,
          0, 1000 * MIB, 24 * MIB, -EMEDIUMTYPE, PLACEMENT_VOLATILE, "is on tmpfs, which does not survive a reboot" },
        { "ramfs", false, "ramfs", { { DEVNO(0, 40), 0, "", "" } }, 1,
          0, 1000 * MIB, 24 * MIB, -EMEDIUMTYPE, PLACEMENT_VOLATILE, "is on ramfs" },
        { "rootfs", false, "rootfs", { { DEVNO(0, 2), 0, "", "" } }, 1,
          0, 1000 * MIB, 24 * MIB, -EMEDIUMTYPE, PLACEMENT_VOLATILE, "is on rootfs" },
        { "devtmpfs", false, "devtmpfs", { { DEVNO(0, 6), 0, "", "" } }, 1,
          0, 1000 * MIB, 24 * MIB, -EMEDIUMTYPE, PLACEMENT_VOLATILE, "is on devtmpfs" },
        { "ext4 on zram", false, "ext4", { { DEVNO(252, 0), 0, "zram0", "" } }, 1,
          0, 1000 * MIB, 24 * MIB, -EMEDIUMTYPE, PLACEMENT_VOLATILE, "is on zram0, a RAM disk" },
        { "ext4 on an unrelated disk", false, "ext4", { { DEVNO(8, 48), 0, "sdd", "" } }, 1,
          0, 1000 * MIB, 24 * MIB, 0, PLACEMENT_OK, "is a safe place for the backup of md0" },
        { "ext4 on a sibling partition of a member", false, "ext4", { { DEVNO(8, 18), 0, "sdb2", "" } }, 1,
          0, 1000 * MIB, 24 * MIB, 0, PLACEMENT_OK, "safe place" },
        { "fs on the array", false, "ext4", { { DEVNO(9, 0), 0, "md0", "" } }, 1,
          0, 1000 * MIB, 24 * MIB, -EBUSY, PLACEMENT_ON_ARRAY, "is on md0 itself" },
        { "fs on a partition of the array", false, "xfs", { { DEVNO(259, 0), 0, "md0p1", "" } }, 1,
          0, 1000 * MIB, 24 * MIB, -EBUSY, PLACEMENT_STACKED_ON_ARRAY, "is on md0p1, which is built on md0" },
        { "fs on dm-0 stacked on the array", false, "ext4", { { DEVNO(253, 0), 0, "dm-0", "" } }, 1,
          0, 1000 * MIB, 24 * MIB, -EBUSY, PLACEMENT_STACKED_ON_ARRAY, "is on dm-0, which is built on md0" },
        { "fs on a member", false, "ext4", { { DEVNO(8, 17), 0, "sdb1", "" } }, 1,
          0, 1000 * MIB, 24 * MIB, -EBUSY, PLACEMENT_ON_MEMBER, "is on sdb1, which is (part of) a member of md0" },
        /* btrfs: anonymous st_dev, the mount source is the array */
        { "btrfs with a synthetic st_dev", false, "btrfs",
          { { DEVNO(0, 45), 0, "", "" }, { DEVNO(9, 0), 0, "md0", "" } }, 2,
          0, 1000 * MIB, 24 * MIB, -EBUSY, PLACEMENT_ON_ARRAY, "md0 itself" },
        /* a filesystem over several devices: the closest relation is named */
        { "btrfs over a member and the array", false, "btrfs",
          { { DEVNO(8, 32), 0, "sdc", "" }, { DEVNO(9, 0), 0, "md0", "" } }, 2,
          0, 1000 * MIB, 24 * MIB, -EBUSY, PLACEMENT_ON_ARRAY, "md0 itself" },
        /* on the array beats on tmpfs: the worse mistake is reported */
        { "tmpfs and on the array", false, "tmpfs", { { DEVNO(9, 0), 0, "md0", "" } }, 1,
          0, 1000 * MIB, 24 * MIB, -EBUSY, PLACEMENT_ON_ARRAY, "md0 itself" },
        { "not enough space", false, "ext4", { { DEVNO(8, 48), 0, "sdd", "" } }, 1,
          0, 24 * MIB - 1, 24 * MIB, -ENOSPC, PLACEMENT_NO_SPACE, "needs 25165824 bytes (24.0 MiB) more but its filesystem has only 25165823" },
        { "exactly enough space", false, "ext4", { { DEVNO(8, 48), 0, "sdd", "" } }, 1,
          0, 24 * MIB, 24 * MIB, 0, PLACEMENT_OK, "safe place" },
        { "preallocated file, no free space", false, "ext4", { { DEVNO(8, 48), 0, "sdd", "" } }, 1,
          24 * MIB, 0, 24 * MIB, 0, PLACEMENT_OK, "safe place" },
        { "half preallocated, the rest free", false, "ext4", { { DEVNO(8, 48), 0, "sdd", "" } }, 1,
          12 * MIB, 12 * MIB, 24 * MIB, 0, PLACEMENT_OK, "safe place" },
        { "half preallocated, not enough free", false, "ext4", { { DEVNO(8, 48), 0, "sdd", "" } }, 1,
          12 * MIB, 12 * MIB - 1, 24 * MIB, -ENOSPC, PLACEMENT_NO_SPACE, "needs 12582912 bytes (12.0 MiB) more" },
        { "block device that is the array", true, NULL, { { DEVNO(9, 0), 0, "md0", "" } }, 1,
          1000 * MIB, 0, 24 * MIB, -EBUSY, PLACEMENT_ON_ARRAY, "Backup device /backup is on md0 itself" },
        { "block device stacked on the array", true, NULL, { { DEVNO(253, 0), 0, "dm-0", "" } }, 1,
          1000 * MIB, 0, 24 * MIB, -EBUSY, PLACEMENT_STACKED_ON_ARRAY, "dm-0, which is built on md0" },
        { "block device that is a member", true, NULL, { { DEVNO(8, 32), 0, "sdc", "" } }, 1,
          1000 * MIB, 0, 24 * MIB, -EBUSY, PLACEMENT_ON_MEMBER, "sdc, which is (part of) a member" },
        { "unrelated block device", true, NULL, { { DEVNO(8, 48), 0, "sdd", "" } }, 1,
          24 * MIB, 0, 24 * MIB, 0, PLACEMENT_OK, "Backup device /backup is a safe place" },
        { "block device too small", true, NULL, { { DEVNO(8, 48), 0, "sdd", "" } }, 1,
          24 * MIB - 512, 0, 24 * MIB, -ENOSPC, PLACEMENT_NO_SPACE, "use a larger device" },
        { "RAM disk block device", true, NULL, { { DEVNO(1, 0), 0, "ram0", "" } }, 1,
          1000 * MIB, 0, 24 * MIB, -EMEDIUMTYPE, PLACEMENT_VOLATILE, "ram0, a RAM disk" },
};

static void test_devno_macro(void **state)
{
        assert_int_equal(DEVNO(259, 0), makedev(259, 0));
        assert_int_equal(DEVNO(8, 255), makedev(8, 255));
        assert_int_equal(DEVNO(0, 23), makedev(0, 23));
}

static void test_judge_table(void **state)
{
        for (size_t i = 0; i < sizeof(judge_cases) / sizeof(judge_cases[0]); i++) {
                const struct judge_case *c = &judge_cases[i];
                struct placement_devices targets = {
                        .items = (struct placement_device *) c->targets, .n = c->n_targets,
                };
                struct placement_facts facts = {
                        .backup_path = "/backup",
                        .md_sysname = "md0",
                        .is_block_device = c->is_block_device,
                        .fs_type = c->fs_type,
                        .targets = &targets,
                        .array = &array_devices,
                        .existing_bytes = c->existing_bytes,
                        .free_bytes = c->free_bytes,
                        .required_bytes = c->required_bytes,
                };
                struct placement_verdict v = { .reason = -1 };

                print_message("case: %s\n", c->label);
                assert_int_equal(placement_judge(&facts, &v), c->ret);
                assert_int_equal(v.reason, c->reason);
                assert_non_null(strstr(v.message, c->says));
        }
}

/* The message the user sees, in full, for the commonest mistake. */
static void test_judge_message_says_what_to_do(void **state)
{
        struct placement_device shm = { .devno = makedev(0, 23) };
        struct placement_devices targets = { .items = &shm, .n = 1 };
        struct placement_facts facts = {
                .backup_path = "/run/x", .md_sysname = "md0", .fs_type = "tmpfs",
                .targets = &targets, .array = &array_devices,
                .free_bytes = 1000 * MIB, .required_bytes = 24 * MIB,
        };
        struct placement_verdict v;

        assert_int_equal(placement_judge(&facts, &v), -EMEDIUMTYPE);
        assert_string_equal(v.message,
                            "Backup file /run/x is on tmpfs, which does not survive a reboot; "
                            "put it on a disk that is not part of md0 (for example "
                            "/var/lib/reshaped/).");
        assert_string_equal(placement_reason_to_string(v.reason), "volatile");
}

/* ---- A fake sysfs tree -------------------------------------------------- */

static char fake_root[PATH_MAX];
static char disk_dir[PATH_MAX];   /* made by make_disk_dir(), if a test needs one */

static void make_parents(const char *path)
{
        char buf[PATH_MAX];

        assert_true(strlen(path) < sizeof(buf));
        strcpy(buf, path);
        for (char *p = buf + strlen(fake_root) + 1; (p = strchr(p, '/')); p++) {
                *p = '\0';
                assert_true(mkdir(buf, 0755) == 0 || errno == EEXIST);
                *p = '/';
        }
}

static void fake_path(char path[PATH_MAX], const char *rel, const char *suffix)
{
        assert_true((size_t) snprintf(path, PATH_MAX, "%s/%s%s", fake_root, rel, suffix) < PATH_MAX);
}

static void put_file(const char *rel, const char *content)
{
        char path[PATH_MAX];
        FILE *f;

        fake_path(path, rel, "");
        make_parents(path);
        f = fopen(path, "we");
        assert_non_null(f);
        assert_true(fputs(content, f) >= 0);
        assert_int_equal(fclose(f), 0);
}

static void put_dir(const char *rel)
{
        char path[PATH_MAX];

        fake_path(path, rel, "/");
        make_parents(path);
}

static void put_link(const char *rel, const char *target)
{
        char path[PATH_MAX];

        fake_path(path, rel, "");
        make_parents(path);
        assert_int_equal(symlink(target, path), 0);
}

static void put_devno(const char *rel_dir, dev_t devno)
{
        char rel[PATH_MAX], content[32];

        snprintf(rel, sizeof(rel), "%s/dev", rel_dir);
        snprintf(content, sizeof(content), "%u:%u\n", major(devno), minor(devno));
        put_file(rel, content);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path);
}

static int setup_fake_root(void **state)
{
        disk_dir[0] = '\0';
        snprintf(fake_root, sizeof(fake_root), "%s/reshaped-placement-XXXXXX",
                 getenv("TMPDIR") ?: "/tmp");
        if (!mkdtemp(fake_root))
                return -1;
        return md_set_sysfs_root(fake_root) < 0 ? -1 : 0;
}

static int teardown_fake_root(void **state)
{
        md_set_sysfs_root(NULL);
        if (disk_dir[0] && nftw(disk_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
                return -1;
        return nftw(fake_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * md0 on sdb1 and the whole disk sdc (whose stale partition table shows
 * sdc1), partitioned into md0p1, with LVM (dm-0) and crypt (dm-1) on top;
 * laid out as the kernel does, partitions inside their disk's directory.
 */
static void build_stack(dev_t md0p1_devno)
{
        put_devno("block/md0", makedev(9, 0));
        put_file("block/md0/md/level", "raid5\n");
        put_dir("block/md0/holders");
        put_devno("block/md0/md0p1", md0p1_devno);
        put_file("block/md0/md0p1/partition", "1\n");
        put_link("block/md0/md0p1/holders/dm-0", "../../../dm-0");
        put_devno("block/dm-0", makedev(253, 0));
        put_link("block/dm-0/holders/dm-1", "../../dm-1");
        put_devno("block/dm-1", makedev(253, 1));
        put_dir("block/dm-1/holders");
        put_link("block/md0/slaves/sdb1", "../../sdb/sdb1");
        put_link("block/md0/slaves/sdc", "../../sdc");
        put_devno("block/sdb", makedev(8, 16));
        put_devno("block/sdb/sdb1", makedev(8, 17));
        put_file("block/sdb/sdb1/partition", "1\n");
        put_devno("block/sdb/sdb2", makedev(8, 18));
        put_file("block/sdb/sdb2/partition", "2\n");
        put_devno("block/sdc", makedev(8, 32));
        put_devno("block/sdc/sdc1", makedev(8, 33));
        put_file("block/sdc/sdc1/partition", "1\n");
        put_devno("block/sdd", makedev(8, 48));
}

static void assert_device(const struct placement_devices *d, const char *name,
                          dev_t devno, enum placement_relation relation)
{
        for (size_t i = 0; i < d->n; i++)
                if (strcmp(d->items[i].name, name) == 0) {
                        assert_int_equal(d->items[i].devno, devno);
                        assert_int_equal(d->items[i].relation, relation);
                        return;
                }
        fail_msg("%s is missing from the array's devices", name);
}

static void assert_no_device(const struct placement_devices *d, const char *name)
{
        for (size_t i = 0; i < d->n; i++)
                if (strcmp(d->items[i].name, name) == 0)
                        fail_msg("%s is not related to md0 but was listed", name);
}

static void test_walk_stack(void **state)
{
        struct placement_devices d = {};
        struct placement_verdict v;

        build_stack(makedev(259, 0));
        assert_int_equal(placement_array_devices(fake_root, "md0", &d, &v), 0);
        assert_int_equal(d.n, 7);
        assert_device(&d, "md0", makedev(9, 0), PLACEMENT_ARRAY);
        assert_device(&d, "md0p1", makedev(259, 0), PLACEMENT_STACKED);
        assert_device(&d, "dm-0", makedev(253, 0), PLACEMENT_STACKED);
        assert_device(&d, "dm-1", makedev(253, 1), PLACEMENT_STACKED);
        assert_device(&d, "sdb1", makedev(8, 17), PLACEMENT_MEMBER);
        assert_device(&d, "sdc", makedev(8, 32), PLACEMENT_MEMBER);
        assert_device(&d, "sdc1", makedev(8, 33), PLACEMENT_MEMBER);
        assert_no_device(&d, "sdb");
        assert_no_device(&d, "sdb2");
        assert_no_device(&d, "sdd");
        placement_devices_free(&d);
        assert_null(d.items);
}

static void test_walk_missing_array(void **state)
{
        struct placement_devices d = {};
        struct placement_verdict v;

        assert_int_equal(placement_array_devices(fake_root, "md9", &d, &v), -ENODEV);
        assert_int_equal(v.reason, PLACEMENT_CANNOT_CHECK);
        assert_non_null(strstr(v.message, "is md9 assembled?"));
        assert_null(d.items);
}

static void test_walk_bad_name(void **state)
{
        struct placement_devices d = {};
        struct placement_verdict v;

        assert_int_equal(placement_array_devices(fake_root, "../md0", &d, &v), -EINVAL);
        assert_non_null(strstr(v.message, "give one such as md0"));
        assert_int_equal(placement_array_devices(fake_root, "", &d, &v), -EINVAL);
        assert_null(d.items);
}

static void test_walk_bad_dev_file(void **state)
{
        struct placement_devices d = {};
        struct placement_verdict v;

        put_devno("block/md0", makedev(9, 0));
        put_file("block/md0/holders/dm-0/dev", "not a device number\n");
        assert_int_equal(placement_array_devices(fake_root, "md0", &d, &v), -EBADMSG);
        assert_int_equal(v.reason, PLACEMENT_CANNOT_CHECK);
        assert_non_null(strstr(v.message, "/block/md0/holders/dm-0/dev"));
        assert_null(d.items);
}

/* ---- placement_check(): real paths on this machine, fake md0 ------------ */

static bool on_fs(const char *dir, long magic)
{
        struct statfs sf;

        assert_int_equal(statfs(dir, &sf), 0);
        return sf.f_type == magic;
}

static void test_check_tmpfs_refused(void **state)
{
        struct placement_verdict v;

        if (access("/dev/shm", W_OK) < 0 || !on_fs("/dev/shm", TMPFS_MAGIC))
                skip();
        build_stack(makedev(259, 0));
        assert_int_equal(placement_check("/dev/shm/reshaped-md0.backup", "md0", MIB, &v),
                         -EMEDIUMTYPE);
        assert_int_equal(v.reason, PLACEMENT_VOLATILE);
        assert_non_null(strstr(v.message, "/dev/shm/reshaped-md0.backup is on tmpfs"));
}

/* A directory on a real disk: /var/tmp (the FHS keeps it across reboots). */
static const char *make_disk_dir(void)
{
        snprintf(disk_dir, sizeof(disk_dir), "/var/tmp/reshaped-placement-XXXXXX");
        assert_non_null(mkdtemp(disk_dir));
        if (on_fs(disk_dir, TMPFS_MAGIC) || on_fs(disk_dir, RAMFS_MAGIC))
                skip();
        return disk_dir;
}

static void test_check_disk_accepted(void **state)
{
        char path[PATH_MAX];
        const char *dir;
        struct placement_verdict v;
        int fd;

        dir = make_disk_dir();
        build_stack(makedev(259, 0));
        assert_true((size_t) snprintf(path, sizeof(path), "%s/md0.backup", dir) < sizeof(path));

        /* not there yet: judged by its directory */
        assert_int_equal(placement_check(path, "md0", MIB, &v), 0);
        assert_int_equal(v.reason, PLACEMENT_OK);

        /* preallocated and already large enough */
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(posix_fallocate(fd, 0, MIB), 0);
        assert_int_equal(close(fd), 0);
        assert_int_equal(placement_check(path, "md0", MIB, &v), 0);
        assert_int_equal(v.reason, PLACEMENT_OK);

        /* no disk holds an exabyte */
        assert_int_equal(placement_check(path, "md0", UINT64_MAX / 2, &v), -ENOSPC);
        assert_int_equal(v.reason, PLACEMENT_NO_SPACE);
}

/* The fake md0p1 (or member) claims the device number of the disk that
 * holds a real directory, as it would if that filesystem lived on it. */
static void test_check_stacked_and_member_refused(void **state)
{
        char path[PATH_MAX];
        const char *dir;
        struct placement_verdict v;
        struct stat st;

        dir = make_disk_dir();
        assert_int_equal(stat(dir, &st), 0);
        assert_true((size_t) snprintf(path, sizeof(path), "%s/md0.backup", dir) < sizeof(path));

        build_stack(st.st_dev);
        assert_int_equal(placement_check(path, "md0", MIB, &v), -EBUSY);
        assert_int_equal(v.reason, PLACEMENT_STACKED_ON_ARRAY);
        assert_non_null(strstr(v.message, "is on md0p1, which is built on md0"));

        /* the same disk as a member of md0 instead */
        put_devno("block/md0/md0p1", makedev(259, 0));
        put_devno("block/sdb/sdb1", st.st_dev);
        assert_int_equal(placement_check(path, "md0", MIB, &v), -EBUSY);
        assert_int_equal(v.reason, PLACEMENT_ON_MEMBER);
        assert_non_null(strstr(v.message, "sdb1, which is (part of) a member of md0"));
}

static void test_check_block_device(void **state)
{
        struct placement_verdict v;
        struct stat st;
        int fd;

        if (stat("/dev/loop0", &st) < 0 || !S_ISBLK(st.st_mode))
                skip();
        fd = open("/dev/loop0", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                skip();
        assert_int_equal(close(fd), 0);

        build_stack(makedev(259, 0));
        put_devno("block/dm-1", st.st_rdev);
        assert_int_equal(placement_check("/dev/loop0", "md0", MIB, &v), -EBUSY);
        assert_int_equal(v.reason, PLACEMENT_STACKED_ON_ARRAY);
        assert_non_null(strstr(v.message, "Backup device /dev/loop0 is on dm-1"));
}

static void test_check_bad_paths(void **state)
{
        char path[PATH_MAX];
        const char *dir;
        struct placement_verdict v;

        build_stack(makedev(259, 0));
        dir = make_disk_dir();

        assert_true((size_t) snprintf(path, sizeof(path), "%s/no-such-dir/md0.backup", dir) < sizeof(path));
        assert_int_equal(placement_check(path, "md0", MIB, &v), -ENOENT);
        assert_int_equal(v.reason, PLACEMENT_BAD_PATH);
        assert_non_null(strstr(v.message, "create it first"));

        assert_int_equal(placement_check(dir, "md0", MIB, &v), -EISDIR);
        assert_int_equal(v.reason, PLACEMENT_BAD_PATH);

        assert_true((size_t) snprintf(path, sizeof(path), "%s/dangling", dir) < sizeof(path));
        assert_int_equal(symlink("/dev/shm/reshaped-no-such-file", path), 0);
        assert_int_equal(placement_check(path, "md0", MIB, &v), -ELOOP);
        assert_int_equal(v.reason, PLACEMENT_BAD_PATH);

        assert_int_equal(placement_check("/dev/null", "md0", MIB, &v), -EINVAL);
        assert_int_equal(v.reason, PLACEMENT_BAD_PATH);

        assert_int_equal(placement_check("", "md0", MIB, &v), -EINVAL);
        assert_int_equal(v.reason, PLACEMENT_BAD_PATH);
}

/*
 * The real /sys and the real mount: with the disk that holds /var/tmp
 * standing in for the array, a file there is on "the array" (or, when the
 * filesystem is on a partition, on something built on it). Skipped where
 * that filesystem has no block device in sysfs (overlayfs, NFS).
 */
static void test_check_real_sysfs(void **state)
{
        char path[PATH_MAX], link[PATH_MAX], target[PATH_MAX], whole[PATH_MAX];
        const char *dir, *name;
        enum placement_reason expected = PLACEMENT_ON_ARRAY;
        struct placement_verdict v;
        struct stat st;
        char *slash;
        ssize_t n;

        dir = make_disk_dir();
        assert_int_equal(stat(dir, &st), 0);
        snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(st.st_dev), minor(st.st_dev));
        n = readlink(link, target, sizeof(target) - 1);
        if (n < 0)
                skip();
        target[n] = '\0';
        slash = strrchr(target, '/');
        name = slash + 1;
        assert_true((size_t) snprintf(whole, sizeof(whole), "/sys/block/%s", name) < sizeof(whole));
        if (access(whole, F_OK) < 0) {
                /* a partition: its disk is the directory above it */
                *slash = '\0';
                name = strrchr(target, '/') + 1;
                expected = PLACEMENT_STACKED_ON_ARRAY;
        }
        assert_int_equal(md_set_sysfs_root("/sys"), 0);
        assert_true((size_t) snprintf(path, sizeof(path), "%s/md0.backup", dir) < sizeof(path));

        print_message("%s is on %u:%u, under %s\n", dir, major(st.st_dev), minor(st.st_dev), name);
        assert_int_equal(placement_check(path, name, MIB, &v), -EBUSY);
        assert_int_equal(v.reason, expected);
        assert_non_null(strstr(v.message, name));
}

static void test_check_missing_array(void **state)
{
        struct placement_verdict v;

        assert_int_equal(placement_check("/var/tmp/md0.backup", "md0", MIB, &v), -ENODEV);
        assert_int_equal(v.reason, PLACEMENT_CANNOT_CHECK);
}

/* ---- Stacking under the backup: fake sysfs and a fake mount table ------- */

/*
 * Real directories under disk_dir stand for mount points; the fake
 * mountinfo mounts them from fake devices, whose links dev/block/MAJ:MIN
 * and loop/backing_file live in the fake sysfs. The device numbers (majors
 * 3000 and up) are ones no real disk has.
 */
static char mountinfo[PATH_MAX];
static char mount_lines[8192];

static void sub_dir(char path[PATH_MAX], const char *name)
{
        assert_true((size_t) snprintf(path, PATH_MAX, "%s/%s", disk_dir, name) < PATH_MAX);
        assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static void put_block_link(dev_t devno, const char *target)
{
        char rel[64];

        snprintf(rel, sizeof(rel), "dev/block/%u:%u", major(devno), minor(devno));
        put_link(rel, target);
}

/* A mount of fake device devno (0: none) on disk_dir/dir. */
static void mount_fake(const char *dir, dev_t devno, const char *type, const char *options)
{
        char path[PATH_MAX];
        size_t len = strlen(mount_lines);

        sub_dir(path, dir);
        assert_true((size_t) snprintf(mount_lines + len, sizeof(mount_lines) - len,
                                      "%zu 1 %u:%u / %s rw - %s none %s\n", 20 + len % 1000,
                                      major(devno), minor(devno), path, type, options) <
                    sizeof(mount_lines) - len);
}

static void write_mountinfo(void)
{
        FILE *f;

        assert_true((size_t) snprintf(mountinfo, sizeof(mountinfo), "%s/mountinfo", fake_root) <
                    sizeof(mountinfo));
        f = fopen(mountinfo, "we");
        assert_non_null(f);
        assert_true(fputs("1 0 3999:0 / / rw - ext4 none rw\n", f) >= 0);
        assert_true(fputs(mount_lines, f) >= 0);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(placement_set_mount_table(mountinfo), 0);
}

static void put_loop(const char *name, dev_t devno, const char *backing_file)
{
        char rel[PATH_MAX], target[PATH_MAX];

        snprintf(rel, sizeof(rel), "block/%s", name);
        put_devno(rel, devno);
        snprintf(rel, sizeof(rel), "block/%s/loop/backing_file", name);
        snprintf(target, sizeof(target), "%s\n", backing_file);
        put_file(rel, target);
        snprintf(target, sizeof(target), "../../block/%s", name);
        put_block_link(devno, target);
}

/* md0 (3009:0) on sdb1 (3008:17) and sdc (3008:32), partitioned into md0p1
 * (3259:1) and md0p2 (3259:2); sde (3008:64) is unrelated, dm-3 (3253:3)
 * a device-mapper target over part of sdc. */
static void build_far_stack(void)
{
        mount_lines[0] = '\0';
        make_disk_dir();
        put_devno("block/md0", makedev(3009, 0));
        put_file("block/md0/md/level", "raid5\n");
        put_dir("block/md0/holders");
        put_devno("block/md0/md0p1", makedev(3259, 1));
        put_file("block/md0/md0p1/partition", "1\n");
        put_devno("block/md0/md0p2", makedev(3259, 2));
        put_file("block/md0/md0p2/partition", "2\n");
        put_link("block/md0/slaves/sdb1", "../../sdb/sdb1");
        put_link("block/md0/slaves/sdc", "../../sdc");
        put_devno("block/sdb", makedev(3008, 16));
        put_devno("block/sdb/sdb1", makedev(3008, 17));
        put_file("block/sdb/sdb1/partition", "1\n");
        put_devno("block/sdc", makedev(3008, 32));
        put_devno("block/sde", makedev(3008, 64));
        put_devno("block/dm-3", makedev(3253, 3));
        put_link("block/dm-3/slaves/sdc", "../../sdc");
        put_block_link(makedev(3009, 0), "../../block/md0");
        put_block_link(makedev(3259, 1), "../../block/md0/md0p1");
        put_block_link(makedev(3259, 2), "../../block/md0/md0p2");
        put_block_link(makedev(3008, 16), "../../block/sdb");
        put_block_link(makedev(3008, 17), "../../block/sdb/sdb1");
        put_block_link(makedev(3008, 32), "../../block/sdc");
        put_block_link(makedev(3008, 64), "../../block/sde");
        put_block_link(makedev(3253, 3), "../../block/dm-3");
}

/* A backing file img in disk_dir/dir. */
static const char *backing(const char *dir)
{
        static char path[PATH_MAX];
        char d[PATH_MAX];
        int fd;

        sub_dir(d, dir);
        assert_true((size_t) snprintf(path, sizeof(path), "%s/img", d) < sizeof(path));
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(close(fd), 0);
        return path;
}

static void check_refused(const char *dir, int ret, enum placement_reason reason, const char *says)
{
        char path[PATH_MAX];
        struct placement_verdict v;

        write_mountinfo();
        assert_true((size_t) snprintf(path, sizeof(path), "%s/%s/md0.backup", disk_dir, dir) <
                    sizeof(path));
        print_message("%s\n", path);
        assert_int_equal(placement_check(path, "md0", MIB, &v), ret);
        print_message("%s\n", v.message);
        assert_int_equal(v.reason, reason);
        assert_non_null(strstr(v.message, says));
}

static void test_stack_loop_on_array(void **state)
{
        char says[PATH_MAX + 128];

        build_far_stack();
        mount_fake("arrayfs", makedev(3009, 0), "ext4", "rw");
        put_loop("loop0", makedev(3007, 0), backing("arrayfs"));
        mount_fake("loopfs", makedev(3007, 0), "ext4", "rw");
        snprintf(says, sizeof(says), "is on loop0, whose backing file %s/arrayfs/img lies on md0, "
                 "the array being reshaped", disk_dir);
        check_refused("loopfs", -EBUSY, PLACEMENT_ON_ARRAY, says);
}

static void test_stack_loop_on_array_partition(void **state)
{
        char says[PATH_MAX + 128];

        build_far_stack();
        mount_fake("partfs", makedev(3259, 2), "ext4", "rw");
        put_loop("loop0", makedev(3007, 0), backing("partfs"));
        mount_fake("loopfs", makedev(3007, 0), "ext4", "rw");
        snprintf(says, sizeof(says), "is on loop0, whose backing file %s/partfs/img lies on md0p2, "
                 "a partition of md0, the array being reshaped", disk_dir);
        check_refused("loopfs", -EBUSY, PLACEMENT_ON_ARRAY, says);
}

static void test_stack_nested_loops(void **state)
{
        char says[3 * PATH_MAX];

        build_far_stack();
        mount_fake("partfs", makedev(3259, 1), "ext4", "rw");
        put_loop("loop0", makedev(3007, 0), backing("partfs"));
        mount_fake("loop0fs", makedev(3007, 0), "ext4", "rw");
        put_loop("loop1", makedev(3007, 1), backing("loop0fs"));
        mount_fake("loop1fs", makedev(3007, 1), "ext4", "rw");
        snprintf(says, sizeof(says), "is on loop1, whose backing file %s/loop0fs/img lies on loop0, "
                 "whose backing file %s/partfs/img lies on md0p1, a partition of md0, the array",
                 disk_dir, disk_dir);
        check_refused("loop1fs", -EBUSY, PLACEMENT_ON_ARRAY, says);
}

static void test_stack_dm_over_member(void **state)
{
        build_far_stack();
        mount_fake("dmfs", makedev(3253, 3), "xfs", "rw");
        check_refused("dmfs", -EBUSY, PLACEMENT_ON_MEMBER,
                      "is on dm-3, which is built on sdc, which is (part of) a member of md0");
}

static void test_stack_loop_on_unrelated_disk(void **state)
{
        build_far_stack();
        mount_fake("diskfs", makedev(3008, 64), "ext4", "rw");
        put_loop("loop0", makedev(3007, 0), backing("diskfs"));
        mount_fake("loopfs", makedev(3007, 0), "ext4", "rw");
        check_refused("loopfs", 0, PLACEMENT_OK, "is a safe place for the backup of md0");
}

static void test_stack_loop_on_tmpfs(void **state)
{
        char says[PATH_MAX + 128];

        build_far_stack();
        mount_fake("shm", 0, "tmpfs", "rw");
        put_loop("loop0", makedev(3007, 0), backing("shm"));
        mount_fake("loopfs", makedev(3007, 0), "ext4", "rw");
        snprintf(says, sizeof(says), "is on loop0, whose backing file %s/shm/img lies on tmpfs, "
                 "which does not survive a reboot", disk_dir);
        check_refused("loopfs", -EMEDIUMTYPE, PLACEMENT_VOLATILE, says);
}

static void test_stack_overlay(void **state)
{
        char options[4 * PATH_MAX], says[2 * PATH_MAX];

        build_far_stack();
        mount_fake("upper", 0, "tmpfs", "rw");
        snprintf(options, sizeof(options), "rw,lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work",
                 disk_dir, disk_dir, disk_dir);
        mount_fake("merged", 0, "overlay", options);
        snprintf(says, sizeof(says), "is on overlay, whose upper directory %s/upper lies on tmpfs, "
                 "which does not survive a reboot", disk_dir);
        check_refused("merged", -EMEDIUMTYPE, PLACEMENT_VOLATILE, says);

        /* the upper directory on a disk: the overlay is as safe as it */
        mount_lines[0] = '\0';
        mount_fake("upper", makedev(3008, 64), "ext4", "rw");
        mount_fake("merged", 0, "overlay", options);
        check_refused("merged", 0, PLACEMENT_OK, "safe place");

        /* and on the array */
        mount_lines[0] = '\0';
        mount_fake("upper", makedev(3259, 1), "ext4", "rw");
        mount_fake("merged", 0, "overlay", options);
        check_refused("merged", -EBUSY, PLACEMENT_ON_ARRAY, "whose upper directory");
}

static void test_stack_loop_backing_file_gone(void **state)
{
        char file[PATH_MAX + 32], says[2 * PATH_MAX];

        build_far_stack();
        mount_fake("loopfs", makedev(3007, 0), "ext4", "rw");
        snprintf(file, sizeof(file), "%s/gone/img (deleted)", disk_dir);
        put_loop("loop0", makedev(3007, 0), file);
        snprintf(says, sizeof(says), "is on loop0, whose backing file %s has been deleted", file);
        check_refused("loopfs", -ENOENT, PLACEMENT_CANNOT_CHECK, says);

        /* a name that does not exist here (another mount namespace) */
        snprintf(file, sizeof(file), "%s/gone/img", disk_dir);
        put_file("block/loop0/loop/backing_file", file);
        check_refused("loopfs", -ENOENT, PLACEMENT_CANNOT_CHECK, "cannot be found");

        /* and one that cannot be read at all: a directory, even for root */
        assert_int_equal(unlink(strcat(strcpy(file, fake_root), "/block/loop0/loop/backing_file")), 0);
        put_dir("block/loop0/loop/backing_file");
        check_refused("loopfs", -EISDIR, PLACEMENT_CANNOT_CHECK, "whose backing file cannot be read");
}

/* Twenty loops, each on a file on the next: deeper than the bound, which
 * stands against cycles the kernel should never allow. */
static void test_stack_depth_bound(void **state)
{
        build_far_stack();
        for (unsigned i = 0; i < 20; i++) {
                char name[16], dir[16], next[16];

                snprintf(name, sizeof(name), "loop%u", i);
                snprintf(dir, sizeof(dir), "fs%u", i);
                snprintf(next, sizeof(next), "fs%u", i + 1);
                mount_fake(dir, makedev(3007, i), "ext4", "rw");
                put_loop(name, makedev(3007, i), backing(next));
        }
        mount_fake("fs20", makedev(3008, 64), "ext4", "rw");
        check_refused("fs0", -ELOOP, PLACEMENT_CANNOT_CHECK, "devices and filesystems deep");
}

static int teardown_stack(void **state)
{
        placement_set_mount_table(NULL);
        return teardown_fake_root(state);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_devno_macro),
                cmocka_unit_test(test_judge_table),
                cmocka_unit_test(test_judge_message_says_what_to_do),
                cmocka_unit_test_setup_teardown(test_walk_stack, setup_fake_root, teardown_fake_root),
                cmocka_unit_test_setup_teardown(test_walk_missing_array, setup_fake_root, teardown_fake_root),
                cmocka_unit_test_setup_teardown(test_walk_bad_name, setup_fake_root, teardown_fake_root),
                cmocka_unit_test_setup_teardown(test_walk_bad_dev_file, setup_fake_root, teardown_fake_root),
                cmocka_unit_test_setup_teardown(test_check_tmpfs_refused, setup_fake_root, teardown_fake_root),
                cmocka_unit_test_setup_teardown(test_check_disk_accepted, setup_fake_root, teardown_fake_root),
                cmocka_unit_test_setup_teardown(test_check_stacked_and_member_refused, setup_fake_root, teardown_fake_root),
                cmocka_unit_test_setup_teardown(test_check_block_device, setup_fake_root, teardown_fake_root),
                cmocka_unit_test_setup_teardown(test_check_bad_paths, setup_fake_root, teardown_fake_root),
                cmocka_unit_test_setup_teardown(test_check_real_sysfs, setup_fake_root, teardown_fake_root),
                cmocka_unit_test_setup_teardown(test_check_missing_array, setup_fake_root, teardown_fake_root),
                cmocka_unit_test_setup_teardown(test_stack_loop_on_array, setup_fake_root, teardown_stack),
                cmocka_unit_test_setup_teardown(test_stack_loop_on_array_partition, setup_fake_root, teardown_stack),
                cmocka_unit_test_setup_teardown(test_stack_nested_loops, setup_fake_root, teardown_stack),
                cmocka_unit_test_setup_teardown(test_stack_dm_over_member, setup_fake_root, teardown_stack),
                cmocka_unit_test_setup_teardown(test_stack_loop_on_unrelated_disk, setup_fake_root, teardown_stack),
                cmocka_unit_test_setup_teardown(test_stack_loop_on_tmpfs, setup_fake_root, teardown_stack),
                cmocka_unit_test_setup_teardown(test_stack_overlay, setup_fake_root, teardown_stack),
                cmocka_unit_test_setup_teardown(test_stack_loop_backing_file_gone, setup_fake_root, teardown_stack),
                cmocka_unit_test_setup_teardown(test_stack_depth_bound, setup_fake_root, teardown_stack),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
