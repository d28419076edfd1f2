// SPDX-License-Identifier: GPL-2.0-or-later
#include <endian.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reshaped/backup/backup.h"
#include "reshaped/util/fs-util.h"
#include "reshaped/util/log.h"
#include "reshaped/supervise/record.h"

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

static int remove_token(const char *uuid)
{
        char path[PATH_MAX];
        int r;

        r = record_token_path(uuid, path, sizeof(path));
        if (r < 0)
                return r;
        if (unlink(path) < 0 && errno != ENOENT)
                return log_warning_errno(errno, "Failed to remove %s: %m", path);
        return 0;
}

int record_remove(const char *uuid, const char *md_name)
{
        int r = remove_link(uuid);
        int k = remove_link(md_name);
        int t = remove_token(uuid);
        int p = record_pause_clear(uuid);

        return r < 0 ? r : k < 0 ? k : t < 0 ? t : p;
}

/* The token file: one block, far inside a sector, so that a write of it
 * is never torn; its CRC32C catches whatever else damages it. */
#define TOKEN_MAGIC        "reshaped-token-1"
#define TOKEN_MAGIC_BYTES  16
#define TOKEN_UUID_OFFSET  16
#define TOKEN_GEN_OFFSET   (TOKEN_UUID_OFFSET + BACKUP_UUID_STRING_MAX)
#define TOKEN_CRC_OFFSET   (TOKEN_GEN_OFFSET + 8)
#define TOKEN_BYTES        (TOKEN_CRC_OFFSET + 4)

struct record_token {
        int fd;
        bool synced_once;          /* the file's size and name are durable */
        char uuid[BACKUP_UUID_STRING_MAX];
        char path[PATH_MAX];
};

int record_token_path(const char *uuid, char *buf, size_t size)
{
        if (snprintf(buf, size, "%s/%s.generation", state_dir(), uuid) >= (int) size)
                return log_error_errno(ENAMETOOLONG, "State path too long for %s.", uuid);
        return 0;
}

static void token_encode(const char *uuid, uint64_t generation, uint8_t out[TOKEN_BYTES])
{
        uint64_t g = htole64(generation);
        uint32_t crc;

        memset(out, 0, TOKEN_BYTES);
        memcpy(out, TOKEN_MAGIC, TOKEN_MAGIC_BYTES);
        strncpy((char *) out + TOKEN_UUID_OFFSET, uuid, BACKUP_UUID_STRING_MAX - 1);
        memcpy(out + TOKEN_GEN_OFFSET, &g, 8);
        crc = htole32(backup_crc32c(0, out, TOKEN_CRC_OFFSET));
        memcpy(out + TOKEN_CRC_OFFSET, &crc, 4);
}

int record_token_open(const char *uuid, struct record_token **ret)
{
        struct record_token *t;
        int r;

        if (strlen(uuid) >= BACKUP_UUID_STRING_MAX)
                return log_error_errno(EINVAL, "Internal error: '%s' is not an array UUID.", uuid);
        t = calloc(1, sizeof(*t));
        if (!t)
                return log_error_errno(ENOMEM, "Out of memory.");
        snprintf(t->uuid, sizeof(t->uuid), "%s", uuid);
        r = record_token_path(uuid, t->path, sizeof(t->path));
        if (r < 0)
                goto fail;
        if (mkdir(state_dir(), 0700) < 0 && errno != EEXIST) {
                r = log_error_errno(errno, "Failed to create %s: %m", state_dir());
                goto fail;
        }
        t->fd = open(t->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (t->fd < 0) {
                r = log_error_errno(errno, "Failed to open the generation token %s: %m", t->path);
                goto fail;
        }
        *ret = t;
        return 0;
fail:
        free(t);
        return r;
}

int record_token_write(struct record_token *t, uint64_t generation)
{
        uint8_t buf[TOKEN_BYTES];
        ssize_t n;

        token_encode(t->uuid, generation, buf);
        n = pwrite(t->fd, buf, sizeof(buf), 0);
        if (n < 0)
                return log_error_errno(errno, "Failed to write the generation token %s: %m; check the filesystem of %s.",
                                       t->path, state_dir());
        if ((size_t) n != sizeof(buf))
                return log_error_errno(EIO, "Short write to the generation token %s (%zd of %zu bytes); check the filesystem of %s.",
                                       t->path, n, sizeof(buf), state_dir());
        /* In place, at a fixed size: after the first time (which makes the
         * size and the name durable) fdatasync() writes just the block. */
        if (t->synced_once ? fdatasync(t->fd) < 0 : fsync(t->fd) < 0)
                return log_error_errno(errno, "Failed to sync the generation token %s: %m; check the filesystem of %s.",
                                       t->path, state_dir());
        if (!t->synced_once) {
                int r = fsync_parent_dir(t->path);

                if (r < 0)
                        return r;
                t->synced_once = true;
        }
        return 0;
}

struct record_token *record_token_close(struct record_token *t)
{
        if (!t)
                return NULL;
        if (t->fd >= 0)
                close(t->fd);
        free(t);
        return NULL;
}

int record_token_read(const char *uuid, uint64_t *ret_generation)
{
        uint8_t buf[TOKEN_BYTES + 1], want[TOKEN_BYTES];
        char path[PATH_MAX];
        uint64_t g;
        ssize_t n;
        int fd, r;

        r = record_token_path(uuid, path, sizeof(path));
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return -ENOENT;
        if (fd < 0)
                return log_error_errno(errno, "Failed to open the generation token %s: %m", path);
        n = pread(fd, buf, sizeof(buf), 0);
        r = n < 0 ? -errno : 0;
        close(fd);
        if (r < 0)
                return log_error_errno(r, "Failed to read the generation token %s: %m", path);
        /* A file created but never written: no generation was recorded. */
        if (n == 0)
                return -ENOENT;
        memcpy(&g, buf + TOKEN_GEN_OFFSET, 8);
        token_encode(uuid, le64toh(g), want);
        if (n != TOKEN_BYTES || memcmp(buf, want, TOKEN_BYTES) != 0)
                return log_error_errno(EBADMSG, "The generation token %s does not verify (%zd bytes, %s).",
                                       path, n,
                                       n != TOKEN_BYTES ? "not its size" :
                                       memcmp(buf, TOKEN_MAGIC, TOKEN_MAGIC_BYTES) ? "no token magic" :
                                       strncmp((char *) buf + TOKEN_UUID_OFFSET, uuid, BACKUP_UUID_STRING_MAX) ? "it names another array" :
                                       "checksum mismatch");
        *ret_generation = le64toh(g);
        return 0;
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

void record_mdadm_link(const char *md_name, char *buf, size_t size)
{
        snprintf(buf, size, "/run/mdadm/backup_file-%s", md_name);
}

char *record_mdadm_lookup(const char *md_name)
{
        char link[PATH_MAX], target[PATH_MAX];
        ssize_t n;

        record_mdadm_link(md_name, link, sizeof(link));
        n = readlink(link, target, sizeof(target) - 1);
        if (n < 0)
                return NULL;
        target[n] = '\0';
        return strdup(target);
}

/* The pause file: one line, "reshaped-pause-1 REQUEST\n", replaced
 * atomically (written beside, synced, renamed over). */
#define PAUSE_MAGIC "reshaped-pause-1"

int record_pause_path(const char *uuid, char *buf, size_t size)
{
        if (snprintf(buf, size, "%s/%s.paused", state_dir(), uuid) >= (int) size)
                return log_error_errno(ENAMETOOLONG, "State path too long for %s.", uuid);
        return 0;
}

int record_pause_set(const char *uuid, uint64_t request)
{
        char path[PATH_MAX], line[64];
        int len, r;

        r = record_pause_path(uuid, path, sizeof(path));
        if (r < 0)
                return r;
        if (mkdir(state_dir(), 0700) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Failed to create %s: %m", state_dir());
        len = snprintf(line, sizeof(line), PAUSE_MAGIC " %" PRIu64 "\n", request);
        return fs_replace_file(path, line, (size_t) len, 0600, true);
}

int record_pause_get(const char *uuid, uint64_t *ret_request)
{
        char path[PATH_MAX], buf[64], *end;
        unsigned long long request;
        ssize_t n;
        int fd, r;

        r = record_pause_path(uuid, path, sizeof(path));
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT)
                return -ENOENT;
        if (fd < 0)
                return log_error_errno(errno, "Failed to open the pause record %s: %m", path);
        n = read(fd, buf, sizeof(buf) - 1);
        r = n < 0 ? -errno : 0;
        close(fd);
        if (r < 0)
                return log_error_errno(r, "Failed to read the pause record %s: %m", path);
        buf[n] = '\0';
        errno = 0;
        if (strncmp(buf, PAUSE_MAGIC " ", sizeof(PAUSE_MAGIC)) != 0 ||
            (request = strtoull(buf + sizeof(PAUSE_MAGIC), &end, 10), errno) ||
            end == buf + sizeof(PAUSE_MAGIC) || strcmp(end, "\n") != 0)
                return log_error_errno(EBADMSG, "The pause record %s is damaged; the array counts as paused. 'reshaped resume' lifts the pause.",
                                       path);
        *ret_request = request;
        return 0;
}

int record_pause_clear(const char *uuid)
{
        char path[PATH_MAX];
        int r;

        r = record_pause_path(uuid, path, sizeof(path));
        if (r < 0)
                return r;
        if (unlink(path) < 0)
                return errno == ENOENT ? 0 : log_error_errno(errno, "Failed to remove the pause record %s: %m", path);
        return fsync_parent_dir(path);
}

void record_forget_reshape(const char *uuid, const char *md_name, const char *backup_path,
                           const char *remove_path)
{
        char link[PATH_MAX], *target;

        if (remove_path && unlink(remove_path) < 0 && errno != ENOENT)
                log_warning_errno(errno, "%s: failed to remove the backup %s after the reshape: %m", md_name,
                                  remove_path);
        target = record_mdadm_lookup(md_name);
        record_mdadm_link(md_name, link, sizeof(link));
        if (target && backup_path && strcmp(target, backup_path) == 0 && unlink(link) < 0)
                log_warning_errno(errno, "%s: failed to remove mdadm's record %s: %m", md_name, link);
        free(target);
        (void) record_remove(uuid, md_name);
}
