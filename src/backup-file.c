// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reshaped/backup.h"
#include "reshaped/fs-util.h"
#include "reshaped/log.h"
#include "backup-io.h"

/* Keep every offset computation far from overflow, and what we write
 * within what backup_header_check() accepts; no reshape comes near. */
#define MAX_SECTION_BYTES ((uint64_t) 1 << 40)
#define MAX_ARRAY_SECTORS ((uint64_t) 1 << 50)

struct backup_file {
        int fd;
        char *path;
        bool direct;       /* fd has O_DIRECT */
        bool writable;
        bool failed;       /* a write or sync failed: no more writes */
        uint64_t fixed_mtime;
        struct backup_header header;
        uint8_t *header_area;  /* BACKUP_HEADER_AREA_BYTES, aligned */
};

static int pwrite_full(struct backup_file *bf, const void *buf, size_t n, uint64_t off)
{
        ssize_t k;
        int r;

        for (;;) {
                k = pwrite(bf->fd, buf, n, (off_t) off);
                if (k >= 0 || errno != EINTR)
                        break;
        }
        if (k < 0 && errno == EINVAL && bf->direct) {
                r = backup_io_drop_direct(bf->fd, bf->path, &bf->direct);
                if (r < 0)
                        return r;
                return pwrite_full(bf, buf, n, off);
        }
        if (k < 0)
                return log_error_errno(errno, "Failed to write %zu bytes at offset %" PRIu64
                                       " of backup file %s: %m; the backup device failed (check its kernel log)",
                                       n, off, bf->path);
        if ((size_t) k != n)
                return log_error_errno(EIO, "Short write to backup file %s at offset %" PRIu64
                                       ": %zd of %zu bytes; the backup device failed or is full", bf->path, off, k, n);
        return 0;
}

static int sync_file(struct backup_file *bf)
{
        if (fdatasync(bf->fd) < 0)
                return log_error_errno(errno, "Failed to sync backup file %s: %m; the backup device failed (check its kernel log)",
                                       bf->path);
        return 0;
}

static uint64_t now_seconds(const struct backup_file *bf)
{
        struct timespec ts;

        if (bf->fixed_mtime)
                return bf->fixed_mtime;
        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return 0;
        return (uint64_t) ts.tv_sec;
}

/* Encodes @h (filling its checksums), writes it over the header area and
 * syncs. */
static int write_header(struct backup_file *bf, struct backup_header *h)
{
        int r;

        memset(bf->header_area, 0, BACKUP_HEADER_AREA_BYTES);
        backup_header_encode(h, bf->header_area);
        r = pwrite_full(bf, bf->header_area, BACKUP_HEADER_AREA_BYTES, 0);
        if (r < 0)
                return r;
        return sync_file(bf);
}

static struct backup_file *backup_file_new(const char *path)
{
        struct backup_file *bf;

        bf = calloc(1, sizeof(*bf));
        if (!bf)
                return NULL;
        bf->fd = -1;
        bf->path = strdup(path);
        if (!bf->path ||
            posix_memalign((void **) &bf->header_area, BACKUP_ALIGN_BYTES,
                           BACKUP_HEADER_AREA_BYTES) != 0) {
                free(bf->path);
                free(bf);
                return NULL;
        }
        return bf;
}

struct backup_file *backup_file_free(struct backup_file *bf)
{
        if (!bf)
                return NULL;
        if (bf->fd >= 0)
                close(bf->fd);
        free(bf->header_area);
        free(bf->path);
        free(bf);
        return NULL;
}

static int lock_file(struct backup_file *bf)
{
        if (flock(bf->fd, LOCK_EX | LOCK_NB) == 0)
                return 0;
        if (errno == EWOULDBLOCK)
                return log_error_errno(EBUSY, "Backup file %s is in use by another process", bf->path);
        return log_error_errno(errno, "Failed to lock %s: %m", bf->path);
}

static int zero_fill(struct backup_file *bf, uint64_t bytes)
{
        uint8_t *zeros;
        int r = 0;

        if (posix_memalign((void **) &zeros, BACKUP_ALIGN_BYTES, IO_CHUNK_BYTES) != 0)
                return log_error_errno(ENOMEM, "Out of memory");
        memset(zeros, 0, IO_CHUNK_BYTES);
        for (uint64_t off = 0; off < bytes && r == 0; off += IO_CHUNK_BYTES) {
                size_t n = bytes - off < IO_CHUNK_BYTES ? (size_t) (bytes - off) : IO_CHUNK_BYTES;

                r = pwrite_full(bf, zeros, n, off);
        }
        free(zeros);
        return r;
}

/* Real blocks, not a sparse file: a full filesystem must fail now, not
 * in the middle of a reshape. */
static int preallocate(struct backup_file *bf, uint64_t bytes)
{
        if (fallocate(bf->fd, 0, 0, (off_t) bytes) == 0)
                return 0;
        if (errno == ENOSPC)
                return log_error_errno(ENOSPC, "Not enough free space for backup file %s: it needs %"
                                       PRIu64 " bytes (%" PRIu64 " MiB); choose a filesystem with more room",
                                       bf->path, bytes, bytes >> 20);
        if (errno != EOPNOTSUPP)
                return log_error_errno(errno, "Failed to preallocate %" PRIu64 " bytes for %s: %m",
                                       bytes, bf->path);
        log_notice("%s: filesystem cannot fallocate(), writing %" PRIu64 " bytes of zeros instead",
                   bf->path, bytes);
        return zero_fill(bf, bytes);
}

/* *ours tells the caller whether the path now holds our incomplete file,
 * to be removed on failure. */
static int create_file(struct backup_file *bf, const struct backup_identity *id,
                       uint64_t max_section_bytes, unsigned flags, bool *ours)
{
        bool overwrite = flags & BACKUP_CREATE_OVERWRITE;
        uint64_t size;
        int fd, r;

        fd = backup_io_open(bf->path, O_RDWR | O_CREAT | (overwrite ? 0 : O_EXCL), 0600,
                            &bf->direct);
        if (fd == -EEXIST)
                return log_error_errno(EEXIST, "Backup file %s already exists; remove it, "
                                       "inspect it with 'reshaped inspect', or choose another path",
                                       bf->path);
        if (fd < 0)
                return log_error_errno(fd, "Failed to create backup file %s: %m", bf->path);
        bf->fd = fd;
        bf->writable = true;
        *ours = !overwrite;

        r = backup_io_file_size(fd, bf->path, &size);
        if (r < 0)
                return r;
        r = lock_file(bf);
        if (r < 0)
                return r;
        /* Truncate only once locked: the old content may be in use. */
        if (overwrite) {
                *ours = true;
                if (ftruncate(fd, 0) < 0)
                        return log_error_errno(errno, "Failed to truncate %s: %m", bf->path);
        }

        r = preallocate(bf, backup_file_size_bytes(max_section_bytes));
        if (r < 0)
                return r;

        backup_header_init(&bf->header, id, max_section_bytes, now_seconds(bf));
        r = write_header(bf, &bf->header);
        if (r < 0)
                return r;
        return fsync_parent_dir(bf->path);
}

int backup_file_create(const char *path, const struct backup_identity *id,
                       uint64_t max_section_bytes, unsigned flags,
                       struct backup_file **ret)
{
        struct backup_file *bf;
        bool ours = false;
        int r;

        if (max_section_bytes == 0 || max_section_bytes % BACKUP_ALIGN_BYTES != 0 ||
            max_section_bytes > MAX_SECTION_BYTES)
                return log_error_errno(EINVAL, "Invalid backup section size %" PRIu64 " bytes for %s: "
                                       "it must be a non-zero multiple of 4096 up to 1 TiB",
                                       max_section_bytes, path);
        bf = backup_file_new(path);
        if (!bf)
                return log_error_errno(ENOMEM, "Out of memory");

        r = create_file(bf, id, max_section_bytes, flags, &ours);
        if (r < 0) {
                if (ours && unlink(path) < 0)
                        log_warning_errno(errno, "Failed to remove incomplete backup file %s: %m", path);
                backup_file_free(bf);
                return r;
        }
        *ret = bf;
        return 0;
}


static int open_file(struct backup_file *bf)
{
        struct backup_verify v;
        uint64_t size;
        ssize_t n;
        int fd, r;

        fd = backup_io_open(bf->path, O_RDWR, 0, &bf->direct);
        if (fd == -EROFS || fd == -EACCES)
                fd = backup_io_open(bf->path, O_RDONLY, 0, &bf->direct);
        else if (fd >= 0)
                bf->writable = true;
        if (fd < 0)
                return log_error_errno(fd, "Failed to open backup file %s: %m", bf->path);
        bf->fd = fd;
        /* Lock before reading, so that the header cannot change under us. */
        if (bf->writable) {
                r = lock_file(bf);
                if (r < 0)
                        return r;
        }

        r = backup_io_file_size(fd, bf->path, &size);
        if (r < 0)
                return r;
        n = backup_io_read_header_area(fd, bf->path, &bf->direct, bf->header_area);
        if (n < 0)
                return (int) n;

        v.reason = BACKUP_VERIFY_TRUNCATED_HEADER;
        if (n >= (ssize_t) BACKUP_HEADER_BYTES)
                v = backup_header_decode(bf->header_area, &bf->header);
        if (v.reason == BACKUP_VERIFY_OK || v.reason == BACKUP_VERIFY_UNVERIFIED)
                v = backup_header_check(&bf->header, size, NULL, 0);
        if (v.reason != BACKUP_VERIFY_OK)
                return log_error_errno(EBADMSG, "Backup file %s: %s", bf->path,
                                       backup_verify_strerror(v.reason));

        if (!bf->header.has_extension)
                bf->writable = false;
        return 0;
}

int backup_file_open(const char *path, struct backup_file **ret)
{
        struct backup_file *bf;
        int r;

        bf = backup_file_new(path);
        if (!bf)
                return log_error_errno(ENOMEM, "Out of memory");
        r = open_file(bf);
        if (r < 0) {
                backup_file_free(bf);
                return r;
        }
        *ret = bf;
        return 0;
}

static int check_writable(const struct backup_file *bf, unsigned slot)
{
        if (bf->failed)
                return log_error_errno(EIO, "Backup file %s had a failed write; create a new backup file",
                                       bf->path);
        if (!bf->header.has_extension)
                return log_error_errno(EROFS, "Backup file %s was written by mdadm (no integrity "
                                       "extension); create a new one with reshaped", bf->path);
        if (!bf->writable)
                return log_error_errno(EROFS, "Backup file %s is open read-only", bf->path);
        if (slot >= BACKUP_SLOTS)
                return log_error_errno(EINVAL, "Backup slot %u does not exist (0 or 1)", slot);
        return 0;
}

static int check_store(const struct backup_file *bf, unsigned slot, uint64_t array_start_sectors,
                       uint64_t length_sectors, const void *data)
{
        const struct backup_section *s = &bf->header.sections[slot], *other = &bf->header.sections[!slot];

        if (s->length_sectors > 0)
                return log_error_errno(EBUSY, "%s: slot %u still holds array sectors %" PRIu64 "+%" PRIu64
                                       "; release it first", bf->path, slot,
                                       s->array_start_sectors, s->length_sectors);
        if (length_sectors == 0 || length_sectors % BACKUP_ALIGN_SECTORS != 0 ||
            length_sectors > bf->header.max_section_bytes / 512)
                return log_error_errno(EINVAL, "%s: section of %" PRIu64 " sectors does not fit: it must "
                                       "be a non-zero multiple of %u sectors up to %" PRIu64, bf->path,
                                       length_sectors, BACKUP_ALIGN_SECTORS,
                                       bf->header.max_section_bytes / 512);
        if (array_start_sectors > MAX_ARRAY_SECTORS)
                return log_error_errno(EINVAL, "%s: array start %" PRIu64 " is out of range",
                                       bf->path, array_start_sectors);
        if (other->length_sectors > 0 &&
            array_start_sectors < other->array_start_sectors + other->length_sectors &&
            other->array_start_sectors < array_start_sectors + length_sectors)
                return log_error_errno(EINVAL, "%s: array sectors %" PRIu64 "+%" PRIu64
                                       " overlap slot %u", bf->path, array_start_sectors,
                                       length_sectors, !slot);
        if (data && (uintptr_t) data % BACKUP_ALIGN_BYTES != 0)
                return log_error_errno(EINVAL, "%s: data buffer is not 4 KiB aligned", bf->path);
        return 0;
}

/* Writes @h as the next generation, synced; the file refuses further
 * writes if that fails (the page cache state is then unknown). */
static int publish_header(struct backup_file *bf, struct backup_header *h)
{
        int r;

        h->generation++;
        h->mtime = now_seconds(bf);
        r = write_header(bf, h);
        if (r < 0) {
                bf->failed = true;
                return r;
        }
        bf->header = *h;
        return 0;
}

int backup_file_write_data(struct backup_file *bf, unsigned slot, uint64_t offset_bytes,
                           const void *data, size_t bytes)
{
        const struct backup_section *sec;
        int r;

        r = check_writable(bf, slot);
        if (r < 0)
                return r;
        sec = &bf->header.sections[slot];
        if (sec->length_sectors > 0)
                return log_error_errno(EBUSY, "%s: slot %u still holds array sectors %" PRIu64 "+%" PRIu64
                                       "; release it first", bf->path, slot,
                                       sec->array_start_sectors, sec->length_sectors);
        if (offset_bytes % BACKUP_ALIGN_BYTES || bytes % BACKUP_ALIGN_BYTES ||
            (uintptr_t) data % BACKUP_ALIGN_BYTES || offset_bytes + bytes > bf->header.max_section_bytes)
                return log_error_errno(EINVAL, "%s: %zu bytes at %" PRIu64 " of slot %u: must be 4 KiB "
                                       "aligned and inside the %" PRIu64 "-byte slot", bf->path, bytes,
                                       offset_bytes, slot, bf->header.max_section_bytes);
        r = pwrite_full(bf, data, bytes, backup_section_offset_bytes(&bf->header, slot) + offset_bytes);
        if (r < 0)
                bf->failed = true;
        return r;
}

int backup_file_commit(struct backup_file *bf, unsigned slot, uint64_t array_start_sectors,
                       uint64_t length_sectors, uint32_t data_crc32c, bool release_other)
{
        struct backup_header h;
        int r;

        r = check_writable(bf, slot);
        if (r < 0)
                return r;
        /* The data is written already; the buffer check does not apply. */
        r = check_store(bf, slot, array_start_sectors, length_sectors, NULL);
        if (r < 0)
                return r;
        r = sync_file(bf);
        if (r < 0) {
                bf->failed = true;
                return r;
        }

        h = bf->header;
        h.sections[slot] = (struct backup_section) {
                .array_start_sectors = array_start_sectors,
                .length_sectors = length_sectors,
                .data_crc32c = data_crc32c,
        };
        if (release_other)
                h.sections[!slot] = (struct backup_section) {};
        return publish_header(bf, &h);
}

int backup_file_store(struct backup_file *bf, unsigned slot, uint64_t array_start_sectors,
                      uint64_t length_sectors, const void *data)
{
        size_t bytes = (size_t) (length_sectors * 512);
        int r;

        r = check_writable(bf, slot);
        if (r < 0)
                return r;
        r = check_store(bf, slot, array_start_sectors, length_sectors, data);
        if (r < 0)
                return r;
        r = backup_file_write_data(bf, slot, 0, data, bytes);
        if (r < 0)
                return r;
        return backup_file_commit(bf, slot, array_start_sectors, length_sectors,
                                  backup_crc32c(0, data, bytes), false);
}

int backup_file_set_resume(struct backup_file *bf, uint64_t array_sectors)
{
        struct backup_header h;
        int r;

        if (bf->header.resume_array_sectors == array_sectors)
                return 0;
        if (bf->header.sections[0].length_sectors || bf->header.sections[1].length_sectors) {
                bf->header.resume_array_sectors = array_sectors;
                return 0;
        }
        r = check_writable(bf, 0);
        if (r < 0)
                return r;
        h = bf->header;
        h.resume_array_sectors = array_sectors;
        return publish_header(bf, &h);
}

int backup_file_continue_generation(struct backup_file *bf, uint64_t after)
{
        struct backup_header h;
        int r;

        if (bf->header.generation > after)
                return 0;
        r = check_writable(bf, 0);
        if (r < 0)
                return r;
        h = bf->header;
        h.generation = after;
        return publish_header(bf, &h);
}

bool backup_header_beyond(const struct backup_header *h, bool backwards,
                          uint64_t checkpoint_array_sectors)
{
        for (unsigned i = 0; i < BACKUP_SLOTS; i++) {
                const struct backup_section *s = &h->sections[i];

                if (!s->length_sectors)
                        continue;
                if (backwards ? s->array_start_sectors < checkpoint_array_sectors
                              : s->array_start_sectors + s->length_sectors > checkpoint_array_sectors)
                        return true;
        }
        return false;
}

int backup_file_may_replace(const char *path, const uint8_t uuid[16], const char *md_devnode,
                            bool backwards, uint64_t checkpoint_array_sectors)
{
        struct backup_report rep;
        struct stat st;

        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
                return 0;
        if (backup_file_verify(path, NULL, 0, &rep) < 0 || !rep.header_read)
                return 0;
        if (memcmp(rep.header.identity.uuid, uuid, 16) != 0)
                return log_error_errno(EEXIST,
                                       "%s holds a backup of another array; move it away or choose another --backup-file.",
                                       path);
        if (backup_header_beyond(&rep.header, backwards, checkpoint_array_sectors))
                return log_error_errno(EBUSY,
                                       "%s holds sections beyond the on-disk checkpoint (array sector %" PRIu64 ") that this process did not write: they may be the only good copy of what the kernel was rewriting. Nothing was changed. Stop the array (mdadm --stop %s) and run 'reshaped restore %s' first.",
                                       path, checkpoint_array_sectors, md_devnode, md_devnode);
        return 0;
}

int backup_file_supersede(struct backup_file *bf, uint64_t checkpoint_array_sectors)
{
        struct backup_header h;
        int r;

        r = check_writable(bf, 0);
        if (r < 0)
                return r;
        h = bf->header;
        h.sections[0] = h.sections[1] = (struct backup_section) {};
        h.resume_array_sectors = checkpoint_array_sectors;
        return publish_header(bf, &h);
}

int backup_file_rename(struct backup_file *bf, const char *path)
{
        char *copy;
        int r;

        copy = strdup(path);
        if (!copy)
                return log_error_errno(ENOMEM, "Out of memory");
        if (rename(bf->path, path) < 0) {
                r = log_error_errno(errno, "Failed to rename %s to %s: %m", bf->path, path);
                free(copy);
                return r;
        }
        free(bf->path);
        bf->path = copy;
        return fsync_parent_dir(path);
}

int backup_file_release(struct backup_file *bf, unsigned slot)
{
        struct backup_header h;
        int r;

        r = check_writable(bf, slot);
        if (r < 0)
                return r;
        if (bf->header.sections[slot].length_sectors == 0)
                return 0;

        h = bf->header;
        h.sections[slot] = (struct backup_section) {};
        return publish_header(bf, &h);
}

int backup_file_read_section(struct backup_file *bf, unsigned slot, void *buf)
{
        const struct backup_section *s;
        size_t bytes;
        ssize_t n;

        if (slot >= BACKUP_SLOTS || slot >= bf->header.format)
                return log_error_errno(EINVAL, "%s: backup slot %u does not exist", bf->path, slot);
        s = &bf->header.sections[slot];
        if (s->length_sectors == 0)
                return -ENODATA;

        bytes = (size_t) (s->length_sectors * 512);
        n = backup_io_pread(bf->fd, bf->path, &bf->direct, buf, bytes,
                            backup_section_offset_bytes(&bf->header, slot));
        if (n < 0)
                return (int) n;
        if ((size_t) n != bytes)
                return log_error_errno(EBADMSG, "%s: section %u ends beyond the end of the file",
                                       bf->path, slot);
        if (!bf->header.has_extension)
                return 1;
        if (!backup_section_crc_matches(&bf->header, slot, backup_crc32c(0, buf, bytes)))
                return log_error_errno(EBADMSG, "%s: section %u (array sectors %" PRIu64 "+%" PRIu64
                                       "): %s", bf->path, slot, s->array_start_sectors,
                                       s->length_sectors,
                                       backup_verify_strerror(BACKUP_VERIFY_DATA_CRC));
        return 0;
}

const struct backup_header *backup_file_header(const struct backup_file *bf)
{
        return &bf->header;
}

void backup_file_set_mtime(struct backup_file *bf, uint64_t mtime)
{
        bf->fixed_mtime = mtime;
}
