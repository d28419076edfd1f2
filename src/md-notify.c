// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "reshaped/log.h"
#include "reshaped/md-parse.h"
#include "reshaped/md.h"
#include "md-internal.h"

static int consume(struct md *md, int fd, struct md_sync_completed *ret)
{
        char buf[ATTR_BUF_SIZE];
        int r;

        /* sysfs shows the attribute afresh and re-arms poll only on a read
         * from offset 0. */
        r = md_read_small_fd(fd, buf, sizeof(buf));
        if (r < 0)
                return log_error_errno(r, "Failed to read sync_completed of %s: %m", md->name);
        return md_parsed(md, "sync_completed", buf, md_parse_sync_completed(buf, ret));
}

int md_sync_completed_fd(struct md *md)
{
        char buf[ATTR_BUF_SIZE];
        int fd, r;

        if (md->sync_completed_fd >= 0)
                return md->sync_completed_fd;

        fd = openat(md->dir_fd, "sync_completed", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open sync_completed of %s: %m", md->name);
        /* Poll wakes for changes after the last read of this fd. */
        r = md_read_small_fd(fd, buf, sizeof(buf));
        if (r < 0) {
                log_error_errno(r, "Failed to read sync_completed of %s: %m", md->name);
                close(fd);
                return r;
        }
        md->sync_completed_fd = fd;
        return fd;
}

int md_sync_completed_consume(struct md *md, struct md_sync_completed *ret)
{
        int fd = md_sync_completed_fd(md);

        if (fd < 0)
                return fd;
        return consume(md, fd, ret);
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int md_wait_sync_completed(struct md *md, int timeout_ms, struct md_sync_completed *ret)
{
        int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
        int fd, r;

        fd = md_sync_completed_fd(md);
        if (fd < 0)
                return fd;

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLPRI | POLLERR };
                int wait_ms = -1;

                if (deadline >= 0) {
                        int64_t left = deadline - now_ms();

                        wait_ms = left > 0 ? (int) left : 0;
                }
                r = poll(&p, 1, wait_ms);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "Failed to wait for sync_completed of %s: %m",
                                               md->name);
                }
                if (r == 0)
                        return 0;
                if (p.revents & POLLNVAL)
                        return log_error_errno(EBADF, "Failed to wait for sync_completed of %s: %m",
                                               md->name);
                if (p.revents & (POLLPRI | POLLERR)) {
                        r = consume(md, fd, ret);
                        return r < 0 ? r : 1;
                }
        }
}
