// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-login.h>

#include "reshaped/log.h"
#include "reshaped/supervise-lock.h"

static const char *run_dir(void)
{
        const char *e = getenv("RESHAPED_RUN_DIR");

        return e && *e ? e : "/run/reshaped";
}

/* The holder truncates the file and writes its pid right after it locked
 * it: a reader may come in between, so it retries for a moment. */
static pid_t read_holder(int fd)
{
        for (int attempt = 0; attempt < 20; attempt++) {
                char buf[32];
                ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
                long pid;
                char *end;

                if (n > 0) {
                        buf[n] = '\0';
                        errno = 0;
                        pid = strtol(buf, &end, 10);
                        if (!errno && end != buf && *end == '\n' && pid > 0 && pid <= INT32_MAX)
                                return (pid_t) pid;
                }
                (void) nanosleep(&(struct timespec) { .tv_nsec = 10 * 1000 * 1000 }, NULL);
        }
        return 0;
}

static int refuse(const char *md_name, const char *path, pid_t holder)
{
        char *unit = NULL;
        int r;

        if (holder == 0)
                return log_error_errno(EBUSY, "%s is already supervised by another reshaped (it holds %s and has not written its pid yet); stop it or let it finish.",
                                       md_name, path);
        if (sd_pid_get_unit(holder, &unit) >= 0 && unit)
                r = log_error_errno(EBUSY, "%s is already supervised by reshaped pid %d of %s (it holds %s); stop it with 'systemctl stop %s' or let it finish.",
                                    md_name, (int) holder, unit, path, unit);
        else
                r = log_error_errno(EBUSY, "%s is already supervised by reshaped pid %d (it holds %s); stop it with 'kill -TERM %d' or let it finish.",
                                    md_name, (int) holder, path, (int) holder);
        free(unit);
        return r;
}

int supervise_lock_take(const char *md_name, pid_t *ret_holder)
{
        char path[PATH_MAX], pid[32];
        int fd, len, r;

        *ret_holder = 0;
        if (snprintf(path, sizeof(path), "%s/%s.lock", run_dir(), md_name) >= (int) sizeof(path))
                return log_error_errno(ENAMETOOLONG, "Lock path too long for %s.", md_name);
        if (mkdir(run_dir(), 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Failed to create %s for the lock of %s: %m", run_dir(), md_name);
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open the lock %s of %s: %m", path, md_name);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = errno;
                if (r == EWOULDBLOCK) {
                        *ret_holder = read_holder(fd);
                        r = refuse(md_name, path, *ret_holder);
                } else {
                        r = log_error_errno(r, "Failed to lock %s for %s: %m", path, md_name);
                }
                close(fd);
                return r;
        }
        /* What a killed holder wrote is stale now. */
        len = snprintf(pid, sizeof(pid), "%d\n", (int) getpid());
        errno = 0;
        if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t) len, 0) != len) {
                r = log_error_errno(errno ? errno : EIO, "Failed to write the pid into the lock %s: %m", path);
                close(fd);
                return r;
        }
        log_debug("%s: holding %s.", md_name, path);
        return fd;
}
