// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <libudev.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reshaped/log.h"
#include "reshaped/md-parse.h"
#include "reshaped/md.h"
#include "md-internal.h"

#define DEFAULT_SYSFS_ROOT "/sys"

static char *sysfs_root_override;

int md_set_sysfs_root(const char *dir)
{
        char *copy = NULL;

        if (dir) {
                copy = strdup(dir);
                if (!copy)
                        return log_error_errno(ENOMEM, "Out of memory.");
        }
        free(sysfs_root_override);
        sysfs_root_override = copy;
        return 0;
}

const char *md_get_sysfs_root(void)
{
        const char *e;

        if (sysfs_root_override)
                return sysfs_root_override;
        e = getenv("RESHAPED_SYSFS_ROOT");
        if (e && *e)
                return e;
        return DEFAULT_SYSFS_ROOT;
}

static bool sysfs_root_is_fake(void)
{
        return strcmp(md_get_sysfs_root(), DEFAULT_SYSFS_ROOT) != 0;
}

/* For "/dev/md/NAME" and "/dev/mdX": the NAME after prefix if it is one
 * path component, else NULL. */
static const char *name_after(const char *s, const char *prefix)
{
        size_t n = strlen(prefix);

        if (strncmp(s, prefix, n) != 0 || s[n] == '\0' || strchr(s + n, '/'))
                return NULL;
        return s + n;
}

char *md_path_join(const char *a, const char *b, const char *c)
{
        char *p;

        if (asprintf(&p, "%s/%s%s%s", a, b, c ? "/" : "", c ? c : "") < 0)
                return NULL;
        return p;
}

/* The last component of a symlink target like "../../devices/.../sda". */
int md_link_basename(const char *target, char **ret)
{
        size_t len = strlen(target);
        const char *slash;

        while (len > 0 && target[len - 1] == '/')
                len--;
        slash = memrchr(target, '/', len);
        if (slash) {
                len -= (size_t) (slash + 1 - target);
                target = slash + 1;
        }
        if (len == 0)
                return -EINVAL;
        *ret = strndup(target, len);
        return *ret ? 0 : -ENOMEM;
}

int md_readlinkat_malloc(int dir_fd, const char *path, char **ret)
{
        char buf[PATH_MAX];
        ssize_t n;

        n = readlinkat(dir_fd, path, buf, sizeof(buf));
        if (n < 0)
                return -errno;
        if ((size_t) n >= sizeof(buf))
                return -ENAMETOOLONG;
        buf[n] = '\0';
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

/* Reads a small file whole; the caller's buffer holds at most size - 1. */
int md_read_small_fd(int fd, char *buf, size_t size)
{
        ssize_t n;

        do
                n = pread(fd, buf, size - 1, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if ((size_t) n == size - 1)
                return -EFBIG;
        buf[n] = '\0';
        return (int) n;
}

static int read_small_fileat(int dir_fd, const char *path, char *buf, size_t size)
{
        int fd, r;

        do
                fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
        while (fd < 0 && errno == EINTR);
        if (fd < 0)
                return -errno;
        r = md_read_small_fd(fd, buf, size);
        close(fd);
        return r;
}

/* Logs a value md.c cannot parse; passes other results through. */
int md_parsed(struct md *md, const char *attr, const char *value, int r)
{
        if (r >= 0)
                return r;
        return log_error_errno(r, "Unexpected %s of %s: \"%.*s\" (kernel newer than reshaped?)",
                               attr, md->name, (int) strcspn(value, "\n"), value);
}

static int resolve_fake(const char *spec, char **ret_name)
{
        const char *root = md_get_sysfs_root();
        char *link = NULL, *target = NULL;
        const char *name;
        int r;

        if (!strchr(spec, '/')) {
                *ret_name = strdup(spec);
                return *ret_name ? 0 : log_error_errno(ENOMEM, "Out of memory.");
        }
        name = name_after(spec, "/dev/md/");
        if (name) {
                link = md_path_join(root, "dev/md", name);
                if (!link)
                        return log_error_errno(ENOMEM, "Out of memory.");
                r = md_readlinkat_malloc(AT_FDCWD, link, &target);
                if (r < 0) {
                        log_error_errno(r, "Cannot resolve %s: reading symlink %s failed: %m",
                                        spec, link);
                        free(link);
                        return r;
                }
                free(link);
                r = md_link_basename(target, ret_name);
                free(target);
                if (r < 0)
                        return log_error_errno(r, "Cannot resolve %s: %m", spec);
                return 0;
        }
        name = name_after(spec, "/dev/");
        if (name) {
                *ret_name = strdup(name);
                return *ret_name ? 0 : log_error_errno(ENOMEM, "Out of memory.");
        }
        return log_error_errno(ENODEV,
                               "Cannot resolve %s under sysfs root %s: give mdX, /dev/mdX or /dev/md/NAME.",
                               spec, root);
}

static struct udev_device *udev_find_md_devname(struct udev *udev, const char *name)
{
        struct udev_enumerate *e;
        struct udev_list_entry *first;
        struct udev_device *d = NULL;
        char *sysname;

        /* udev's md rules record the /dev/md/ name as MD_DEVNAME. */
        e = udev_enumerate_new(udev);
        if (e) {
                if (udev_enumerate_add_match_subsystem(e, "block") >= 0 &&
                    udev_enumerate_add_match_property(e, "MD_DEVNAME", name) >= 0 &&
                    udev_enumerate_scan_devices(e) >= 0) {
                        first = udev_enumerate_get_list_entry(e);
                        if (first)
                                d = udev_device_new_from_syspath(udev,
                                                                 udev_list_entry_get_name(first));
                }
                udev_enumerate_unref(e);
        }
        if (d)
                return d;

        /* mdadm's "names=yes" arrays are called md_NAME by the kernel. */
        if (asprintf(&sysname, "md_%s", name) < 0)
                return NULL;
        d = udev_device_new_from_subsystem_sysname(udev, "block", sysname);
        free(sysname);
        return d;
}

static int resolve_udev(struct udev *udev, const char *spec, struct udev_device **ret)
{
        struct udev_device *d;
        struct stat st;

        if (!strchr(spec, '/')) {
                d = udev_device_new_from_subsystem_sysname(udev, "block", spec);
                if (!d)
                        return log_error_errno(ENODEV, "No block device named %s; give mdX, /dev/mdX or /dev/md/NAME.",
                                               spec);
        } else if (stat(spec, &st) == 0) {
                if (!S_ISBLK(st.st_mode))
                        return log_error_errno(ENOTBLK, "%s is not a block device.", spec);
                d = udev_device_new_from_devnum(udev, 'b', st.st_rdev);
                if (!d)
                        return log_error_errno(ENODEV, "udev does not know %s (%u:%u).", spec,
                                               major(st.st_rdev), minor(st.st_rdev));
        } else if (errno == ENOENT && name_after(spec, "/dev/md/")) {
                d = udev_find_md_devname(udev, name_after(spec, "/dev/md/"));
                if (!d)
                        return log_error_errno(ENODEV, "No md array is named %s.", spec);
        } else
                return log_error_errno(errno, "Cannot access %s: %m", spec);

        *ret = d;
        return 0;
}

/* md_dir is the array's .../md directory, spec what the user named. */
static int open_md_dir(struct md *md, const char *spec, const char *md_dir)
{
        md->dir_fd = open(md_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (md->dir_fd >= 0)
                return 0;
        if (errno == ENOENT)
                return log_error_errno(ENOENT, "%s is not an md array (%s does not exist).",
                                       spec, md_dir);
        return log_error_errno(errno, "Cannot open %s: %m", md_dir);
}

static int open_real(struct md *md, const char *spec)
{
        struct udev_device *d = NULL;
        const char *devnode;
        char *md_dir;
        int r;

        md->udev = udev_new();
        if (!md->udev)
                return log_error_errno(ENOMEM, "Failed to create udev context.");
        r = resolve_udev(md->udev, spec, &d);
        if (r < 0)
                return r;

        md->name = strdup(udev_device_get_sysname(d));
        devnode = udev_device_get_devnode(d);
        if (devnode)
                md->devnode = strdup(devnode);
        else if (md->name)
                md->devnode = md_path_join("/dev", md->name, NULL);
        md->devnum = udev_device_get_devnum(d);
        md_dir = md_path_join(udev_device_get_syspath(d), "md", NULL);
        udev_device_unref(d);
        if (!md->name || !md->devnode || !md_dir) {
                free(md_dir);
                return log_error_errno(ENOMEM, "Out of memory.");
        }

        r = open_md_dir(md, spec, md_dir);
        free(md_dir);
        return r;
}

static int open_fake(struct md *md, const char *spec)
{
        const char *root = md_get_sysfs_root();
        char buf[ATTR_BUF_SIZE];
        char *md_dir;
        int r;

        if (access(root, F_OK) < 0)
                return log_error_errno(errno, "Cannot use sysfs root %s (from --sysfs-root or RESHAPED_SYSFS_ROOT): %m",
                                       root);
        r = resolve_fake(spec, &md->name);
        if (r < 0)
                return r;

        md->devnode = md_path_join(root, "dev", md->name);
        if (!md->devnode || asprintf(&md_dir, "%s/block/%s/md", root, md->name) < 0)
                return log_error_errno(ENOMEM, "Out of memory.");

        r = open_md_dir(md, spec, md_dir);
        free(md_dir);
        if (r < 0)
                return r;

        /* The fake tree may leave out "dev": the device number is then 0. */
        r = read_small_fileat(md->dir_fd, "../dev", buf, sizeof(buf));
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "Failed to read dev of %s: %m", md->name);
        return md_parsed(md, "dev", buf, md_parse_devnum(buf, &md->devnum));
}

int md_open(const char *spec, struct md **ret)
{
        struct md *md;
        int r;

        md = calloc(1, sizeof(*md));
        if (!md)
                return log_error_errno(ENOMEM, "Out of memory.");
        md->dir_fd = -1;
        md->sync_completed_fd = -1;

        r = sysfs_root_is_fake() ? open_fake(md, spec) : open_real(md, spec);
        if (r < 0) {
                md_close(md);
                return r;
        }
        log_debug("Opened %s as %s (%s).", spec, md->name, md->devnode);
        *ret = md;
        return 0;
}

struct md *md_close(struct md *md)
{
        if (!md)
                return NULL;
        if (md->sync_completed_fd >= 0)
                close(md->sync_completed_fd);
        if (md->dir_fd >= 0)
                close(md->dir_fd);
        if (md->udev)
                udev_unref(md->udev);
        free(md->name);
        free(md->devnode);
        free(md);
        return NULL;
}

const char *md_name(const struct md *md)
{
        return md->name;
}

const char *md_devnode(const struct md *md)
{
        return md->devnode;
}

dev_t md_devnum(const struct md *md)
{
        return md->devnum;
}

static int read_attr(struct md *md, const char *attr, char *buf, size_t size, bool missing_ok)
{
        int r;

        r = read_small_fileat(md->dir_fd, attr, buf, size);
        if (r == -ENOENT && missing_ok)
                return r;
        if (r == -EFBIG)
                return log_error_errno(r, "Failed to read %s of %s: value longer than %zu bytes.",
                                       attr, md->name, size - 1);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s of %s: %m", attr, md->name);
        return r;
}

int md_read_attr(struct md *md, const char *attr, char *buf, size_t size)
{
        return read_attr(md, attr, buf, size, false);
}

int md_read_attr_if_present(struct md *md, const char *attr, char *buf, size_t size)
{
        return read_attr(md, attr, buf, size, true);
}

int md_write_attr(struct md *md, const char *attr, const char *value)
{
        char *line;
        size_t len;
        ssize_t n;
        int fd, r = 0;

        if (asprintf(&line, "%s\n", value) < 0)
                return log_error_errno(ENOMEM, "Out of memory.");
        len = strlen(line);

        /* O_TRUNC is what a shell's ">" does: sysfs ignores it, a fake
         * tree's regular file needs it. */
        /* A signal may interrupt a store that waits for md to quiesce the
         * array (suspend_lo/hi, sync_action); sysfs takes it again whole. */
        do
                fd = openat(md->dir_fd, attr, O_WRONLY | O_TRUNC | O_CLOEXEC);
        while (fd < 0 && errno == EINTR);
        if (fd < 0) {
                r = log_error_errno(errno, "Failed to write %s=%s for %s: %m", attr, value, md->name);
                goto out;
        }
        do
                n = write(fd, line, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                r = log_error_errno(errno, "Failed to write %s=%s for %s: %m", attr, value, md->name);
        else if ((size_t) n != len)
                r = log_error_errno(EIO, "Failed to write %s=%s for %s: short write (%zd of %zu bytes).",
                                    attr, value, md->name, n, len);
        if (close(fd) < 0 && r == 0)
                r = log_error_errno(errno, "Failed to write %s=%s for %s: %m", attr, value, md->name);
        if (r == 0)
                log_debug("%s: %s=%s", md->name, attr, value);
out:
        free(line);
        return r;
}
