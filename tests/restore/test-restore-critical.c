// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Finishing a grow's first units on image files standing in for the
 * members of a raid5 going from 3 to 4 disks, cut inside them (and, at the
 * end, writing a shrink's last units back in the old layout): afterwards
 * the array up to the new position reads back in the new layout and the
 * rest in the old one, both as the content it held, every superblock
 * records the position, and what only the old layout held was saved into
 * the backup (with the generation token) before any member was written.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <endian.h>
#include <linux/raid/md_p.h>

#include "reshaped/backup/backup.h"
#include "reshaped/plan/geometry.h"
#include "reshaped/md/md.h"
#include "reshaped/members/member-read.h"
#include "reshaped/members/member-write.h"
#include "reshaped/supervise/record.h"
#include "reshaped/restore/restore-critical.h"

#define MEMBER_BYTES (2u << 20)
#define DATA_OFFSET 64u                  /* sectors, after the 1.2 superblock */
#define CHUNK_BYTES 8192u
#define COMPONENT_KIB 960u
#define ARRAY_SECTORS (2u * COMPONENT_KIB * 2u) /* the old layout's 2 data disks */

struct fixture {
        char dir[64];
        char path[4][96];
        char backup[96];
        struct md_member_super m[4];
        struct backup_identity id;
        struct reshape_geometry g;
        uint8_t *content;                /* the array */
};

static const uint8_t uuid[16] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                  0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01 };

static void put_sb1(const char *path, unsigned role)
{
        struct mdp_superblock_1 *sb;
        uint8_t *b = NULL;
        int fd;

        assert_int_equal(posix_memalign((void **) &b, 4096, 4096), 0);
        memset(b, 0, 4096);
        sb = (struct mdp_superblock_1 *) b;
        sb->magic = htole32(MD_SB_MAGIC);
        sb->major_version = htole32(1);
        sb->feature_map = htole32(MD_FEATURE_RESHAPE_ACTIVE);
        memcpy(sb->set_uuid, uuid, 16);
        sb->level = htole32(5);
        sb->layout = htole32(2);
        sb->raid_disks = htole32(4);
        sb->delta_disks = htole32(1);
        sb->chunksize = htole32(CHUNK_BYTES / 512);
        sb->new_chunk = htole32(CHUNK_BYTES / 512);
        sb->new_layout = htole32(2);
        sb->new_level = htole32(5);
        sb->data_offset = htole64(DATA_OFFSET);
        sb->super_offset = htole64(8);
        sb->dev_number = htole32(role);
        sb->events = htole64(7);
        sb->max_dev = htole32(4);
        for (unsigned i = 0; i < 4; i++)
                sb->dev_roles[i] = htole16((uint16_t) i);
        assert_int_equal(md_super_set_reshape_position(b, 1, 0), 0);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, MEMBER_BYTES), 0);
        assert_int_equal(pwrite(fd, b, 4096, 4096), 4096);
        close(fd);
        free(b);
}

static struct stripe_layout layout(unsigned disks)
{
        return (struct stripe_layout) { .level = 5, .raid_disks = disks,
                                        .chunk_sectors = CHUNK_BYTES / 512, .algorithm = 2 };
}

static struct member_source *sources(struct fixture *f, struct member_source *src)
{
        for (unsigned i = 0; i < 4; i++)
                src[i] = (struct member_source) { f->path[i], DATA_OFFSET };
        return src;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        const struct geometry_input in = {
                .old_level = 5, .new_level = 5, .old_raid_disks = 3, .new_raid_disks = 4,
                .old_chunk_bytes = CHUNK_BYTES, .new_chunk_bytes = CHUNK_BYTES,
                .old_layout = 2, .new_layout = 2, .component_kib = COMPONENT_KIB,
        };
        struct stripe_layout old = layout(3);
        struct member_source src[4];
        struct member_writer *w = NULL;
        const char *why = NULL;

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/test-restore-critical.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        setenv("RESHAPED_STATE_DIR", f->dir, 1);
        for (unsigned i = 0; i < 4; i++) {
                snprintf(f->path[i], sizeof(f->path[i]), "%s/member%u", f->dir, i);
                put_sb1(f->path[i], i);
                f->m[i] = (struct md_member_super) {
                        .devnode = f->path[i], .major = 1, .minor = 2, .events = 7,
                        .reshape_active = true, .slot = (int) i,
                        .data_offset_dev_sectors = DATA_OFFSET,
                };
        }
        snprintf(f->backup, sizeof(f->backup), "%s/backup", f->dir);
        assert_int_equal(geometry_init(&f->g, &in, &why), 0);
        memcpy(f->id.uuid, uuid, 16);
        f->id.events = 7;
        f->id.before = (struct backup_geometry) { 5, 3, CHUNK_BYTES, 2 };
        f->id.after = (struct backup_geometry) { 5, 4, CHUNK_BYTES, 2 };
        f->id.component_dev_sectors = 2 * COMPONENT_KIB;

        /* The array as it was before the grow, in the old layout. */
        assert_int_equal(posix_memalign((void **) &f->content, 4096, sectors_to_bytes(ARRAY_SECTORS)), 0);
        for (size_t i = 0; i < sectors_to_bytes(ARRAY_SECTORS); i++)
                f->content[i] = (uint8_t) (i * 2654435761u >> 12);
        assert_int_equal(member_writer_open(&old, sources(f, src), &w), 0);
        assert_int_equal(member_writer_put(w, 0, ARRAY_SECTORS / stripe_layout_stripe_sectors(&old), f->content), 0);
        assert_int_equal(member_writer_sync(w), 0);
        member_writer_free(w);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f->content);
        free(f);
        return 0;
}

/* Array sectors [lo, hi) through @disks members' layout. */
static void read_layout(struct fixture *f, unsigned disks, uint64_t lo, uint64_t hi, void *buf)
{
        struct stripe_layout l = layout(disks);
        struct member_source src[4];
        struct member_scratch *sc = NULL;
        struct member_set *ms = NULL;
        uint64_t usable;

        assert_int_equal(member_set_open(&l, sources(f, src), disks, ARRAY_SECTORS, &ms), 0);
        assert_int_equal(member_set_refresh(ms, NULL, &usable), 0);
        assert_int_equal(member_scratch_new(ms, &sc), 0);
        assert_int_equal(member_set_read(ms, usable, (struct array_range) { lo, hi }, lo, hi, buf, sc), 0);
        member_scratch_free(sc);
        member_set_free(ms);
}

static uint64_t recorded_position(const char *path)
{
        uint8_t b[4096];
        uint64_t pos = 0;
        bool active;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(pread(fd, b, sizeof(b), 4096), 4096);
        close(fd);
        assert_int_equal(md_super_reshape_position(b, 1, &active, &pos), 0);
        return pos;
}

/* The kernel checkpointed at @checkpoint with the backup holding the
 * array from there up to @backup_end (nothing when equal). */
static void cut_and_finish(struct fixture *f, uint64_t checkpoint, uint64_t backup_end,
                           uint64_t want_position, bool saves)
{
        struct backup_file *bf = NULL;
        struct restore_plan plan;
        const char *why = NULL;
        uint64_t pos = 0, gen_before, token = 0;
        char uuid_s[BACKUP_UUID_STRING_MAX];
        void *buf = NULL;

        assert_int_equal(backup_file_create(f->backup, &f->id, 1 << 20, BACKUP_CREATE_OVERWRITE, &bf), 0);
        assert_int_equal(backup_file_set_resume(bf, checkpoint), 0);
        if (backup_end > checkpoint)
                assert_int_equal(backup_file_store(bf, 0, checkpoint, backup_end - checkpoint,
                                                   f->content + sectors_to_bytes(checkpoint)), 0);
        gen_before = backup_file_header(bf)->generation;
        restore_plan_make(backup_file_header(bf), false, checkpoint, false, &plan);
        assert_int_equal(plan.verdict, RESTORE_OK);
        backup_file_free(bf);
        for (unsigned i = 0; i < 4; i++)
                assert_int_equal(md_super_write_reshape_position(f->path[i], 1, 2, checkpoint), 0);

        assert_int_equal(geometry_critical_restart(&f->g, checkpoint, backup_end > checkpoint ? backup_end : checkpoint,
                                                   &pos, &why), 0);
        assert_int_equal(pos, want_position);
        assert_int_equal(restore_critical_finish(&f->g, &f->id, f->m, 4, f->backup, &plan, checkpoint, pos), 0);

        for (unsigned i = 0; i < 4; i++)
                assert_int_equal(recorded_position(f->path[i]), pos);
        assert_int_equal(posix_memalign(&buf, 4096, sectors_to_bytes(ARRAY_SECTORS)), 0);
        read_layout(f, 4, checkpoint, pos, buf);
        assert_memory_equal(buf, f->content + sectors_to_bytes(checkpoint), sectors_to_bytes(pos - checkpoint));
        read_layout(f, 3, pos, ARRAY_SECTORS, buf);
        assert_memory_equal(buf, f->content + sectors_to_bytes(pos), sectors_to_bytes(ARRAY_SECTORS - pos));

        assert_int_equal(backup_file_open(f->backup, &bf), 0);
        if (saves) {
                const struct backup_section *s = &backup_file_header(bf)->sections[backup_end > checkpoint];

                assert_int_equal(backup_file_header(bf)->generation, gen_before + 1);
                uint64_t from = backup_end > checkpoint ? backup_end : checkpoint;

                assert_int_equal(s->array_start_sectors, from);
                assert_int_equal(s->length_sectors, pos - from);
                assert_int_equal(record_token_read(backup_uuid_format(uuid, uuid_s), &token), 0);
                assert_int_equal(token, gen_before + 1);
        } else {
                assert_int_equal(backup_file_header(bf)->generation, gen_before);
        }
        backup_file_free(bf);
        free(buf);
}

/* Cut before any backup: all of the units come from the old layout, saved first. */
static void test_from_old_layout(void **state)
{
        cut_and_finish(*state, 0, 0, 240, true);
}

/* Cut with the units backed up and the kernel inside them (a checkpoint
 * that splits an old stripe): the backup alone suffices. */
static void test_from_backup(void **state)
{
        cut_and_finish(*state, 144, 960, 960, false);
}

/* The backup ends short of a position md restarts from: the rest of the
 * way comes from the old layout, saved into the other slot next to it. */
static void test_backup_then_old_layout(void **state)
{
        cut_and_finish(*state, 48, 200, 240, true);
}

/*
 * A shrink's last units: raid5 from 4 disks (3 data) to 3 (2 data),
 * backwards, the array already reduced to what 2 data disks hold. The
 * kernel checkpointed at array sector 64, which splits old stripe 1
 * (sectors 48-96), with the backup holding all that is left (0-64), and
 * tore member rows 0-32, both old stripes, rewriting them. Restore writes
 * the backup back onto the members in the old layout: 0-64 read back as
 * the content, also with any one member missing (parity), and the new
 * layout from 64 on is untouched.
 */
static void test_shrink_last_units(void **state)
{
        struct fixture *f = *state;
        const struct geometry_input in = {
                .old_level = 5, .new_level = 5, .old_raid_disks = 4, .new_raid_disks = 3,
                .old_chunk_bytes = CHUNK_BYTES, .new_chunk_bytes = CHUNK_BYTES,
                .old_layout = 2, .new_layout = 2, .component_kib = COMPONENT_KIB, .backwards = true,
        };
        const uint64_t checkpoint = 64, chunk = CHUNK_BYTES / 512;
        struct stripe_layout old = layout(4), new = layout(3);
        struct member_source src[4];
        struct member_writer *w = NULL;
        struct backup_file *bf = NULL;
        struct reshape_geometry g;
        struct restore_plan plan;
        const char *why = NULL;
        uint8_t *buf = NULL, junk[32 * 512];
        int fd;

        assert_int_equal(geometry_init(&g, &in, &why), 0);
        f->id.before = (struct backup_geometry) { 5, 4, CHUNK_BYTES, 2 };
        f->id.after = (struct backup_geometry) { 5, 3, CHUNK_BYTES, 2 };
        assert_true(geometry_kernel_restarts(&g, checkpoint));
        assert_int_not_equal(checkpoint % stripe_layout_stripe_sectors(&old), 0);

        /* Before the cut: the old layout below the checkpoint, the new one
         * from it on (member rows from 64 / 2 data disks = 32 up). */
        assert_int_equal(member_writer_open(&old, sources(f, src), &w), 0);
        assert_int_equal(member_writer_put(w, 0, 2, f->content), 0);
        assert_int_equal(member_writer_sync(w), 0);
        member_writer_free(w);
        assert_int_equal(member_writer_open(&new, sources(f, src), &w), 0);
        assert_int_equal(member_writer_put(w, checkpoint / stripe_layout_stripe_sectors(&new),
                                           (ARRAY_SECTORS - checkpoint) / stripe_layout_stripe_sectors(&new),
                                           f->content + sectors_to_bytes(checkpoint)), 0);
        assert_int_equal(member_writer_sync(w), 0);
        member_writer_free(w);
        assert_int_equal(backup_file_create(f->backup, &f->id, 1 << 20, BACKUP_CREATE_OVERWRITE, &bf), 0);
        assert_int_equal(backup_file_set_resume(bf, checkpoint), 0);
        assert_int_equal(backup_file_store(bf, 0, 0, checkpoint, f->content), 0);
        restore_plan_make(backup_file_header(bf), true, checkpoint, false, &plan);
        assert_int_equal(plan.verdict, RESTORE_OK);
        assert_int_equal(plan.n_ranges, 1);
        backup_file_free(bf);
        memset(junk, 0xa5, sizeof(junk));
        for (unsigned i = 0; i < 4; i++) {
                fd = open(f->path[i], O_WRONLY | O_CLOEXEC);
                assert_true(fd >= 0);
                assert_int_equal(pwrite(fd, junk, 2 * chunk * 512, DATA_OFFSET * 512), 2 * chunk * 512);
                close(fd);
        }

        assert_int_equal(restore_critical_write_old(&g, &f->id, f->m, 4, f->backup, &plan, checkpoint), 0);

        assert_int_equal(posix_memalign((void **) &buf, 4096, sectors_to_bytes(ARRAY_SECTORS)), 0);
        for (int gone = -1; gone < 4; gone++) {
                struct member_scratch *sc = NULL;
                struct member_set *ms = NULL;
                uint64_t usable;

                sources(f, src);
                if (gone >= 0)
                        src[gone].path = NULL;
                assert_int_equal(member_set_open(&old, src, 4, ARRAY_SECTORS, &ms), 0);
                assert_int_equal(member_set_refresh(ms, NULL, &usable), 0);
                assert_int_equal(member_scratch_new(ms, &sc), 0);
                assert_int_equal(member_set_read(ms, usable, (struct array_range) { 0, 96 }, 0, checkpoint, buf, sc), 0);
                assert_memory_equal(buf, f->content, sectors_to_bytes(checkpoint));
                member_scratch_free(sc);
                member_set_free(ms);
        }
        read_layout(f, 3, checkpoint, ARRAY_SECTORS, buf);
        assert_memory_equal(buf, f->content + sectors_to_bytes(checkpoint), sectors_to_bytes(ARRAY_SECTORS - checkpoint));
        free(buf);
}

/* The same stripes written onto the members would reach the rows where
 * the new layout holds the array: refused, nothing written. */
static void test_shrink_refuses_overlap(void **state)
{
        struct fixture *f = *state;
        const struct geometry_input in = {
                .old_level = 5, .new_level = 5, .old_raid_disks = 4, .new_raid_disks = 3,
                .old_chunk_bytes = CHUNK_BYTES, .new_chunk_bytes = CHUNK_BYTES,
                .old_layout = 2, .new_layout = 2, .component_kib = COMPONENT_KIB, .backwards = true,
        };
        struct restore_plan plan = { .verdict = RESTORE_OK, .n_ranges = 1,
                                     .ranges = { { .lo_array_sectors = 0, .hi_array_sectors = 160, .slot = 0 } } };
        struct reshape_geometry g;
        const char *why = NULL;

        assert_int_equal(geometry_init(&g, &in, &why), 0);
        f->id.before = (struct backup_geometry) { 5, 4, CHUNK_BYTES, 2 };
        f->id.after = (struct backup_geometry) { 5, 3, CHUNK_BYTES, 2 };
        /* Old stripes 0-3 end at member row 64; the new layout from 96 on
         * begins at row 48. */
        assert_int_equal(restore_critical_write_old(&g, &f->id, f->m, 4, f->backup, &plan, 96), -ERANGE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_from_old_layout, setup, teardown),
                cmocka_unit_test_setup_teardown(test_from_backup, setup, teardown),
                cmocka_unit_test_setup_teardown(test_backup_then_old_layout, setup, teardown),
                cmocka_unit_test_setup_teardown(test_shrink_last_units, setup, teardown),
                cmocka_unit_test_setup_teardown(test_shrink_refuses_overlap, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
