// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libudev.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reshaped/log.h"
#include "reshaped/md-parse.h"
#include "reshaped/md.h"

#define DEFAULT_SYSFS_ROOT "/sys"
/* Every attribute we parse is one short line. */
#define ATTR_BUF_SIZE 256

struct md {
        char *name;             /* kernel name, "md0" */
        char *devnode;
        dev_t devnum;
        int dir_fd;             /* the array's md/ directory */
        int sync_completed_fd;  /* -1 until md_sync_completed_fd() */
        struct udev *udev;      /* NULL under a fake sysfs root */
};

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

static bool startswith(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
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

static char *md_path_join(const char *a, const char *b, const char *c)
{
        char *p;

        if (asprintf(&p, "%s/%s%s%s", a, b, c ? "/" : "", c ? c : "") < 0)
                return NULL;
        return p;
}

/* The last component of a symlink target like "../../devices/.../sda". */
static int md_link_basename(const char *target, char **ret)
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

static int md_readlinkat_malloc(int dir_fd, const char *path, char **ret)
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
static int md_read_small_fd(int fd, char *buf, size_t size)
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
static int md_parsed(struct md *md, const char *attr, const char *value, int r)
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

        md->dir_fd = open(md_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (md->dir_fd < 0) {
                r = -errno;
                if (r == -ENOENT)
                        log_error_errno(r, "%s is not an md array (%s does not exist).",
                                        spec, md_dir);
                else
                        log_error_errno(r, "Cannot open %s: %m", md_dir);
        }
        free(md_dir);
        return md->dir_fd < 0 ? r : 0;
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

        md->dir_fd = open(md_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (md->dir_fd < 0) {
                r = -errno;
                if (r == -ENOENT)
                        log_error_errno(r, "%s is not an md array (%s does not exist).",
                                        spec, md_dir);
                else
                        log_error_errno(r, "Cannot open %s: %m", md_dir);
                free(md_dir);
                return r;
        }
        free(md_dir);

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

static int md_attr_read(struct md *md, const char *attr, char *buf, size_t size, bool missing_ok)
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
        return md_attr_read(md, attr, buf, size, false);
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

static int write_u64(struct md *md, const char *attr, uint64_t value)
{
        char buf[24];

        snprintf(buf, sizeof(buf), "%" PRIu64, value);
        return md_write_attr(md, attr, buf);
}

static int get_u64(struct md *md, const char *attr, uint64_t *ret)
{
        char buf[ATTR_BUF_SIZE];
        int r;

        r = md_read_attr(md, attr, buf, sizeof(buf));
        if (r < 0)
                return r;
        return md_parsed(md, attr, buf, md_parse_u64(buf, ret));
}

int md_get_sync_action(struct md *md, enum md_sync_action *ret)
{
        char buf[ATTR_BUF_SIZE];
        int r;

        r = md_read_attr(md, "sync_action", buf, sizeof(buf));
        if (r < 0)
                return r;
        return md_parsed(md, "sync_action", buf, md_parse_sync_action(buf, ret));
}

int md_set_sync_action(struct md *md, enum md_sync_action action)
{
        const char *s = md_sync_action_to_string(action);

        if (!s)
                return log_error_errno(EINVAL, "Invalid sync_action %d for %s.", (int) action, md->name);
        return md_write_attr(md, "sync_action", s);
}

int md_get_sync_completed(struct md *md, struct md_sync_completed *ret)
{
        char buf[ATTR_BUF_SIZE];
        int r;

        r = md_read_attr(md, "sync_completed", buf, sizeof(buf));
        if (r < 0)
                return r;
        return md_parsed(md, "sync_completed", buf, md_parse_sync_completed(buf, ret));
}

int md_get_reshape_position(struct md *md, uint64_t *ret_array_sectors)
{
        char buf[ATTR_BUF_SIZE];
        int r;

        r = md_read_attr(md, "reshape_position", buf, sizeof(buf));
        if (r < 0)
                return r;
        return md_parsed(md, "reshape_position", buf, md_parse_reshape_position(buf, ret_array_sectors));
}

int md_get_sync_max(struct md *md, uint64_t *ret_dev_sectors)
{
        char buf[ATTR_BUF_SIZE];
        int r;

        r = md_read_attr(md, "sync_max", buf, sizeof(buf));
        if (r < 0)
                return r;
        return md_parsed(md, "sync_max", buf, md_parse_sync_max(buf, ret_dev_sectors));
}

int md_set_sync_max(struct md *md, uint64_t dev_sectors)
{
        if (dev_sectors == MD_SYNC_MAX_UNLIMITED)
                return md_write_attr(md, "sync_max", "max");
        return write_u64(md, "sync_max", dev_sectors);
}

int md_set_sync_max_unlimited(struct md *md)
{
        return md_set_sync_max(md, MD_SYNC_MAX_UNLIMITED);
}

int md_get_sync_min(struct md *md, uint64_t *ret_dev_sectors)
{
        return get_u64(md, "sync_min", ret_dev_sectors);
}

int md_set_sync_min(struct md *md, uint64_t dev_sectors)
{
        return write_u64(md, "sync_min", dev_sectors);
}

int md_get_suspend(struct md *md, uint64_t *ret_lo_array_sectors, uint64_t *ret_hi_array_sectors)
{
        uint64_t lo, hi;
        int r;

        r = get_u64(md, "suspend_lo", &lo);
        if (r < 0)
                return r;
        r = get_u64(md, "suspend_hi", &hi);
        if (r < 0)
                return r;
        *ret_lo_array_sectors = lo;
        *ret_hi_array_sectors = hi;
        return 0;
}

int md_set_suspend(struct md *md, uint64_t lo_array_sectors, uint64_t hi_array_sectors)
{
        struct md_suspend_store steps[2];
        uint64_t cur_lo, cur_hi;
        size_t n;
        int r;

        r = md_get_suspend(md, &cur_lo, &cur_hi);
        if (r < 0)
                return r;
        n = md_suspend_plan(cur_lo, cur_hi, lo_array_sectors, hi_array_sectors, steps);
        for (size_t i = 0; i < n; i++) {
                const char *attr = steps[i].bound == MD_SUSPEND_LO ? "suspend_lo" : "suspend_hi";

                r = write_u64(md, attr, steps[i].value_array_sectors);
                if (r < 0)
                        return r;
        }
        return 0;
}

int md_get_array_state(struct md *md, enum md_array_state *ret)
{
        char buf[ATTR_BUF_SIZE];
        int r;

        r = md_read_attr(md, "array_state", buf, sizeof(buf));
        if (r < 0)
                return r;
        return md_parsed(md, "array_state", buf, md_parse_array_state(buf, ret));
}

int md_get_degraded(struct md *md, unsigned *ret)
{
        char buf[ATTR_BUF_SIZE];
        int r;

        r = md_read_attr(md, "degraded", buf, sizeof(buf));
        if (r < 0)
                return r;
        return md_parsed(md, "degraded", buf, md_parse_unsigned(buf, ret));
}

static int get_new_old(struct md *md, const char *attr, uint32_t *ret_new, uint32_t *ret_old)
{
        char buf[ATTR_BUF_SIZE];
        int r;

        r = md_read_attr(md, attr, buf, sizeof(buf));
        if (r < 0)
                return r;
        r = md_parse_new_old(buf, ret_new, ret_old);
        if (r == -ENODATA)
                return log_error_errno(r, "%s of %s is empty: the array has no disks yet.",
                                       attr, md->name);
        return md_parsed(md, attr, buf, r);
}

static int get_reshape_direction(struct md *md, enum md_reshape_direction *ret)
{
        char buf[ATTR_BUF_SIZE];
        int r;

        r = md_attr_read(md, "reshape_direction", buf, sizeof(buf), true);
        if (r == -ENOENT) {
                *ret = MD_RESHAPE_DIRECTION_UNKNOWN;
                return 0;
        }
        if (r < 0)
                return r;
        return md_parsed(md, "reshape_direction", buf, md_parse_reshape_direction(buf, ret));
}

int md_get_geometry(struct md *md, struct md_geometry *ret)
{
        struct md_geometry g = {};
        char buf[ATTR_BUF_SIZE];
        uint32_t raid_disks_new, raid_disks_old;
        int r;

        r = md_read_attr(md, "level", buf, sizeof(buf));
        if (r < 0)
                return r;
        r = md_parsed(md, "level", buf, md_parse_level(buf, &g.level));
        if (r < 0)
                return r;

        r = get_new_old(md, "raid_disks", &raid_disks_new, &raid_disks_old);
        if (r < 0)
                return r;
        g.raid_disks_new = raid_disks_new;
        g.raid_disks_old = raid_disks_old;
        r = get_new_old(md, "chunk_size", &g.chunk_bytes_new, &g.chunk_bytes_old);
        if (r < 0)
                return r;
        r = get_new_old(md, "layout", &g.layout_new, &g.layout_old);
        if (r < 0)
                return r;
        r = get_u64(md, "component_size", &g.component_kib);
        if (r < 0)
                return r;
        r = get_reshape_direction(md, &g.direction);
        if (r < 0)
                return r;

        r = md_read_attr(md, "metadata_version", buf, sizeof(buf));
        if (r < 0)
                return r;
        r = md_parsed(md, "metadata_version", buf, md_parse_metadata_version(buf, &g.metadata));
        if (r < 0)
                return r;

        *ret = g;
        return 0;
}

static int get_sync_speed(struct md *md, const char *attr, struct md_sync_speed *ret)
{
        char buf[ATTR_BUF_SIZE];
        int r;

        r = md_read_attr(md, attr, buf, sizeof(buf));
        if (r < 0)
                return r;
        return md_parsed(md, attr, buf, md_parse_sync_speed(buf, ret));
}

int md_get_sync_speed_min(struct md *md, struct md_sync_speed *ret)
{
        return get_sync_speed(md, "sync_speed_min", ret);
}

int md_get_sync_speed_max(struct md *md, struct md_sync_speed *ret)
{
        return get_sync_speed(md, "sync_speed_max", ret);
}

static int set_sync_speed(struct md *md, const char *attr, unsigned kib_per_sec)
{
        if (kib_per_sec == 0)
                return md_write_attr(md, attr, "system");
        return write_u64(md, attr, kib_per_sec);
}

int md_set_sync_speed_min(struct md *md, unsigned kib_per_sec)
{
        return set_sync_speed(md, "sync_speed_min", kib_per_sec);
}

int md_set_sync_speed_max(struct md *md, unsigned kib_per_sec)
{
        return set_sync_speed(md, "sync_speed_max", kib_per_sec);
}

void md_members_free(struct md_member *members, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(members[i].name);
                free(members[i].devnode);
        }
        free(members);
}

static int member_devnode(struct md *md, struct md_member *m)
{
        struct udev_device *d;
        const char *node;

        if (!md->udev) {
                m->devnode = md_path_join(md_get_sysfs_root(), "dev", m->name);
                return m->devnode ? 0 : -ENOMEM;
        }
        d = udev_device_new_from_devnum(md->udev, 'b', m->devnum);
        node = d ? udev_device_get_devnode(d) : NULL;
        m->devnode = node ? strdup(node) : md_path_join("/dev", m->name, NULL);
        if (d)
                udev_device_unref(d);
        return m->devnode ? 0 : -ENOMEM;
}

static int member_attr(struct md *md, const char *dir, const char *attr, char *buf, size_t size)
{
        char *path = md_path_join(dir, attr, NULL);
        int r;

        if (!path)
                return log_error_errno(ENOMEM, "Out of memory.");
        r = md_read_attr(md, path, buf, size);
        free(path);
        return r;
}

static int member_parsed(struct md *md, const char *dir, const char *attr, const char *value, int r)
{
        if (r >= 0)
                return r;
        return log_error_errno(r, "Unexpected %s/%s of %s: \"%.*s\" (kernel newer than reshaped?)",
                               dir, attr, md->name, (int) strcspn(value, "\n"), value);
}

/* A member attribute holding one number. */
static int member_u64(struct md *md, const char *dir, const char *attr, uint64_t *ret)
{
        char buf[ATTR_BUF_SIZE];
        int r;

        r = member_attr(md, dir, attr, buf, sizeof(buf));
        if (r < 0)
                return r;
        return member_parsed(md, dir, attr, buf, md_parse_u64(buf, ret));
}

/* dir is "dev-sda": its "block" link names the member device. */
static int read_member(struct md *md, const char *dir, struct md_member *m)
{
        char buf[ATTR_BUF_SIZE];
        char *path, *target;
        int r;

        path = md_path_join(dir, "block", NULL);
        if (!path)
                return log_error_errno(ENOMEM, "Out of memory.");
        r = md_readlinkat_malloc(md->dir_fd, path, &target);
        free(path);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s/block of %s: %m", dir, md->name);
        r = md_link_basename(target, &m->name);
        free(target);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s/block of %s: %m", dir, md->name);

        r = member_attr(md, dir, "block/dev", buf, sizeof(buf));
        if (r < 0)
                return r;
        r = member_parsed(md, dir, "block/dev", buf, md_parse_devnum(buf, &m->devnum));
        if (r < 0)
                return r;

        r = member_attr(md, dir, "state", buf, sizeof(buf));
        if (r < 0)
                return r;
        r = member_parsed(md, dir, "state", buf, md_parse_member_state(buf, &m->state));
        if (r < 0)
                return r;

        r = member_attr(md, dir, "slot", buf, sizeof(buf));
        if (r < 0)
                return r;
        r = member_parsed(md, dir, "slot", buf, md_parse_slot(buf, &m->slot));
        if (r < 0)
                return r;

        r = member_u64(md, dir, "offset", &m->data_offset_dev_sectors);
        if (r < 0)
                return r;

        r = member_u64(md, dir, "new_offset", &m->new_data_offset_dev_sectors);
        if (r < 0)
                return r;

        r = member_u64(md, dir, "size", &m->size_kib);
        if (r < 0)
                return r;

        r = member_devnode(md, m);
        if (r < 0)
                return log_error_errno(r, "Out of memory.");
        return 0;
}

static int member_cmp(const void *a, const void *b)
{
        const struct md_member *x = a, *y = b;

        if ((x->slot >= 0) != (y->slot >= 0))
                return x->slot >= 0 ? -1 : 1;
        if (x->slot >= 0 && x->slot != y->slot)
                return x->slot < y->slot ? -1 : 1;
        return strcmp(x->name, y->name);
}

int md_get_members(struct md *md, struct md_member **ret, size_t *ret_n)
{
        struct md_member *members = NULL;
        size_t n = 0;
        struct dirent *de;
        DIR *d;
        int fd, r = 0;

        fd = openat(md->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to list members of %s: %m", md->name);
        d = fdopendir(fd);
        if (!d) {
                r = log_error_errno(errno, "Failed to list members of %s: %m", md->name);
                close(fd);
                return r;
        }

        for (errno = 0; (de = readdir(d)); errno = 0) {
                struct md_member *grown;

                if (!startswith(de->d_name, "dev-"))
                        continue;
                grown = reallocarray(members, n + 1, sizeof(*members));
                if (!grown) {
                        r = log_error_errno(ENOMEM, "Out of memory.");
                        goto fail;
                }
                members = grown;
                members[n] = (struct md_member) {};
                n++;
                r = read_member(md, de->d_name, &members[n - 1]);
                if (r < 0)
                        goto fail;
        }
        if (errno != 0) {
                r = log_error_errno(errno, "Failed to list members of %s: %m", md->name);
                goto fail;
        }
        closedir(d);

        if (n > 0)
                qsort(members, n, sizeof(*members), member_cmp);
        *ret = members;
        *ret_n = n;
        return 0;

fail:
        closedir(d);
        md_members_free(members, n);
        return r;
}

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
