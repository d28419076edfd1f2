// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
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
