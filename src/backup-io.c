// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reshaped/backup.h"
#include "reshaped/log.h"
#include "backup-io.h"

bool backup_io_aligned(const void *p, uint64_t off, size_t n)
{
        return (uintptr_t) p % BACKUP_ALIGN_BYTES == 0 && off % BACKUP_ALIGN_BYTES == 0 &&
               n % BACKUP_ALIGN_BYTES == 0;
}

/* Opens and then turns on O_DIRECT when the filesystem takes it: the data
 * then goes to the device, not into a page cache that fdatasync must
 * flush. (Asking at open() would create the file before failing with
 * EINVAL, and a retry with O_EXCL would then find it.) */
int backup_io_open(const char *path, int flags, mode_t mode, bool *direct)
{
        int fd, fl;

        fd = open(path, flags | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        fl = fcntl(fd, F_GETFL);
        *direct = fl >= 0 && fcntl(fd, F_SETFL, fl | O_DIRECT) == 0;
        if (!*direct)
                log_debug_errno(errno, "%s: filesystem refuses O_DIRECT (%m), using buffered I/O and fdatasync",
                                path);
        return fd;
}

/* Some filesystems accept O_DIRECT at open and refuse it per request,
 * and misaligned requests cannot use it at all. */
int backup_io_drop_direct(int fd, const char *path, bool *direct)
{
        int flags = fcntl(fd, F_GETFL);

        if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_DIRECT) < 0)
                return log_error_errno(errno, "Failed to switch %s to buffered I/O: %m", path);
        *direct = false;
        log_debug("%s: O_DIRECT refused, using buffered I/O and fdatasync", path);
        return 0;
}

/* Reads up to @n bytes; fewer only at end of file. Returns the count. */
ssize_t backup_io_pread(int fd, const char *path, bool *direct, void *buf, size_t n,
                        uint64_t off)
{
        size_t done = 0;
        int r;

        if (*direct && !backup_io_aligned(buf, off, n)) {
                r = backup_io_drop_direct(fd, path, direct);
                if (r < 0)
                        return r;
        }
        while (done < n) {
                ssize_t k = pread(fd, (uint8_t *) buf + done, n - done, (off_t) (off + done));

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EINVAL && *direct) {
                        r = backup_io_drop_direct(fd, path, direct);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (k < 0)
                        return log_error_errno(errno, "Failed to read %zu bytes at offset %" PRIu64
                                               " of %s: %m", n - done, off + done, path);
                if (k == 0)
                        break;
                done += (size_t) k;
        }
        return (ssize_t) done;
}

int backup_io_file_size(int fd, const char *path, uint64_t *ret)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Failed to stat %s: %m", path);
        if (!S_ISREG(st.st_mode))
                return log_error_errno(EINVAL, "%s is not a regular file; a backup must be a file", path);
        *ret = (uint64_t) st.st_size;
        return 0;
}

/* Reads the header block; returns the bytes read (< 512: truncated). */
ssize_t backup_io_read_header_area(int fd, const char *path, bool *direct, uint8_t *area)
{
        memset(area, 0, BACKUP_HEADER_AREA_BYTES);
        return backup_io_pread(fd, path, direct, area, BACKUP_HEADER_AREA_BYTES, 0);
}
