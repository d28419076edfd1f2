// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reshaped/fs-util.h"
#include "reshaped/log.h"
#include "reshaped/record.h"

static const char *state_dir(void)
{
        const char *e = getenv("RESHAPED_STATE_DIR");

        return e && *e ? e : "/var/lib/reshaped";
}

static int link_path(const char *key, char *buf, size_t size)
{
        if (snprintf(buf, size, "%s/%s.backup", state_dir(), key) >= (int) size)
                return log_error_errno(ENAMETOOLONG, "State path too long for %s.", key);
        return 0;
}

/* Replaces the symlink at @link atomically. */
static int put_link(const char *link, const char *target)
{
        char tmp[PATH_MAX];
        int r;

        if (snprintf(tmp, sizeof(tmp), "%s.tmp", link) >= (int) sizeof(tmp))
                return log_error_errno(ENAMETOOLONG, "State path too long: %s", link);
        (void) unlink(tmp);
        if (symlink(target, tmp) < 0)
                return log_error_errno(errno, "Failed to create %s: %m", tmp);
        if (rename(tmp, link) < 0) {
                r = log_error_errno(errno, "Failed to rename %s to %s: %m", tmp, link);
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

int record_save(const char *uuid, const char *md_name, const char *backup_path)
{
        char abs[PATH_MAX], link[PATH_MAX];
        int r;

        /* The backup file may not exist yet; make a relative path absolute
         * against the working directory. */
        if (backup_path[0] == '/') {
                if (snprintf(abs, sizeof(abs), "%s", backup_path) >= (int) sizeof(abs))
                        return log_error_errno(ENAMETOOLONG, "Path too long: %s", backup_path);
        } else {
                char cwd[PATH_MAX];

                if (!getcwd(cwd, sizeof(cwd)))
                        return log_error_errno(errno, "Failed to get the working directory: %m");
                if (snprintf(abs, sizeof(abs), "%s/%s", cwd, backup_path) >= (int) sizeof(abs))
                        return log_error_errno(ENAMETOOLONG, "Path too long: %s", backup_path);
        }

        if (mkdir(state_dir(), 0700) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Failed to create %s: %m", state_dir());

        r = link_path(uuid, link, sizeof(link));
        if (r < 0)
                return r;
        r = put_link(link, abs);
        if (r < 0)
                return r;
        r = link_path(md_name, link, sizeof(link));
        if (r < 0)
                return r;
        r = put_link(link, abs);
        if (r < 0)
                return r;
        return fsync_parent_dir(link);
}

int record_lookup(const char *uuid_or_name, char **ret)
{
        char link[PATH_MAX], target[PATH_MAX];
        ssize_t n;
        int r;

        r = link_path(uuid_or_name, link, sizeof(link));
        if (r < 0)
                return r;
        n = readlink(link, target, sizeof(target) - 1);
        if (n < 0)
                return -errno;
        target[n] = '\0';
        *ret = strdup(target);
        return *ret ? 0 : -ENOMEM;
}

static int remove_link(const char *key)
{
        char link[PATH_MAX];
        int r;

        r = link_path(key, link, sizeof(link));
        if (r < 0)
                return r;
        if (unlink(link) < 0 && errno != ENOENT)
                return log_warning_errno(errno, "Failed to remove %s: %m", link);
        return 0;
}

int record_remove(const char *uuid, const char *md_name)
{
        int r = remove_link(uuid);
        int k = remove_link(md_name);

        return r < 0 ? r : k;
}

int record_foreach(int (*fn)(const char *key, const char *backup_path, void *userdata), void *userdata)
{
        const char *suffix = ".backup";
        size_t sl = strlen(suffix);
        struct dirent *de;
        int r = 0;
        DIR *d;

        d = opendir(state_dir());
        if (!d)
                return errno == ENOENT ? 0 : log_error_errno(errno, "Failed to open %s: %m", state_dir());
        while (r >= 0 && (errno = 0, de = readdir(d))) {
                size_t l = strlen(de->d_name);
                char key[NAME_MAX + 1], *path = NULL;

                if (l <= sl || strcmp(de->d_name + l - sl, suffix) != 0)
                        continue;
                snprintf(key, sizeof(key), "%.*s", (int) (l - sl), de->d_name);
                if (record_lookup(key, &path) < 0)
                        continue;
                r = fn(key, path, userdata);
                free(path);
        }
        if (r >= 0 && errno != 0)
                r = log_error_errno(errno, "Failed to read %s: %m", state_dir());
        closedir(d);
        return r;
}
