// SPDX-License-Identifier: GPL-2.0-or-later
/* Backup files on a real filesystem, and `reshaped inspect` on them. */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "reshaped/backup/backup.h"
#include "reshaped/util/log.h"
#include "reshaped/restore/restore.h"

#define SLOT_BYTES (8 * 1024u)
#define FILE_BYTES (4096 + 2 * SLOT_BYTES)

static const struct backup_identity test_id = {
        .uuid = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 },
        .events = 99,
        .before = { .level = 5, .raid_disks = 4, .chunk_bytes = 65536, .layout = 2 },
        .after = { .level = 5, .raid_disks = 4, .chunk_bytes = 131072, .layout = 2 },
        .component_dev_sectors = 262144,
        .backwards = false,
};

struct fixture {
        char dir[64];
        char path[128];
        uint8_t *data0, *data1;  /* 4 KiB each, aligned */
};

static void fill(uint8_t *p, size_t n, unsigned seed)
{
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t) ((i * 2654435761u) >> 13) ^ (uint8_t) seed;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/reshaped-test-backup-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/backup", f->dir);
        assert_int_equal(posix_memalign((void **) &f->data0, 4096, 4096), 0);
        assert_int_equal(posix_memalign((void **) &f->data1, 4096, 4096), 0);
        fill(f->data0, 4096, 1);
        fill(f->data1, 4096, 2);
        log_set_max_level(LOG_CRIT);  /* expected failures would flood the output */
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        struct dirent *de;
        DIR *d;

        d = opendir(f->dir);
        assert_non_null(d);
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, ".."))
                        assert_int_equal(unlinkat(dirfd(d), de->d_name, 0), 0);
        closedir(d);
        assert_int_equal(rmdir(f->dir), 0);
        free(f->data0);
        free(f->data1);
        free(f);
        return 0;
}

/* A file with slot 0 = data0 at array sector 0 and slot 1 = data1 at
 * array sector 8, generation 3. */
static void make_full_file(struct fixture *f, const char *path)
{
        struct backup_file *bf;

        assert_int_equal(backup_file_create(path, &test_id, SLOT_BYTES, 0, &bf), 0);
        backup_file_set_mtime(bf, 1700000000);
        assert_int_equal(backup_file_store(bf, 0, 0, 8, f->data0), 0);
        assert_int_equal(backup_file_store(bf, 1, 8, 8, f->data1), 0);
        backup_file_free(bf);
}

static void read_image(const char *path, uint8_t *buf, size_t n)
{
        int fd = open(path, O_RDONLY);

        assert_true(fd >= 0);
        assert_int_equal(pread(fd, buf, n, 0), (ssize_t) n);
        close(fd);
}

static void write_image(const char *path, const uint8_t *buf, size_t n)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, buf, n), (ssize_t) n);
        close(fd);
}

static struct backup_verify verify(const char *path, const struct backup_identity *id, uint64_t min_gen)
{
        struct backup_report rep;

        assert_int_equal(backup_file_verify(path, id, min_gen, &rep), 0);
        return rep.verdict;
}

static void test_create_store_release_reopen(void **state)
{
        struct fixture *f = *state;
        const struct backup_header *h;
        struct backup_file *bf;
        struct backup_identity other;
        uint8_t raw[BACKUP_HEADER_BYTES], *buf = NULL;
        struct stat st;
        time_t before = time(NULL);

        assert_int_equal(backup_file_create(f->path, &test_id, SLOT_BYTES, 0, &bf), 0);
        h = backup_file_header(bf);
        assert_int_equal(h->generation, 1);
        assert_int_equal(h->sections[0].length_sectors, 0);
        assert_int_equal(h->sections[1].length_sectors, 0);
        assert_true(h->mtime >= (uint64_t) before && h->mtime <= (uint64_t) time(NULL));
        /* Preallocated with real blocks, not sparse. */
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_size, FILE_BYTES);
        assert_true((uint64_t) st.st_blocks * 512 >= FILE_BYTES);
        assert_int_equal(verify(f->path, &test_id, 1).reason, BACKUP_VERIFY_OK);

        backup_file_set_mtime(bf, 1234567890);
        assert_int_equal(backup_file_store(bf, 0, 0, 8, f->data0), 0);
        assert_int_equal(h->generation, 2);
        assert_int_equal(backup_file_store(bf, 1, 8, 8, f->data1), 0);
        assert_int_equal(h->generation, 3);
        assert_int_equal(verify(f->path, &test_id, 3).reason, BACKUP_VERIFY_OK);
        assert_int_equal(backup_file_release(bf, 0), 0);
        assert_int_equal(h->generation, 4);
        assert_int_equal(backup_file_release(bf, 0), 0);  /* already empty: no write */
        assert_int_equal(h->generation, 4);
        backup_file_free(bf);

        /* What mdadm reads: offsets from struct mdp_backup_super. */
        read_image(f->path, raw, sizeof(raw));
        assert_memory_equal(raw, "md_backup_data-2", 16);
        assert_memory_equal(raw + 16, test_id.uuid, 16);
        assert_int_equal(raw[32] | raw[33] << 8 | raw[34] << 16 | raw[35] << 24, 1234567890);
        assert_int_equal(raw[40], 8);               /* devstart */
        assert_int_equal(raw[48], 8);               /* empty slot 0 mirrors slot 1's start */
        assert_int_equal(raw[56], 0);               /* length */
        assert_int_equal(raw[72], SLOT_BYTES / 512);/* devstart2 */
        assert_int_equal(raw[80], 8);
        assert_int_equal(raw[88], 8);

        assert_int_equal(backup_file_open(f->path, &bf), 0);
        h = backup_file_header(bf);
        assert_int_equal(h->generation, 4);
        assert_int_equal(h->mtime, 1234567890);
        assert_int_equal(h->sections[0].length_sectors, 0);
        assert_int_equal(h->sections[1].array_start_sectors, 8);
        assert_int_equal(h->sections[1].length_sectors, 8);
        assert_int_equal(posix_memalign((void **) &buf, 4096, 4096), 0);
        assert_int_equal(backup_file_read_section(bf, 1, buf), 0);
        assert_memory_equal(buf, f->data1, 4096);
        assert_int_equal(backup_file_read_section(bf, 0, buf), -ENODATA);
        /* The reopened file goes on from where it was. */
        assert_int_equal(backup_file_store(bf, 0, 16, 8, f->data0), 0);
        assert_int_equal(h->generation, 5);
        assert_int_equal(backup_file_read_section(bf, 0, buf), 0);
        assert_memory_equal(buf, f->data0, 4096);
        free(buf);
        backup_file_free(bf);

        assert_int_equal(verify(f->path, &test_id, 5).reason, BACKUP_VERIFY_OK);
        assert_int_equal(verify(f->path, NULL, 0).reason, BACKUP_VERIFY_OK);
        assert_int_equal(verify(f->path, &test_id, 6).reason, BACKUP_VERIFY_STALE_GENERATION);
        other = test_id;
        other.uuid[0] = 0;
        assert_int_equal(verify(f->path, &other, 0).reason, BACKUP_VERIFY_WRONG_UUID);
        other = test_id;
        other.before.raid_disks = 3;
        assert_int_equal(verify(f->path, &other, 0).reason, BACKUP_VERIFY_WRONG_GEOMETRY);
        other = test_id;
        other.events = 97;
        assert_int_equal(verify(f->path, &other, 0).reason, BACKUP_VERIFY_WRONG_EVENTS);
}

/* Data written in pieces and committed with the caller's CRC gives the
 * same file as one store; a wrong CRC is caught by verification, and a
 * piece outside the slot or into a held slot is refused. */
static void test_pieces_then_commit(void **state)
{
        struct fixture *f = *state;
        char other[160];
        uint8_t *a, *b;
        struct backup_file *bf;
        uint32_t crc;

        snprintf(other, sizeof(other), "%s/whole", f->dir);
        make_full_file(f, other);

        assert_int_equal(backup_file_create(f->path, &test_id, SLOT_BYTES, 0, &bf), 0);
        backup_file_set_mtime(bf, 1700000000);
        assert_int_equal(backup_file_write_data(bf, 0, 0, f->data0, 2048 * 2), 0);
        crc = backup_crc32c(0, f->data0, 4096);
        assert_int_equal(backup_file_commit(bf, 0, 0, 8, crc, false), 0);
        assert_int_equal(backup_file_write_data(bf, 0, 0, f->data1, 4096), -EBUSY);
        assert_int_equal(backup_file_write_data(bf, 1, SLOT_BYTES, f->data1, 4096), -EINVAL);
        assert_int_equal(backup_file_write_data(bf, 1, 100, f->data1, 4096), -EINVAL);
        assert_int_equal(backup_file_write_data(bf, 1, 0, f->data1, 4096), 0);
        assert_int_equal(backup_file_commit(bf, 1, 8, 8, backup_crc32c(0, f->data1, 4096), false), 0);
        backup_file_free(bf);

        a = malloc(FILE_BYTES);
        b = malloc(FILE_BYTES);
        assert_non_null(a);
        assert_non_null(b);
        read_image(other, a, FILE_BYTES);
        read_image(f->path, b, FILE_BYTES);
        assert_memory_equal(a, b, FILE_BYTES);
        free(a);
        free(b);
        assert_int_equal(verify(f->path, &test_id, 0).reason, BACKUP_VERIFY_OK);

        /* a commit whose CRC does not match the data written */
        assert_int_equal(backup_file_create(other, &test_id, SLOT_BYTES, BACKUP_CREATE_OVERWRITE, &bf), 0);
        assert_int_equal(backup_file_write_data(bf, 0, 0, f->data0, 4096), 0);
        assert_int_equal(backup_file_commit(bf, 0, 0, 8, crc ^ 1, false), 0);
        backup_file_free(bf);
        assert_int_equal(verify(other, &test_id, 0).reason, BACKUP_VERIFY_DATA_CRC);
}

/* A commit that releases the other slot does it in the same header: one
 * generation, the new section held, the old one gone, and the file still
 * verifies. */
static void test_commit_releases_other(void **state)
{
        struct fixture *f = *state;
        const struct backup_header *h;
        struct backup_file *bf;

        assert_int_equal(backup_file_create(f->path, &test_id, SLOT_BYTES, 0, &bf), 0);
        assert_int_equal(backup_file_store(bf, 0, 0, 8, f->data0), 0);
        assert_int_equal(backup_file_write_data(bf, 1, 0, f->data1, 4096), 0);
        assert_int_equal(backup_file_commit(bf, 1, 8, 8, backup_crc32c(0, f->data1, 4096), true), 0);
        h = backup_file_header(bf);
        /* created at 1, stored at 2, one header for the commit */
        assert_int_equal(h->generation, 3);
        assert_int_equal(h->sections[0].length_sectors, 0);
        assert_int_equal(h->sections[1].array_start_sectors, 8);
        assert_int_equal(h->sections[1].length_sectors, 8);
        backup_file_free(bf);
        assert_int_equal(verify(f->path, &test_id, 3).reason, BACKUP_VERIFY_OK);
}

/* While both slots are empty the header names the resume position as
 * both sections' start, so that mdadm's restore finds a section reaching
 * the reshape position, restores nothing and moves nothing. With a
 * section held, an empty slot names that section's start instead. */
static void test_resume_position(void **state)
{
        struct fixture *f = *state;
        struct backup_file *bf;
        uint8_t hdr[512];
        uint64_t v;

        assert_int_equal(backup_file_create(f->path, &test_id, SLOT_BYTES, 0, &bf), 0);
        assert_int_equal(backup_file_set_resume(bf, 1000), 0);
        read_image(f->path, hdr, sizeof(hdr));
        memcpy(&v, hdr + 48, 8);
        assert_int_equal(le64toh(v), 1000);
        memcpy(&v, hdr + 80, 8);
        assert_int_equal(le64toh(v), 1000);

        assert_int_equal(backup_file_store(bf, 0, 2000, 8, f->data0), 0);
        assert_int_equal(backup_file_set_resume(bf, 1500), 0);
        read_image(f->path, hdr, sizeof(hdr));
        memcpy(&v, hdr + 80, 8);
        assert_int_equal(le64toh(v), 2000);

        assert_int_equal(backup_file_release(bf, 0), 0);
        read_image(f->path, hdr, sizeof(hdr));
        memcpy(&v, hdr + 48, 8);
        assert_int_equal(le64toh(v), 1500);
        memcpy(&v, hdr + 56, 8);
        assert_int_equal(le64toh(v), 0);
        backup_file_free(bf);
        assert_int_equal(verify(f->path, &test_id, 0).reason, BACKUP_VERIFY_OK);
}

/* What `reshaped start` creates before it touches the array: an empty
 * header that `reshaped restore` accepts at the very first checkpoint
 * (forwards, array sector 0), with nothing to write back. */
static void test_empty_header_restores_at_start(void **state)
{
        struct fixture *f = *state;
        struct backup_report rep;
        struct restore_plan p;
        struct backup_file *bf;

        assert_int_equal(backup_file_create(f->path, &test_id, SLOT_BYTES, 0, &bf), 0);
        backup_file_free(bf);
        assert_int_equal(backup_file_verify(f->path, &test_id, 0, &rep), 0);
        assert_int_equal(rep.verdict.reason, BACKUP_VERIFY_OK);
        restore_plan_make(&rep.header, false, 0, false, &p);
        assert_int_equal(p.verdict, RESTORE_OK);
        assert_int_equal(p.n_ranges, 0);
        assert_true(restore_invalid_backup_safe(&rep.header, 0));
        /* Past the start something was rewritten: not acceptable. */
        restore_plan_make(&rep.header, false, 128, false, &p);
        assert_int_equal(p.verdict, RESTORE_RESUME_ELSEWHERE);
}

static void test_header_beyond(void **state)
{
        struct backup_header h = { .format = 2, .has_extension = true };

        (void) state;
        assert_false(backup_header_beyond(&h, false, 0));
        h.sections[0] = (struct backup_section) { 1000, 64, 0 };
        assert_true(backup_header_beyond(&h, false, 1000));
        assert_true(backup_header_beyond(&h, false, 1063));
        assert_false(backup_header_beyond(&h, false, 1064));
        assert_true(backup_header_beyond(&h, true, 1001));
        assert_false(backup_header_beyond(&h, true, 1000));
        h.sections[1] = (struct backup_section) { 2000, 64, 0 };
        assert_true(backup_header_beyond(&h, false, 1064));
        assert_false(backup_header_beyond(&h, false, 2064));
}

/* supervise may replace a backup of its array only when nothing in it lies
 * beyond the on-disk checkpoint. */
static void test_may_replace(void **state)
{
        struct fixture *f = *state;
        uint8_t other[16];

        /* Nothing there. */
        assert_int_equal(backup_file_may_replace(f->path, test_id.uuid, "/dev/md0", false, 0), 0);
        make_full_file(f, f->path);  /* sectors 0-16 */
        assert_int_equal(backup_file_may_replace(f->path, test_id.uuid, "/dev/md0", false, 0), -EBUSY);
        assert_int_equal(backup_file_may_replace(f->path, test_id.uuid, "/dev/md0", false, 15), -EBUSY);
        assert_int_equal(backup_file_may_replace(f->path, test_id.uuid, "/dev/md0", false, 16), 0);
        assert_int_equal(backup_file_may_replace(f->path, test_id.uuid, "/dev/md0", true, 16), -EBUSY);
        assert_int_equal(backup_file_may_replace(f->path, test_id.uuid, "/dev/md0", true, 0), 0);
        memcpy(other, test_id.uuid, 16);
        other[0] ^= 1;
        assert_int_equal(backup_file_may_replace(f->path, other, "/dev/md0", false, 16), -EEXIST);
}

/* After restore's write-back: one synced header empties both slots and
 * records the checkpoint, so a second restore finds nothing to write
 * back over newer data and accepts the checkpoint. */
static void test_supersede(void **state)
{
        struct fixture *f = *state;
        struct backup_report rep;
        struct restore_plan p;
        struct backup_file *bf;
        uint64_t gen;

        make_full_file(f, f->path);
        assert_int_equal(backup_file_verify(f->path, &test_id, 0, &rep), 0);
        restore_plan_make(&rep.header, false, 4, false, &p);
        assert_int_equal(p.n_ranges, 2);
        gen = rep.header.generation;

        assert_int_equal(backup_file_open(f->path, &bf), 0);
        assert_int_equal(backup_file_supersede(bf, 4), 0);
        /* Read through another descriptor while bf is still open. */
        assert_int_equal(backup_file_verify(f->path, &test_id, gen + 1, &rep), 0);
        backup_file_free(bf);
        assert_int_equal(rep.verdict.reason, BACKUP_VERIFY_OK);
        assert_int_equal(rep.header.sections[0].length_sectors, 0);
        assert_int_equal(rep.header.sections[1].length_sectors, 0);
        assert_int_equal(rep.header.resume_array_sectors, 4);
        restore_plan_make(&rep.header, false, 4, false, &p);
        assert_int_equal(p.verdict, RESTORE_OK);
        assert_int_equal(p.n_ranges, 0);
        assert_int_equal(backup_file_may_replace(f->path, test_id.uuid, "/dev/md0", false, 4), 0);
}

static void test_create_refuses_existing_and_locks(void **state)
{
        struct fixture *f = *state;
        struct backup_file *bf, *bf2;
        struct stat st;

        make_full_file(f, f->path);
        assert_int_equal(backup_file_create(f->path, &test_id, SLOT_BYTES, 0, &bf), -EEXIST);
        assert_int_equal(verify(f->path, NULL, 3).reason, BACKUP_VERIFY_OK);  /* untouched */

        assert_int_equal(backup_file_open(f->path, &bf), 0);
        /* While one holder has it, nobody else may write or replace it. */
        assert_int_equal(backup_file_open(f->path, &bf2), -EBUSY);
        assert_int_equal(backup_file_create(f->path, &test_id, SLOT_BYTES, BACKUP_CREATE_OVERWRITE, &bf2),
                         -EBUSY);
        assert_int_equal(verify(f->path, NULL, 3).reason, BACKUP_VERIFY_OK);
        backup_file_free(bf);

        assert_int_equal(backup_file_create(f->path, &test_id, 2 * SLOT_BYTES, BACKUP_CREATE_OVERWRITE, &bf), 0);
        assert_int_equal(backup_file_header(bf)->generation, 1);
        backup_file_free(bf);
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_size, 4096 + 4 * SLOT_BYTES);

        assert_int_equal(backup_file_create(f->path, &test_id, 1000, BACKUP_CREATE_OVERWRITE, &bf), -EINVAL);
        assert_int_equal(backup_file_create(f->path, &test_id, 0, BACKUP_CREATE_OVERWRITE, &bf), -EINVAL);
        assert_int_equal(backup_file_create(f->dir, &test_id, SLOT_BYTES, BACKUP_CREATE_OVERWRITE, &bf),
                         -EISDIR);
        assert_int_equal(stat(f->dir, &st), 0);  /* not removed */
}

static void test_store_errors(void **state)
{
        struct fixture *f = *state;
        struct backup_file *bf;

        assert_int_equal(backup_file_create(f->path, &test_id, SLOT_BYTES, 0, &bf), 0);
        assert_int_equal(backup_file_store(bf, 2, 0, 8, f->data0), -EINVAL);
        assert_int_equal(backup_file_store(bf, 0, 0, 0, f->data0), -EINVAL);
        assert_int_equal(backup_file_store(bf, 0, 0, 12, f->data0), -EINVAL);
        assert_int_equal(backup_file_store(bf, 0, 0, SLOT_BYTES / 512 + 8, f->data0), -EINVAL);
        assert_int_equal(backup_file_store(bf, 0, 0, 8, f->data0 + 512), -EINVAL);
        assert_int_equal(backup_file_store(bf, 0, 0, 8, f->data0), 0);
        assert_int_equal(backup_file_store(bf, 0, 64, 8, f->data0), -EBUSY);
        assert_int_equal(backup_file_store(bf, 1, 4, 8, f->data1), -EINVAL);  /* overlaps slot 0 */
        assert_int_equal(backup_file_release(bf, 2), -EINVAL);
        assert_int_equal(backup_file_header(bf)->generation, 2);
        backup_file_free(bf);
        assert_int_equal(verify(f->path, &test_id, 2).reason, BACKUP_VERIFY_OK);
}

static void flip_file_bit(int fd, off_t byte_off, unsigned bit)
{
        uint8_t byte;

        assert_int_equal(pread(fd, &byte, 1, byte_off), 1);
        byte ^= (uint8_t) (1u << bit);
        assert_int_equal(pwrite(fd, &byte, 1, byte_off), 1);
}

/* test-backup.c flips every data bit against the CRC in memory; through
 * the file (~0.2 ms a verify) every byte of both sections gets one
 * flipped bit, and the edges of each section all eight. */
static void test_data_bit_flips_in_file(void **state)
{
        struct fixture *f = *state;
        struct backup_file *bf;
        uint8_t *buf = NULL;
        int fd;

        make_full_file(f, f->path);
        fd = open(f->path, O_RDWR);
        assert_true(fd >= 0);
        for (unsigned slot = 0; slot < 2; slot++) {
                off_t base = 4096 + slot * SLOT_BYTES;

                for (unsigned byte = 0; byte < 4096; byte++) {
                        bool edge = byte < 32 || byte >= 4096 - 32;

                        for (unsigned bit = edge ? 0 : byte % 8; bit < (edge ? 8 : byte % 8 + 1); bit++) {
                                struct backup_verify v;

                                flip_file_bit(fd, base + byte, bit);
                                v = verify(f->path, NULL, 0);
                                if (v.reason != BACKUP_VERIFY_DATA_CRC || v.section != (int) slot)
                                        fail_msg("flip of slot %u byte %u bit %u: %s section %d", slot,
                                                 byte, bit, backup_verify_reason_id(v.reason), v.section);
                                flip_file_bit(fd, base + byte, bit);
                        }
                }
        }

        /* Opening checks the header only; reading checks the data. */
        flip_file_bit(fd, 4096 + 77, 3);
        assert_int_equal(backup_file_open(f->path, &bf), 0);
        assert_int_equal(posix_memalign((void **) &buf, 4096, 4096), 0);
        assert_int_equal(backup_file_read_section(bf, 0, buf), -EBADMSG);
        assert_int_equal(backup_file_read_section(bf, 1, buf), 0);
        free(buf);
        backup_file_free(bf);
        flip_file_bit(fd, 4096 + 77, 3);

        close(fd);
        assert_int_equal(verify(f->path, NULL, 3).reason, BACKUP_VERIFY_OK);
}

static void test_every_header_bit_flip_in_file(void **state)
{
        struct fixture *f = *state;
        int fd;

        make_full_file(f, f->path);
        fd = open(f->path, O_RDWR);
        assert_true(fd >= 0);
        for (unsigned bit = 0; bit < BACKUP_HEADER_BYTES * 8; bit++) {
                struct backup_verify v;

                flip_file_bit(fd, bit / 8, bit % 8);
                v = verify(f->path, NULL, 0);
                if (v.reason == BACKUP_VERIFY_OK || v.reason == BACKUP_VERIFY_UNVERIFIED)
                        fail_msg("flip of header bit %u passed as %s", bit,
                                 backup_verify_reason_id(v.reason));
                flip_file_bit(fd, bit / 8, bit % 8);
        }
        close(fd);
        assert_int_equal(verify(f->path, NULL, 3).reason, BACKUP_VERIFY_OK);
}

static void test_truncation_at_every_sector(void **state)
{
        struct fixture *f = *state;
        static uint8_t image[FILE_BYTES];
        struct backup_file *bf;
        char cut[160];

        make_full_file(f, f->path);
        read_image(f->path, image, sizeof(image));
        snprintf(cut, sizeof(cut), "%s/cut", f->dir);
        for (size_t bytes = 0; bytes < FILE_BYTES; bytes += 512) {
                struct backup_verify v;

                write_image(cut, image, bytes);
                v = verify(cut, NULL, 0);
                if (bytes < 512)
                        assert_int_equal(v.reason, BACKUP_VERIFY_TRUNCATED_HEADER);
                else if (v.reason != BACKUP_VERIFY_SECTION_BEYOND_EOF &&
                         v.reason != BACKUP_VERIFY_TRUNCATED)
                        fail_msg("truncation to %zu bytes: %s", bytes, backup_verify_reason_id(v.reason));
        }
        /* Sections are 4 KiB of 8 KiB slots: a cut after slot 1's data
         * loses no data, but the preallocated space. */
        write_image(cut, image, FILE_BYTES - 512);
        assert_int_equal(verify(cut, NULL, 0).reason, BACKUP_VERIFY_TRUNCATED);
        write_image(cut, image, 4096 + SLOT_BYTES + 4096 - 512);
        assert_int_equal(verify(cut, NULL, 0).reason, BACKUP_VERIFY_SECTION_BEYOND_EOF);
        assert_int_equal(verify(cut, NULL, 0).section, 1);
        assert_int_equal(backup_file_open(cut, &bf), -EBADMSG);
        write_image(cut, image, 300);
        assert_int_equal(backup_file_open(cut, &bf), -EBADMSG);
        write_image(cut, image, FILE_BYTES);
        assert_int_equal(verify(cut, NULL, 3).reason, BACKUP_VERIFY_OK);
}

/* What mdadm writes: its header without our extension, then the data. */
static void make_mdadm_file(struct fixture *f, const char *path, unsigned format)
{
        static uint8_t image[4096 + 2 * 4096];
        struct backup_header h = {
                .format = format,
                .mtime = 1700000000,
                .devstart_sectors = 8,
                .devstart2_sectors = 8,
                .identity = test_id,
                .sections = { { 1024, 8, 0 }, { format == 2 ? 1032 : 0, format == 2 ? 8 : 0, 0 } },
        };

        memset(image, 0, sizeof(image));
        backup_header_encode(&h, image);
        memcpy(image + 4096, f->data0, 4096);
        memcpy(image + 8192, f->data1, 4096);
        write_image(path, image, format == 2 ? sizeof(image) : 8192);
}

static void test_mdadm_file_reads_unverified(void **state)
{
        struct fixture *f = *state;
        struct backup_report rep;
        struct backup_file *bf;
        uint8_t *buf = NULL;

        make_mdadm_file(f, f->path, 2);
        assert_int_equal(backup_file_verify(f->path, &test_id, 0, &rep), 0);
        assert_int_equal(rep.verdict.reason, BACKUP_VERIFY_UNVERIFIED);
        assert_false(rep.header.has_extension);
        assert_true(rep.sections[0].crc_computed);
        assert_int_equal(rep.sections[0].crc32c, backup_crc32c(0, f->data0, 4096));
        assert_int_equal(rep.sections[1].crc32c, backup_crc32c(0, f->data1, 4096));

        assert_int_equal(backup_file_open(f->path, &bf), 0);
        assert_int_equal(posix_memalign((void **) &buf, 4096, 4096), 0);
        assert_int_equal(backup_file_read_section(bf, 1, buf), 1);
        assert_memory_equal(buf, f->data1, 4096);
        assert_int_equal(backup_file_store(bf, 0, 0, 8, f->data0), -EROFS);
        assert_int_equal(backup_file_release(bf, 0), -EROFS);
        free(buf);
        backup_file_free(bf);

        make_mdadm_file(f, f->path, 1);
        assert_int_equal(backup_file_verify(f->path, NULL, 0, &rep), 0);
        assert_int_equal(rep.verdict.reason, BACKUP_VERIFY_UNVERIFIED);
        assert_int_equal(rep.header.format, 1);
        assert_false(rep.sections[1].crc_computed);
        /* A different array's backup. */
        {
                struct backup_identity other = test_id;

                other.uuid[3] ^= 0x80;
                assert_int_equal(backup_file_verify(f->path, &other, 0, &rep), 0);
                assert_int_equal(rep.verdict.reason, BACKUP_VERIFY_WRONG_UUID);
        }
}

/* Runs the built binary; returns its exit status, output in @out. */
static int run_reshaped(char *out, size_t out_size, const char *const *args)
{
        const char *bin = getenv("RESHAPED_TEST_BINARY");
        char outpath[] = "/tmp/reshaped-test-out-XXXXXX";
        const char *argv[16] = { bin };
        int fd, status;
        ssize_t n;
        pid_t pid;

        assert_non_null(bin);
        for (size_t i = 0; args[i]; i++)
                argv[i + 1] = args[i];
        fd = mkstemp(outpath);
        assert_true(fd >= 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);

                if (dup2(fd, STDOUT_FILENO) < 0 || null < 0 || dup2(null, STDERR_FILENO) < 0)
                        _exit(127);
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

#define assert_contains(haystack, needle) \
        do { \
                if (!strstr((haystack), (needle))) \
                        fail_msg("output lacks \"%s\":\n%s", (needle), (haystack)); \
        } while (0)

static void test_inspect_cli(void **state)
{
        struct fixture *f = *state;
        static char out[16384];
        char mdadm[160], odd[160];
        int fd;

        make_full_file(f, f->path);
        assert_int_equal(run_reshaped(out, sizeof(out), (const char *[]) { "inspect", f->path, NULL }), 0);
        assert_contains(out, "Format:       md_backup_data-2");
        assert_contains(out, "Array UUID:   deadbeef:01020304:05060708:090a0b0c");
        assert_contains(out, "Section 0:    array sectors 0+8 (4096 bytes");
        assert_contains(out, "Section 1:    array sectors 8+8");
        assert_contains(out, "generation 3");
        assert_contains(out, "md events 99");
        assert_contains(out, "raid5, 4 disks, chunk 128 KiB, layout 2");
        assert_contains(out, ": OK\n");
        assert_contains(out, "Verdict:      VERIFIED");

        assert_int_equal(run_reshaped(out, sizeof(out), (const char *[]) { "inspect", "--json", f->path, NULL }), 0);
        assert_true(out[0] == '{' && strchr(out, '\n') == out + strlen(out) - 1);
        assert_contains(out, "\"ok\":true");
        assert_contains(out, "\"generation\":3");
        assert_contains(out, "\"status\":\"ok\"");
        assert_contains(out, "\"mtime\":1700000000,\"mtime_utc\":\"2023-11-14T22:13:20Z\"");

        /* One flipped bit in section 1. */
        fd = open(f->path, O_RDWR);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, "\x5a", 1, 4096 + SLOT_BYTES + 100), 1);
        close(fd);
        assert_int_equal(run_reshaped(out, sizeof(out), (const char *[]) { "inspect", f->path, NULL }), 1);
        assert_contains(out, ": BAD\n");
        assert_contains(out, "Verdict:      DAMAGED: section 1: section data does not match its CRC32C");
        assert_int_equal(run_reshaped(out, sizeof(out), (const char *[]) { "inspect", "--json", f->path, NULL }), 1);
        assert_contains(out, "\"reason\":\"data-crc\"");
        assert_contains(out, "\"section\":1}");
        assert_contains(out, "\"status\":\"bad\"");

        snprintf(mdadm, sizeof(mdadm), "%s/mdadm", f->dir);
        make_mdadm_file(f, mdadm, 2);
        assert_int_equal(run_reshaped(out, sizeof(out), (const char *[]) { "inspect", mdadm, NULL }), 3);
        assert_contains(out, "Extension:    none: no integrity extension (written by mdadm): data unverified");
        assert_contains(out, "Section 0:    array sectors 1024+8");
        assert_contains(out, "unverified\n");
        assert_int_equal(run_reshaped(out, sizeof(out), (const char *[]) { "inspect", "--json", mdadm, NULL }), 3);
        assert_contains(out, "\"extension\":null");
        assert_contains(out, "\"reason\":\"unverified\"");

        /* File names reach JSON escaped. */
        snprintf(odd, sizeof(odd), "%s/we\"ird\nname\xff", f->dir);
        make_full_file(f, odd);
        assert_int_equal(run_reshaped(out, sizeof(out), (const char *[]) { "inspect", "--json", odd, NULL }), 0);
        assert_contains(out, "we\\\"ird\\nname\\ufffd\"");

        assert_int_equal(run_reshaped(out, sizeof(out), (const char *[]) { "inspect", NULL }), 2);
        assert_int_equal(run_reshaped(out, sizeof(out), (const char *[]) { "inspect", "a", "b", NULL }), 2);
        assert_int_equal(run_reshaped(out, sizeof(out), (const char *[]) { "inspect", "--bogus", f->path, NULL }), 2);
        assert_int_equal(run_reshaped(out, sizeof(out), (const char *[]) { "inspect", "/nonexistent/backup", NULL }), 4);
        assert_int_equal(run_reshaped(out, sizeof(out), (const char *[]) { "help", "inspect", NULL }), 0);
        assert_contains(out, "Usage: reshaped inspect [--json] FILE");
}

/* A new file goes on from the generations before it: never below or at
 * @after once it returns, one synced header when it has to move, none
 * otherwise, and what it wrote is what a reopen reads. */
static void test_continue_generation(void **state)
{
        struct fixture *f = *state;
        struct backup_file *bf = NULL;

        assert_int_equal(backup_file_create(f->path, &test_id, SLOT_BYTES, 0, &bf), 0);
        assert_int_equal(backup_file_header(bf)->generation, 1);
        assert_int_equal(backup_file_continue_generation(bf, 41), 0);
        assert_int_equal(backup_file_header(bf)->generation, 42);
        assert_int_equal(backup_file_continue_generation(bf, 41), 0);
        assert_int_equal(backup_file_continue_generation(bf, 0), 0);
        assert_int_equal(backup_file_header(bf)->generation, 42);
        assert_int_equal(backup_file_continue_generation(bf, 42), 0);
        assert_int_equal(backup_file_header(bf)->generation, 43);
        assert_int_equal(backup_file_store(bf, 0, 0, 8, f->data0), 0);
        assert_int_equal(backup_file_header(bf)->generation, 44);
        backup_file_free(bf);
        assert_int_equal(verify(f->path, &test_id, 44).reason, BACKUP_VERIFY_OK);
        assert_int_equal(verify(f->path, &test_id, 45).reason, BACKUP_VERIFY_STALE_GENERATION);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_create_store_release_reopen, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pieces_then_commit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_commit_releases_other, setup, teardown),
                cmocka_unit_test_setup_teardown(test_resume_position, setup, teardown),
                cmocka_unit_test_setup_teardown(test_empty_header_restores_at_start, setup, teardown),
                cmocka_unit_test(test_header_beyond),
                cmocka_unit_test_setup_teardown(test_may_replace, setup, teardown),
                cmocka_unit_test_setup_teardown(test_supersede, setup, teardown),
                cmocka_unit_test_setup_teardown(test_create_refuses_existing_and_locks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_store_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_every_header_bit_flip_in_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_data_bit_flips_in_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_truncation_at_every_sector, setup, teardown),
                cmocka_unit_test_setup_teardown(test_mdadm_file_reads_unverified, setup, teardown),
                cmocka_unit_test_setup_teardown(test_inspect_cli, setup, teardown),
                cmocka_unit_test_setup_teardown(test_continue_generation, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
