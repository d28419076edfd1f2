// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which backup `reshaped restore` accepts for which members: the reshape
 * the members' superblocks record (read from image files), the backup's
 * identity compared field by field, one node per member, and the CLI's
 * refusals before anything is written (a fake sysfs root with no array).
 */
#include <endian.h>
#include <fcntl.h>
#include <linux/raid/md_p.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "reshaped/backup/backup.h"
#include "reshaped/md/md-assemble.h"
#include "reshaped/md/md.h"
#include "reshaped/supervise/record.h"
#include "reshaped/restore/restore.h"

static const uint8_t uuid_a[16] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                    0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf0, 0x01 };
static const uint8_t uuid_b[16] = { 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18,
                                    0x29, 0x3a, 0x4b, 0x5c, 0x6d, 0x7e, 0x8f, 0x90 };

/* One member's superblock as a test describes it. */
struct sb_spec {
        unsigned major, minor;
        const uint8_t *uuid;
        uint64_t events;
        bool reshape;
        int32_t level, new_level;
        uint32_t raid_disks;            /* the new count, as md stores it */
        int32_t delta_disks;
        uint32_t chunk_bytes, new_chunk_bytes;
        uint32_t layout, new_layout;
        uint64_t component_sectors;
        bool backwards_flag;            /* 1.x MD_FEATURE_RESHAPE_BACKWARDS */
        uint64_t reshape_position;
        unsigned member;                /* this_disk.number / device_uuid[0] */
};

static const struct sb_spec chunk_change = {
        .major = 1, .minor = 2, .uuid = uuid_a, .events = 12, .reshape = true,
        .level = 5, .new_level = 5, .raid_disks = 4, .delta_disks = 0,
        .chunk_bytes = 65536, .new_chunk_bytes = 131072, .layout = 2, .new_layout = 2,
        .component_sectors = 2048, .reshape_position = 0,
};

static uint32_t fold(uint64_t sum)
{
        return (uint32_t) ((sum & 0xffffffff) + (sum >> 32));
}

static void build_sb1(uint8_t *buf, const struct sb_spec *s, uint64_t offset_bytes)
{
        struct mdp_superblock_1 *sb = (struct mdp_superblock_1 *) buf;
        const uint32_t max_dev = 8;
        uint64_t sum = 0;

        memset(buf, 0, MD_SUPER_READ_BYTES);
        sb->magic = htole32(MD_SB_MAGIC);
        sb->major_version = htole32(1);
        memcpy(sb->set_uuid, s->uuid, 16);
        sb->level = htole32((uint32_t) s->level);
        sb->layout = htole32(s->layout);
        sb->size = htole64(s->component_sectors);
        sb->chunksize = htole32(s->chunk_bytes / 512);
        sb->raid_disks = htole32(s->raid_disks);
        sb->data_offset = htole64(s->minor == 0 ? 0 : 16);
        sb->data_size = htole64(s->component_sectors);
        sb->super_offset = htole64(offset_bytes / 512);
        sb->device_uuid[0] = (uint8_t) (s->member + 1);
        sb->dev_number = htole32(s->member);
        sb->events = htole64(s->events);
        sb->max_dev = htole32(max_dev);
        if (s->reshape) {
                sb->feature_map = htole32(MD_FEATURE_RESHAPE_ACTIVE |
                                          (s->backwards_flag ? MD_FEATURE_RESHAPE_BACKWARDS : 0));
                sb->reshape_position = htole64(s->reshape_position);
                sb->new_level = htole32((uint32_t) s->new_level);
                sb->delta_disks = htole32((uint32_t) s->delta_disks);
                sb->new_layout = htole32(s->new_layout);
                sb->new_chunk = htole32(s->new_chunk_bytes / 512);
        }
        for (uint32_t i = 0; i < max_dev; i++)
                sb->dev_roles[i] = htole16(i < s->raid_disks ? (uint16_t) i : 0xffff);
        for (size_t i = 0; i < 256 + 2 * max_dev; i += 4) {
                uint32_t w;

                memcpy(&w, buf + i, 4);
                sum += le32toh(w);
        }
        sb->sb_csum = htole32(fold(sum));
}

static void build_sb0(uint8_t *buf, const struct sb_spec *s)
{
        mdp_super_t *sb = (mdp_super_t *) buf;
        uint64_t sum = 0;

        memset(buf, 0, MD_SUPER_READ_BYTES);
        sb->md_magic = MD_SB_MAGIC;
        sb->minor_version = s->reshape ? 91 : 90;
        memcpy(&sb->set_uuid0, s->uuid, 4);
        memcpy(&sb->set_uuid1, s->uuid + 4, 4);
        memcpy(&sb->set_uuid2, s->uuid + 8, 4);
        memcpy(&sb->set_uuid3, s->uuid + 12, 4);
        sb->level = (uint32_t) s->level;
        sb->size = (uint32_t) (s->component_sectors / 2);
        sb->raid_disks = s->raid_disks;
        sb->events_lo = (uint32_t) s->events;
        sb->events_hi = (uint32_t) (s->events >> 32);
        sb->layout = s->layout;
        sb->chunk_size = s->chunk_bytes;
        sb->this_disk.number = s->member;
        if (s->reshape) {
                sb->reshape_position = s->reshape_position;
                sb->new_level = (uint32_t) s->new_level;
                sb->delta_disks = (uint32_t) s->delta_disks;
                sb->new_layout = s->new_layout;
                sb->new_chunk = s->new_chunk_bytes;
        }
        for (size_t i = 0; i < MD_SB_BYTES; i += 4) {
                uint32_t w;

                memcpy(&w, buf + i, 4);
                sum += w;
        }
        sb->sb_csum = fold(sum);
}

/* A member image of @size_bytes holding @s's superblock where md puts it. */
static void write_image(const char *path, uint64_t size_bytes, const struct sb_spec *s)
{
        static uint8_t buf[MD_SUPER_READ_BYTES];
        uint64_t offset;
        int fd;

        assert_int_equal(md_super_offset_bytes(s->major, s->minor, size_bytes, &offset), 0);
        if (s->major == 0)
                build_sb0(buf, s);
        else
                build_sb1(buf, s, offset);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, (off_t) size_bytes), 0);
        assert_int_equal(pwrite(fd, buf, sizeof(buf), (off_t) offset), (ssize_t) sizeof(buf));
        close(fd);
}

struct fixture {
        char dir[64];
        char *root;     /* fake sysfs: an empty tree, no md0 */
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        char path[128];

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/reshaped-restore-id-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(path, sizeof(path), "%s/sys", f->dir);
        assert_int_equal(mkdir(path, 0700), 0);
        snprintf(path, sizeof(path), "%s/sys/block", f->dir);
        assert_int_equal(mkdir(path, 0700), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

static char *fpath(const struct fixture *f, const char *name)
{
        static char paths[8][128];
        static unsigned next;
        char *p = paths[next++ % 8];

        snprintf(p, sizeof(paths[0]), "%s/%s", f->dir, name);
        return p;
}

static struct md_member_super probe(const char *path)
{
        struct md_member_super m = {};

        assert_int_equal(md_member_super_probe(path, &m), 0);
        return m;
}

/* What a backup taken by the supervisor for @s's reshape records. */
static struct backup_identity identity_of(const struct sb_spec *s, uint64_t events)
{
        struct backup_identity id = {
                .events = events,
                .before = { s->level, (uint32_t) ((int64_t) s->raid_disks - s->delta_disks),
                            s->chunk_bytes, s->layout },
                .after = { s->new_level, s->raid_disks, s->new_chunk_bytes, s->new_layout },
                .component_dev_sectors = s->component_sectors,
                .backwards = s->delta_disks < 0 || s->backwards_flag,
        };

        memcpy(id.uuid, s->uuid, 16);
        return id;
}

static void assert_identity_equal(const struct backup_identity *a, const struct backup_identity *b)
{
        struct backup_header h = { .has_extension = true, .identity = *a };
        struct restore_mismatch m[RESTORE_MISMATCH_MAX];
        unsigned n = restore_identity_diff(&h, b, m);

        if (n)
                fail_msg("%s: %s vs %s", m[0].field, m[0].backup, m[0].array);
}

/* The superblock's reshape, in the terms the supervisor records it. */
static void test_probe_identity(void **state)
{
        struct fixture *f = *state;
        struct sb_spec grow = chunk_change, shrink090 = chunk_change, shrink12 = chunk_change;
        struct backup_identity want;
        struct md_member_super m;

        grow.chunk_bytes = grow.new_chunk_bytes = 65536;
        grow.raid_disks = 4;
        grow.delta_disks = 1;
        shrink090.major = 0;
        shrink090.minor = 90;
        shrink090.raid_disks = 4;
        shrink090.delta_disks = -1;
        shrink12.raid_disks = 4;
        shrink12.delta_disks = -1;

        const struct sb_spec *specs[] = { &chunk_change, &grow, &shrink090, &shrink12 };
        for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
                write_image(fpath(f, "m0"), 2 << 20, specs[i]);
                m = probe(fpath(f, "m0"));
                want = identity_of(specs[i], specs[i]->events);
                assert_identity_equal(&m.identity, &want);
                assert_int_equal(m.identity.before.raid_disks, want.before.raid_disks);
                assert_int_equal(m.backwards, specs[i]->delta_disks < 0);
                free(m.devnode);
        }
        /* No reshape: before and after are the array as it is. */
        grow.reshape = false;
        write_image(fpath(f, "m0"), 2 << 20, &grow);
        m = probe(fpath(f, "m0"));
        assert_false(m.reshape_active);
        assert_int_equal(m.identity.before.raid_disks, 4);
        assert_int_equal(m.identity.after.raid_disks, 4);
        free(m.devnode);
}

static void expect_only(const struct backup_identity *backup, const struct backup_identity *sb,
                        const char *field, const char *bval, const char *aval)
{
        struct backup_header h = { .has_extension = true, .identity = *backup };
        struct restore_mismatch m[RESTORE_MISMATCH_MAX];

        assert_int_equal(restore_identity_diff(&h, sb, m), 1);
        assert_string_equal(m[0].field, field);
        assert_string_equal(m[0].backup, bval);
        assert_string_equal(m[0].array, aval);
}

/* Each field on its own: the right one is named with both values. */
static void test_identity_diff_fields(void **state)
{
        const struct backup_identity sb = identity_of(&chunk_change, 12);
        struct backup_identity b;
        struct backup_header h = { .identity = sb };
        struct restore_mismatch m[RESTORE_MISMATCH_MAX];

        (void) state;
        b = sb;
        b.uuid[15] ^= 1;
        expect_only(&b, &sb, "array UUID", "11223344:55667788:99aabbcc:ddeef000",
                    "11223344:55667788:99aabbcc:ddeef001");
        b = sb;
        b.before.chunk_bytes = 32768;
        expect_only(&b, &sb, "chunk size before the reshape", "32768 bytes", "65536 bytes");
        b = sb;
        b.after.chunk_bytes = 65536;
        expect_only(&b, &sb, "chunk size after the reshape", "65536 bytes", "131072 bytes");
        b = sb;
        b.after.layout = 0;
        expect_only(&b, &sb, "layout after the reshape", "0", "2");
        b = sb;
        b.before.layout = 5;
        expect_only(&b, &sb, "layout before the reshape", "5", "2");
        b = sb;
        b.before.raid_disks = 3;
        expect_only(&b, &sb, "raid disks before the reshape", "3", "4");
        b = sb;
        b.after.raid_disks = 5;
        expect_only(&b, &sb, "raid disks after the reshape", "5", "4");
        b = sb;
        b.before.level = 6;
        expect_only(&b, &sb, "level before the reshape", "raid6", "raid5");
        b = sb;
        b.after.level = 6;
        expect_only(&b, &sb, "level after the reshape", "raid6", "raid5");
        b = sb;
        b.component_dev_sectors = 4096;
        expect_only(&b, &sb, "component size", "4096 sectors", "2048 sectors");
        b = sb;
        b.backwards = true;
        expect_only(&b, &sb, "direction", "backwards", "forwards");
        b = sb;
        b.events = 14;
        expect_only(&b, &sb, "md event count (the backup's is newer)", "14", "12");
        /* One newer is md taking back the event of a dirty spell. */
        b = sb;
        b.events = 13;
        h.has_extension = true;
        h.identity = b;
        assert_int_equal(restore_identity_diff(&h, &sb, m), 0);
        /* An older event count is every backup's: md wrote since. */
        b = sb;
        b.events = 3;
        h.has_extension = true;
        h.identity = b;
        assert_int_equal(restore_identity_diff(&h, &sb, m), 0);
        /* mdadm's header records the UUID only. */
        h.has_extension = false;
        h.identity.before.chunk_bytes = 4096;
        assert_int_equal(restore_identity_diff(&h, &sb, m), 0);
        h.identity.uuid[0] ^= 1;
        assert_int_equal(restore_identity_diff(&h, &sb, m), 1);
}

/* A whole disk and its last partition show one 0.90 superblock; two paths
 * of a multipath device show one 1.2 superblock. */
static void test_dedup(void **state)
{
        struct fixture *f = *state;
        struct sb_spec s0 = chunk_change, s1 = chunk_change;
        struct md_member_super m[5];
        size_t n = 5;

        s0.major = 0;
        s0.minor = 90;
        /* The "disk" is 32 KiB longer: 0.90's 64 KiB alignment puts the
         * superblock at the same offset from the end as on the partition. */
        write_image(fpath(f, "sdb"), (2 << 20) + 32768, &s0);
        write_image(fpath(f, "sdb1"), 2 << 20, &s0);
        s1.member = 1;
        write_image(fpath(f, "sdc"), 2 << 20, &s1);
        write_image(fpath(f, "dm-0"), 2 << 20, &s1);
        s1.member = 2;
        write_image(fpath(f, "sdd"), 2 << 20, &s1);

        m[0] = probe(fpath(f, "sdb"));
        m[1] = probe(fpath(f, "sdc"));
        m[2] = probe(fpath(f, "sdb1"));
        m[3] = probe(fpath(f, "dm-0"));
        m[4] = probe(fpath(f, "sdd"));
        m[1].held = true;   /* the multipath map holds its path */
        md_member_supers_dedup(m, &n);
        assert_int_equal(n, 3);
        assert_string_equal(m[0].devnode, fpath(f, "sdb1"));
        assert_string_equal(m[1].devnode, fpath(f, "dm-0"));
        assert_string_equal(m[2].devnode, fpath(f, "sdd"));
        for (size_t i = 0; i < n; i++)
                free(m[i].devnode);

        /* A node too small for what the superblock says the member uses
         * is not the member, however small. */
        {
                struct md_member_super a = { .devnode = strdup("/dev/small"), .member_id = { 7 },
                                             .dev_size_bytes = 1 << 20, .used_bytes = 2 << 20 };
                struct md_member_super b = { .devnode = strdup("/dev/big"), .member_id = { 7 },
                                             .dev_size_bytes = 4 << 20, .used_bytes = 2 << 20 };
                struct md_member_super v[2] = { a, b };

                n = 2;
                md_member_supers_dedup(v, &n);
                assert_int_equal(n, 1);
                assert_string_equal(v[0].devnode, "/dev/big");
                free(v[0].devnode);
        }
}

/* How run_reshaped() runs the binary in the fixture. */
struct run_how {
        const char *state_dir;       /* RESHAPED_STATE_DIR */
        const char *run_dir;         /* RESHAPED_RUN_DIR, or NULL: unset */
        bool stdout_too;             /* @out gets stdout as well as stderr */
};

/* Runs the built binary with @prefix then @args (both NULL-terminated)
 * over the fixture's fake sysfs; returns its exit status, output in @out. */
static int run_reshaped(const struct fixture *f, const struct run_how *how, char *out, size_t out_size,
                        const char *const *prefix, const char *const *args)
{
        const char *bin = getenv("RESHAPED_TEST_BINARY");
        char outpath[] = "/tmp/reshaped-test-out-XXXXXX";
        const char *argv[16] = { bin };
        size_t n_args = 1;
        int fd, status;
        ssize_t n;
        pid_t pid;

        assert_non_null(bin);
        for (size_t i = 0; prefix[i]; i++)
                argv[n_args++] = prefix[i];
        for (size_t i = 0; args[i]; i++)
                argv[n_args++] = args[i];
        assert_true(n_args < sizeof(argv) / sizeof(argv[0]));
        fd = mkstemp(outpath);
        assert_true(fd >= 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);

                if (null < 0 || dup2(how->stdout_too ? fd : null, STDOUT_FILENO) < 0 ||
                    dup2(fd, STDERR_FILENO) < 0)
                        _exit(127);
                setenv("RESHAPED_SYSFS_ROOT", fpath(f, "sys"), 1);
                setenv("RESHAPED_STATE_DIR", how->state_dir, 1);
                if (how->run_dir)
                        setenv("RESHAPED_RUN_DIR", how->run_dir, 1);
                execv(bin, (char *const *) argv);
                _exit(127);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        n = pread(fd, out, out_size - 1, 0);
        assert_true(n >= 0);
        out[n] = '\0';
        close(fd);
        unlink(outpath);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

/* `reshaped restore /dev/md0 --no-supervise ARGS...`; stderr in @out. */
static int run_restore(const struct fixture *f, char *out, size_t out_size, const char *const *args)
{
        const struct run_how how = { .state_dir = f->dir };

        return run_reshaped(f, &how, out, out_size,
                            (const char *const[]) { "restore", "/dev/md0", "--no-supervise", NULL }, args);
}

#define assert_contains(haystack, needle) \
        do { \
                if (!strstr((haystack), (needle))) \
                        fail_msg("output lacks \"%s\":\n%s", (needle), (haystack)); \
        } while (0)
#define assert_lacks(haystack, needle) \
        do { \
                if (strstr((haystack), (needle))) \
                        fail_msg("output has \"%s\":\n%s", (needle), (haystack)); \
        } while (0)

/* A backup holding array sectors 0-128 taken for @id. */
static void write_backup(const char *path, const struct backup_identity *id)
{
        struct backup_file *bf = NULL;
        void *data = NULL;

        assert_int_equal(posix_memalign(&data, 4096, 65536), 0);
        memset(data, 0x5a, 65536);
        assert_int_equal(backup_file_create(path, id, 65536, BACKUP_CREATE_OVERWRITE, &bf), 0);
        assert_int_equal(backup_file_store(bf, 0, 0, 128, data), 0);
        backup_file_free(bf);
        free(data);
}

static void write_members(const struct fixture *f, const struct sb_spec *s)
{
        static const char *const names[] = { "m0", "m1", "m2", "m3" };
        struct sb_spec t = *s;

        for (unsigned i = 0; i < 4; i++) {
                t.member = i;
                write_image(fpath(f, names[i]), 2 << 20, &t);
        }
}

/* The backup of this reshape passes verification and is planned. */
static void test_cli_right_backup(void **state)
{
        struct fixture *f = *state;
        struct backup_identity id = identity_of(&chunk_change, 10);
        static char out[16384];

        write_members(f, &chunk_change);
        write_backup(fpath(f, "backup"), &id);
        assert_int_equal(run_restore(f, out, sizeof(out), (const char *const[]) {
                "--backup-file", fpath(f, "backup"), fpath(f, "m0"), fpath(f, "m1"),
                fpath(f, "m2"), fpath(f, "m3"), NULL }), 1);
        /* It gets as far as assembling, which the fake sysfs cannot do. */
        assert_contains(out, "will write back array sectors 0-128 from section 0");
        assert_lacks(out, "Nothing was changed");
}

/* A leftover of an earlier reshape of the same array (chunk 32K -> 64K
 * then 64K -> 128K) has the UUID and covers the position. */
static void test_cli_earlier_reshape(void **state)
{
        struct fixture *f = *state;
        struct sb_spec earlier = chunk_change;
        struct backup_identity id;
        static char out[16384];

        earlier.chunk_bytes = 32768;
        earlier.new_chunk_bytes = 65536;
        id = identity_of(&earlier, 5);
        write_members(f, &chunk_change);
        write_backup(fpath(f, "backup"), &id);
        assert_int_equal(run_restore(f, out, sizeof(out), (const char *const[]) {
                "--backup-file", fpath(f, "backup"), fpath(f, "m0"), fpath(f, "m1"),
                fpath(f, "m2"), fpath(f, "m3"), NULL }), 1);
        assert_contains(out, "records chunk size before the reshape 32768 bytes, the superblocks of the members record 65536 bytes");
        assert_contains(out, "records chunk size after the reshape 65536 bytes, the superblocks of the members record 131072 bytes");
        assert_contains(out, "was taken for another reshape");
        assert_contains(out, "Nothing was changed");
        assert_lacks(out, "will write back");
}

/* Each other field on its own refuses too, naming that field. */
static void test_cli_each_field(void **state)
{
        struct fixture *f = *state;
        static const char *const fields[] = {
                "level before the reshape raid6", "raid disks after the reshape 5",
                "layout after the reshape 0", "component size 4096 sectors", "direction backwards",
        };
        static char out[16384];

        write_members(f, &chunk_change);
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
                struct backup_identity id = identity_of(&chunk_change, 10);

                switch (i) {
                case 0: id.before.level = 6; break;
                case 1: id.after.raid_disks = 5; break;
                case 2: id.after.layout = 0; break;
                case 3: id.component_dev_sectors = 4096; break;
                default: id.backwards = true; break;
                }
                write_backup(fpath(f, "backup"), &id);
                assert_int_equal(run_restore(f, out, sizeof(out), (const char *const[]) {
                        "--backup-file", fpath(f, "backup"), fpath(f, "m0"), fpath(f, "m1"),
                        fpath(f, "m2"), fpath(f, "m3"), NULL }), 1);
                assert_contains(out, fields[i]);
                assert_contains(out, "Nothing was changed");
                assert_lacks(out, "will write back");
        }
}

/* Members of another array that records no reshape: name both UUIDs. */
static void test_cli_other_array(void **state)
{
        struct fixture *f = *state;
        struct backup_identity id = identity_of(&chunk_change, 10);
        struct sb_spec other = chunk_change;
        static char out[16384];

        other.uuid = uuid_b;
        other.reshape = false;
        write_members(f, &other);
        write_backup(fpath(f, "backup"), &id);
        assert_int_equal(run_restore(f, out, sizeof(out), (const char *const[]) {
                "--backup-file", fpath(f, "backup"), fpath(f, "m0"), fpath(f, "m1"),
                fpath(f, "m2"), fpath(f, "m3"), NULL }), 1);
        assert_contains(out, "belong to array a1b2c3d4:e5f60718:293a4b5c:6d7e8f90, the backup");
        assert_contains(out, "to array 11223344:55667788:99aabbcc:ddeef001");
        assert_lacks(out, "record no reshape");

        /* The same array after its reshape ended: that is what it says. */
        other.uuid = uuid_a;
        write_members(f, &other);
        assert_int_equal(run_restore(f, out, sizeof(out), (const char *const[]) {
                "--backup-file", fpath(f, "backup"), fpath(f, "m0"), fpath(f, "m1"),
                fpath(f, "m2"), fpath(f, "m3"), NULL }), 1);
        assert_contains(out, "record no reshape");
}

/* One member named twice (a second node of it) counts once; members at
 * one event count that record different reshapes are refused. */
static void test_cli_duplicates_and_disagreement(void **state)
{
        struct fixture *f = *state;
        struct backup_identity id = identity_of(&chunk_change, 10);
        struct sb_spec odd = chunk_change;
        static char out[16384];

        write_members(f, &chunk_change);
        write_backup(fpath(f, "backup"), &id);
        assert_int_equal(symlink(fpath(f, "m2"), fpath(f, "m2-path2")), 0);
        assert_int_equal(run_restore(f, out, sizeof(out), (const char *const[]) {
                "--backup-file", fpath(f, "backup"), fpath(f, "m0"), fpath(f, "m1"),
                fpath(f, "m2"), fpath(f, "m2-path2"), fpath(f, "m3"), NULL }), 1);
        assert_contains(out, "shows the same member superblock as");
        assert_contains(out, "4 member(s)");
        assert_contains(out, "will write back");

        odd.member = 3;
        odd.new_chunk_bytes = 262144;
        write_image(fpath(f, "m3"), 2 << 20, &odd);
        assert_int_equal(run_restore(f, out, sizeof(out), (const char *const[]) {
                "--backup-file", fpath(f, "backup"), fpath(f, "m0"), fpath(f, "m1"),
                fpath(f, "m2"), fpath(f, "m3"), NULL }), 1);
        assert_contains(out, "record different reshapes");
        assert_contains(out, "chunk size after the reshape");
        assert_lacks(out, "will write back");
}

/* The supervisor's generation token for uuid_a, in the fixture's state
 * directory (the one run_restore() hands the binary). */
static void write_token(const struct fixture *f, uint64_t generation)
{
        struct record_token *t = NULL;

        setenv("RESHAPED_STATE_DIR", f->dir, 1);
        assert_int_equal(record_token_open("11223344:55667788:99aabbcc:ddeef001", &t), 0);
        assert_int_equal(record_token_write(t, generation), 0);
        record_token_close(t);
}

/* The arguments of a restore of the fixture's members from its backup,
 * and the same with --ignore-generation-token. */
static void restore_args(const struct fixture *f, const char *args[8], const char *ignoring[9])
{
        static char paths[5][128];
        static const char *const names[] = { "backup", "m0", "m1", "m2", "m3" };

        for (unsigned i = 0; i < 5; i++)
                snprintf(paths[i], sizeof(paths[i]), "%s/%s", f->dir, names[i]);
        args[0] = "--backup-file";
        for (unsigned i = 0; i < 5; i++)
                args[i + 1] = paths[i];
        args[6] = NULL;
        ignoring[0] = "--ignore-generation-token";
        for (unsigned i = 0; i < 7; i++)
                ignoring[i + 1] = args[i];
}

/* A self-consistent backup older than the generation the token names (a
 * stale copy) is refused, naming both generations, the token file and
 * what to do; the override restores it; equal or newer passes. The
 * backup write_backup() makes has generation 2 (created 1, stored 2). */
static void test_cli_stale_generation(void **state)
{
        struct fixture *f = *state;
        struct backup_identity id = identity_of(&chunk_change, 10);
        static char out[16384];
        char want[256];
        const char *args[8], *ignoring[9];

        restore_args(f, args, ignoring);

        write_members(f, &chunk_change);
        write_backup(fpath(f, "backup"), &id);
        write_token(f, 3);
        assert_int_equal(run_restore(f, out, sizeof(out), args), 1);
        assert_contains(out, "is stale: its generation is 2, but the supervisor had made generation 3 durable");
        snprintf(want, sizeof(want), "(token %s/11223344:55667788:99aabbcc:ddeef001.generation", f->dir);
        assert_contains(out, want);
        assert_contains(out, "stale-generation");
        assert_contains(out, "Find the newest backup of array 11223344:55667788:99aabbcc:ddeef001");
        assert_contains(out, "--ignore-generation-token");
        assert_contains(out, "Nothing was changed");
        assert_lacks(out, "will write back");

        assert_int_equal(run_restore(f, out, sizeof(out), ignoring), 1);
        assert_contains(out, "--ignore-generation-token: not checking");
        assert_contains(out, "will write back array sectors 0-128 from section 0");

        write_token(f, 2);
        assert_int_equal(run_restore(f, out, sizeof(out), args), 1);
        assert_lacks(out, "stale");
        assert_contains(out, "will write back array sectors 0-128 from section 0");
}

/* No token (older versions, mdadm's monitor) does not block a valid
 * backup, and says what could not be checked; a damaged token refuses
 * until the admin decides. */
static void test_cli_token_missing_or_damaged(void **state)
{
        struct fixture *f = *state;
        struct backup_identity id = identity_of(&chunk_change, 10);
        static char out[16384];
        char path[256];
        int fd;
        const char *args[8], *ignoring[9];

        restore_args(f, args, ignoring);

        write_members(f, &chunk_change);
        write_backup(fpath(f, "backup"), &id);
        assert_int_equal(run_restore(f, out, sizeof(out), args), 1);
        assert_contains(out, "no generation token");
        assert_contains(out, "cannot be checked");
        assert_contains(out, "will write back array sectors 0-128 from section 0");

        write_token(f, 1);
        snprintf(path, sizeof(path), "%s/11223344:55667788:99aabbcc:ddeef001.generation", f->dir);
        fd = open(path, O_WRONLY);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, "\xff", 1, 20), 1);
        close(fd);
        assert_int_equal(run_restore(f, out, sizeof(out), args), 1);
        assert_contains(out, "the generation token");
        assert_contains(out, "is unreadable. Nothing was changed.");
        assert_contains(out, "pass --ignore-generation-token");
        assert_lacks(out, "will write back");
        assert_int_equal(run_restore(f, out, sizeof(out), ignoring), 1);
        assert_contains(out, "will write back array sectors 0-128 from section 0");
}

/*
 * restore --dry-run: prints the verdict, the ranges in array bytes and
 * member sectors and where the reshape would continue, and writes nothing:
 * every file in the fixture (members, backup, record, the fake sysfs) is
 * byte for byte and inode for inode as it was, and no lock was made.
 */
struct file_snapshot {
        char name[64];
        struct stat st;
        char *data;
};

static void snapshot_dir(const struct fixture *f, struct file_snapshot *snap, size_t max, size_t *n)
{
        char cmd[160], line[64];
        FILE *ls;

        /* Every entry below the fixture, the fake sysfs included. */
        snprintf(cmd, sizeof(cmd), "cd '%s' && find . | sort", f->dir);
        ls = popen(cmd, "r");
        assert_non_null(ls);
        *n = 0;
        while (fgets(line, sizeof(line), ls)) {
                struct file_snapshot *s = &snap[(*n)++];
                FILE *in;

                assert_true(*n <= max);
                line[strcspn(line, "\n")] = '\0';
                snprintf(s->name, sizeof(s->name), "%s", line);
                assert_int_equal(lstat(fpath(f, s->name), &s->st), 0);
                s->data = NULL;
                if (!S_ISREG(s->st.st_mode))
                        continue;
                s->data = malloc((size_t) s->st.st_size + 1);
                assert_non_null(s->data);
                in = fopen(fpath(f, s->name), "re");
                assert_non_null(in);
                assert_int_equal(fread(s->data, 1, (size_t) s->st.st_size, in), (size_t) s->st.st_size);
                fclose(in);
        }
        assert_int_equal(pclose(ls), 0);
}

static void assert_snapshots_equal(const struct file_snapshot *a, size_t na,
                                   const struct file_snapshot *b, size_t nb)
{
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) {
                assert_string_equal(a[i].name, b[i].name);
                assert_int_equal(a[i].st.st_ino, b[i].st.st_ino);
                assert_int_equal(a[i].st.st_size, b[i].st.st_size);
                /* ctime moves on any write, truncation, chmod or rename. */
                if (a[i].st.st_ctim.tv_sec != b[i].st.st_ctim.tv_sec ||
                    a[i].st.st_ctim.tv_nsec != b[i].st.st_ctim.tv_nsec)
                        fail_msg("%s was changed", a[i].name);
                if (a[i].data && memcmp(a[i].data, b[i].data, (size_t) a[i].st.st_size) != 0)
                        fail_msg("%s holds other bytes", a[i].name);
        }
}

static void snapshots_free(struct file_snapshot *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(s[i].data);
}

/* Runs `reshaped restore ARGS...` with stdout and stderr in @out. */
static int run_cli(const struct fixture *f, char *out, size_t out_size, const char *const *args)
{
        /* fpath() keeps its last eight results apart. */
        const struct run_how how = {
                .state_dir = fpath(f, "state"), .run_dir = fpath(f, "run"), .stdout_too = true,
        };

        return run_reshaped(f, &how, out, out_size, (const char *const[]) { "restore", NULL }, args);
}

static void test_cli_dry_run_writes_nothing(void **state)
{
        struct fixture *f = *state;
        /* Checkpoint at array sector 768 (member sector 256, a park point:
         * 3 data disks, unit 256); the backup holds 768-1536 beyond it,
         * which the old layout (128-sector chunks, rows of 384 array
         * sectors) keeps in member sectors 256-512. */
        struct sb_spec at = chunk_change;
        struct backup_identity id = identity_of(&chunk_change, 10);
        static struct file_snapshot before[32], after[32];
        struct backup_file *bf = NULL;
        size_t nbefore, nafter;
        static char out[16384];
        void *data = NULL;
        char link[160];
        int r;

        at.reshape_position = 768;
        write_members(f, &at);
        assert_int_equal(posix_memalign(&data, 4096, 393216), 0);
        memset(data, 0xa5, 393216);
        assert_int_equal(backup_file_create(fpath(f, "backup"), &id, 393216, BACKUP_CREATE_OVERWRITE, &bf), 0);
        assert_int_equal(backup_file_store(bf, 1, 768, 768, data), 0);
        backup_file_free(bf);
        free(data);
        /* The record restore would read (and a real restore keeps). */
        assert_int_equal(mkdir(fpath(f, "state"), 0700), 0);
        snprintf(link, sizeof(link), "%s/md0.backup", fpath(f, "state"));
        assert_int_equal(symlink(fpath(f, "backup"), link), 0);

        snapshot_dir(f, before, 32, &nbefore);
        r = run_cli(f, out, sizeof(out), (const char *const[]) {
                "/dev/md0", "--dry-run", fpath(f, "m0"), fpath(f, "m1"), fpath(f, "m2"), fpath(f, "m3"), NULL });
        if (r != 0)
                fail_msg("restore --dry-run exited %d:\n%s", r, out);
        assert_contains(out, "dry run; nothing was written");
        assert_contains(out, "verified (header and section checksums");
        assert_contains(out, "checkpoint at array sector 768 (byte 393216)");
        assert_contains(out, "write back: array bytes 393216-786432 (sectors 768-1536) from section 1; member sectors 256-512 from the data offset");
        assert_contains(out, "continue: from array sector 768, sync_max 256 (member sectors), supervised to the end");
        assert_lacks(out, "assembled");
        snapshot_dir(f, after, 32, &nafter);
        assert_snapshots_equal(before, nbefore, after, nafter);
        /* No lock either: the run directory was never made. */
        assert_int_equal(access(fpath(f, "run"), F_OK), -1);
        snapshots_free(before, nbefore);
        snapshots_free(after, nafter);

        /* A backup that would be refused: the same verdict as restore's,
         * exit 1, and still nothing written. */
        at.reshape_position = 2304;
        write_members(f, &at);
        snapshot_dir(f, before, 32, &nbefore);
        assert_int_equal(run_cli(f, out, sizeof(out), (const char *const[]) {
                "/dev/md0", "--dry-run", fpath(f, "m0"), fpath(f, "m1"), fpath(f, "m2"), fpath(f, "m3"), NULL }), 1);
        assert_contains(out, "Nothing was changed");
        assert_lacks(out, "write back:");
        snapshot_dir(f, after, 32, &nafter);
        assert_snapshots_equal(before, nbefore, after, nafter);
        snapshots_free(before, nbefore);
        snapshots_free(after, nafter);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_probe_identity, setup, teardown),
                cmocka_unit_test(test_identity_diff_fields),
                cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_right_backup, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_earlier_reshape, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_each_field, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_other_array, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_duplicates_and_disagreement, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_stale_generation, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_token_missing_or_damaged, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_dry_run_writes_nothing, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
