// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reshaped/fs-util.h"
#include "reshaped/log.h"

int fsync_parent_dir(const char *path)
{
        char *copy;
        int fd, r = 0;

        copy = strdup(path);
        if (!copy)
                return log_error_errno(ENOMEM, "Out of memory");
        fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                r = log_error_errno(errno, "Failed to open the directory of %s: %m", path);
        else if (fsync(fd) < 0)
                r = log_error_errno(errno, "Failed to sync the directory of %s: %m", path);
        if (fd >= 0 && close(fd) < 0 && r == 0)
                r = log_error_errno(errno, "Failed to close the directory of %s: %m", path);
        free(copy);
        return r;
}

int fs_replace_file(const char *path, const void *data, size_t len, mode_t mode, bool durable)
{
        char tmp[PATH_MAX];
        ssize_t n;
        int fd, r;

        if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int) sizeof(tmp))
                return log_error_errno(ENAMETOOLONG, "Path too long: %s", path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return log_error_errno(errno, "Failed to create %s: %m", tmp);
        n = write(fd, data, len);
        if (n < 0 || (size_t) n != len || (durable && fsync(fd) < 0)) {
                r = log_error_errno(n < 0 || (size_t) n == len ? errno : EIO, "Failed to write %s: %m", tmp);
                close(fd);
                (void) unlink(tmp);
                return r;
        }
        close(fd);
        if (rename(tmp, path) < 0) {
                r = log_error_errno(errno, "Failed to rename %s to %s: %m", tmp, path);
                (void) unlink(tmp);
                return r;
        }
        return durable ? fsync_parent_dir(path) : 0;
}
