// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reshaped/backup/backup.h"
#include "reshaped/util/log.h"
#include "backup/backup-io.h"

/* Whether @slot's data lies inside the file, with overflow-safe sums. */
static bool section_readable(const struct backup_header *h, unsigned slot, uint64_t file_bytes)
{
        uint64_t start_sectors, length = h->sections[slot].length_sectors;

        if (length == 0 || length > file_bytes / 512)
                return false;
        if (h->devstart_sectors > file_bytes / 512 ||
            (slot && h->devstart2_sectors > file_bytes / 512))
                return false;
        start_sectors = h->devstart_sectors + (slot ? h->devstart2_sectors : 0);
        return start_sectors <= file_bytes / 512 - length;
}

static int crc_section(int fd, const char *path, bool *direct, uint8_t *buf, size_t buf_bytes,
                       uint64_t off, uint64_t bytes, uint32_t *ret)
{
        uint32_t crc = 0;

        while (bytes > 0) {
                size_t n = bytes < buf_bytes ? (size_t) bytes : buf_bytes;
                ssize_t k = backup_io_pread(fd, path, direct, buf, n, off);

                if (k < 0)
                        return (int) k;
                if ((size_t) k != n)
                        return log_error_errno(EIO, "%s: file shrank while being read", path);
                crc = backup_crc32c(crc, buf, n);
                off += n;
                bytes -= n;
        }
        *ret = crc;
        return 0;
}

static int verify_header(int fd, const char *path, bool *direct, struct backup_report *out)
{
        enum backup_verify_reason reason;
        uint8_t *area;
        ssize_t n;

        if (posix_memalign((void **) &area, BACKUP_ALIGN_BYTES, BACKUP_HEADER_AREA_BYTES) != 0)
                return log_error_errno(ENOMEM, "Out of memory");
        n = backup_io_read_header_area(fd, path, direct, area);
        if (n >= 0 && n < (ssize_t) BACKUP_HEADER_BYTES)
                out->header_verdict = (struct backup_verify) { BACKUP_VERIFY_TRUNCATED_HEADER, -1 };
        else if (n >= 0) {
                out->header_verdict = backup_header_decode(area, &out->header);
                reason = out->header_verdict.reason;
                out->header_read = reason != BACKUP_VERIFY_BAD_MAGIC &&
                                   reason != BACKUP_VERIFY_BAD_MDADM_CSUM &&
                                   reason != BACKUP_VERIFY_BAD_MDADM_CSUM2;
        }
        free(area);
        return n < 0 ? (int) n : 0;
}

/* Every section that lies within the file is checksummed, even when
 * something else is wrong, so that a report shows all there is to see. */
static int checksum_sections(int fd, const char *path, bool *direct, struct backup_report *out)
{
        const struct backup_header *h = &out->header;
        uint64_t largest = 0;
        size_t buf_bytes;
        uint8_t *buf;
        int r = 0;

        for (unsigned i = 0; out->header_read && i < h->format; i++)
                if (section_readable(h, i, out->file_bytes) &&
                    h->sections[i].length_sectors * 512 > largest)
                        largest = h->sections[i].length_sectors * 512;
        if (largest == 0)
                return 0;

        buf_bytes = largest < IO_CHUNK_BYTES ? (size_t) largest : IO_CHUNK_BYTES;
        buf_bytes = (buf_bytes + BACKUP_ALIGN_BYTES - 1) / BACKUP_ALIGN_BYTES * BACKUP_ALIGN_BYTES;
        if (posix_memalign((void **) &buf, BACKUP_ALIGN_BYTES, buf_bytes) != 0)
                return log_error_errno(ENOMEM, "Out of memory");
        for (unsigned i = 0; r == 0 && i < h->format; i++) {
                if (!section_readable(h, i, out->file_bytes))
                        continue;
                r = crc_section(fd, path, direct, buf, buf_bytes, backup_section_offset_bytes(h, i),
                                h->sections[i].length_sectors * 512, &out->sections[i].crc32c);
                out->sections[i].crc_computed = r == 0;
        }
        free(buf);
        return r;
}

/* The first problem, in the order: header, layout and size, identity,
 * generation, data; then whether the data could be verified at all. */
static struct backup_verify final_verdict(const struct backup_report *out,
                                          const struct backup_identity *expect,
                                          uint64_t min_generation)
{
        const struct backup_header *h = &out->header;
        struct backup_verify v = out->header_verdict;

        if (v.reason != BACKUP_VERIFY_OK && v.reason != BACKUP_VERIFY_UNVERIFIED)
                return v;
        v = backup_header_check(h, out->file_bytes, expect, min_generation);
        if (v.reason != BACKUP_VERIFY_OK)
                return v;
        for (unsigned i = 0; h->has_extension && i < h->format; i++)
                if (h->sections[i].length_sectors > 0 &&
                    !backup_section_crc_matches(h, i, out->sections[i].crc32c))
                        return (struct backup_verify) { BACKUP_VERIFY_DATA_CRC, (int) i };
        return out->header_verdict;
}

static int verify_fd(int fd, const char *path, bool *direct, const struct backup_identity *expect,
                     uint64_t min_generation, struct backup_report *out)
{
        int r;

        r = backup_io_file_size(fd, path, &out->file_bytes);
        if (r < 0)
                return r;
        r = verify_header(fd, path, direct, out);
        if (r < 0)
                return r;
        r = checksum_sections(fd, path, direct, out);
        if (r < 0)
                return r;
        out->verdict = final_verdict(out, expect, min_generation);
        return 0;
}

int backup_file_verify(const char *path, const struct backup_identity *expect,
                       uint64_t min_generation, struct backup_report *out)
{
        bool direct;
        int fd, r;

        *out = (struct backup_report) {};
        fd = backup_io_open(path, O_RDONLY, 0, &direct);
        if (fd < 0)
                return log_error_errno(fd, "Failed to open backup file %s: %m", path);
        r = verify_fd(fd, path, &direct, expect, min_generation, out);
        close(fd);
        return r;
}

bool backup_file_is_of_array(const char *path, const uint8_t uuid[16])
{
        struct backup_report rep = {};

        if (!path || access(path, F_OK) < 0)
                return false;
        return backup_file_verify(path, NULL, 0, &rep) == 0 && rep.header_read &&
               (rep.header_verdict.reason == BACKUP_VERIFY_OK ||
                rep.header_verdict.reason == BACKUP_VERIFY_UNVERIFIED) &&
               memcmp(rep.header.identity.uuid, uuid, 16) == 0;
}
