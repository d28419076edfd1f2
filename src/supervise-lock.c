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

#include "reshaped/fs-util.h"
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
        {
                sigset_t pause_mask;

                sigemptyset(&pause_mask);
                sigaddset(&pause_mask, SUPERVISE_PAUSE_SIGNAL);
                if (sigprocmask(SIG_BLOCK, &pause_mask, NULL) < 0) {
                        r = log_error_errno(errno, "Failed to block the pause signal: %m");
                        close(fd);
                        return r;
                }
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

int supervise_lock_holder(const char *md_name, pid_t *ret_pid)
{
        char path[PATH_MAX];
        int fd, r;

        *ret_pid = 0;
        if (snprintf(path, sizeof(path), "%s/%s.lock", run_dir(), md_name) >= (int) sizeof(path))
                return log_error_errno(ENAMETOOLONG, "Lock path too long for %s.", md_name);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0 && errno == ENOENT)
                return 0;
        if (fd < 0)
                return log_error_errno(errno, "Failed to open the lock %s of %s: %m", path, md_name);
        /* A shared lock, let go at once: a supervisor starting in that
         * instant would take it for another's and refuse. */
        if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
                r = 0;
        } else if (errno == EWOULDBLOCK) {
                *ret_pid = read_holder(fd);
                r = 1;
        } else {
                r = log_error_errno(errno, "Failed to test the lock %s of %s: %m", path, md_name);
        }
        close(fd);
        return r;
}

static int held_path(const char *md_name, const char *suffix, char *buf, size_t size)
{
        if (snprintf(buf, size, "%s/%s.held%s", run_dir(), md_name, suffix) >= (int) size)
                return log_error_errno(ENAMETOOLONG, "Path too long for the hold of %s.", md_name);
        return 0;
}

int supervise_held_write(const char *md_name, const struct supervise_held *h)
{
        char path[PATH_MAX], line[160];
        int len, r;

        r = held_path(md_name, "", path, sizeof(path));
        if (r < 0)
                return r;
        len = snprintf(line, sizeof(line), "%" PRIu64 " %d %" PRIu64 " %" PRIu64 " %s\n", h->request,
                       (int) h->pid, h->progress_sectors, h->position_array_sectors,
                       h->final_window ? "final" : "held");
        return fs_replace_file(path, line, (size_t) len, 0644, false);
}

int supervise_held_read(const char *md_name, struct supervise_held *ret)
{
        char path[PATH_MAX], word[8];
        unsigned long long req, prog, pos;
        int pid, r;
        FILE *f;

        r = held_path(md_name, "", path, sizeof(path));
        if (r < 0)
                return r;
        f = fopen(path, "re");
        if (!f)
                return errno == ENOENT ? -ENOENT : log_error_errno(errno, "Failed to open %s: %m", path);
        r = fscanf(f, "%llu %d %llu %llu %7s", &req, &pid, &prog, &pos, word);
        fclose(f);
        if (r != 5 || (strcmp(word, "held") != 0 && strcmp(word, "final") != 0))
                return log_error_errno(EBADMSG, "%s does not say where %s is held.", path, md_name);
        *ret = (struct supervise_held) {
                .request = req,
                .pid = (pid_t) pid,
                .progress_sectors = prog,
                .position_array_sectors = pos,
                .final_window = strcmp(word, "final") == 0,
        };
        return 0;
}

void supervise_held_remove(const char *md_name)
{
        char path[PATH_MAX];

        if (held_path(md_name, "", path, sizeof(path)) < 0)
                return;
        if (unlink(path) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Failed to remove %s: %m", path);
}
