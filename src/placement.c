// SPDX-License-Identifier: GPL-2.0-or-later
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libmount/libmount.h>
#include <limits.h>
#include <linux/btrfs.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "reshaped/log.h"
#include "reshaped/md.h"
#include "reshaped/placement.h"

#define SAFE_PLACE "a disk that is not part of %s (for example /var/lib/reshaped/)"

static int verdict(struct placement_verdict *out, enum placement_reason reason,
                   int error, const char *format, ...)
        __attribute__((format(printf, 4, 5)));

static int verdict(struct placement_verdict *out, enum placement_reason reason,
                   int error, const char *format, ...)
{
        va_list ap;

        out->reason = reason;
        errno = error < 0 ? -error : error;  /* for %m */
        va_start(ap, format);
        vsnprintf(out->message, sizeof(out->message), format, ap);
        va_end(ap);
        return error;
}

const char *placement_reason_to_string(enum placement_reason reason)
{
        switch (reason) {
        case PLACEMENT_OK:               return "ok";
        case PLACEMENT_BAD_PATH:         return "bad-path";
        case PLACEMENT_CANNOT_CHECK:     return "cannot-check";
        case PLACEMENT_ON_ARRAY:         return "on-array";
        case PLACEMENT_STACKED_ON_ARRAY: return "stacked-on-array";
        case PLACEMENT_ON_MEMBER:        return "on-member";
        case PLACEMENT_VOLATILE:         return "volatile";
        case PLACEMENT_NO_SPACE:         return "no-space";
        }
        return "unknown";
}

void placement_devices_free(struct placement_devices *d)
{
        free(d->items);
        d->items = NULL;
        d->n = 0;
}

static const struct placement_device *devices_find_name(const struct placement_devices *d,
                                                        const char *name)
{
        for (size_t i = 0; i < d->n; i++)
                if (strcmp(d->items[i].name, name) == 0)
                        return &d->items[i];
        return NULL;
}

static const struct placement_device *devices_find_devno(const struct placement_devices *d,
                                                         dev_t devno)
{
        for (size_t i = 0; i < d->n; i++)
                if (d->items[i].devno == devno)
                        return &d->items[i];
        return NULL;
}

static int devices_add(struct placement_devices *d, dev_t devno,
                       enum placement_relation relation, const char *name)
{
        struct placement_device *items;
        size_t len = strlen(name);

        if (len >= sizeof(items->name))
                return -ENAMETOOLONG;
        items = reallocarray(d->items, d->n + 1, sizeof(*items));
        if (!items)
                return -ENOMEM;
        d->items = items;
        items[d->n] = (struct placement_device) { .devno = devno, .relation = relation };
        memcpy(items[d->n].name, name, len + 1);
        d->n++;
        return 0;
}

/* ---- The rules ---------------------------------------------------------- */

/* Lost at reboot, or not storage at all. "rootfs" is the initramfs a
 * system runs from before it mounts its real root. */
static const char *const volatile_fs_types[] = {
        "tmpfs", "ramfs", "rootfs", "devtmpfs", "proc", "sysfs", "hugetlbfs", "devpts",
        "mqueue", "cgroup", "cgroup2", "debugfs", "tracefs", "securityfs",
        "configfs", "bpf", "fusectl", "binfmt_misc", "rpc_pipefs", "nsfs",
};

static bool fs_type_is_volatile(const char *fs_type)
{
        for (size_t i = 0; i < sizeof(volatile_fs_types) / sizeof(volatile_fs_types[0]); i++)
                if (strcmp(fs_type, volatile_fs_types[i]) == 0)
                        return true;
        return false;
}

static bool name_has_number_after(const char *name, const char *prefix)
{
        size_t len = strlen(prefix);

        return strncmp(name, prefix, len) == 0 && isdigit((unsigned char) name[len]);
}

/* zram and brd: a disk filesystem, but in RAM. */
static bool device_is_ram_disk(const char *name)
{
        return name_has_number_after(name, "zram") || name_has_number_after(name, "ram");
}

/* The closest relation wins: the array itself, then what is built on it,
 * then what it is built from. */
static const struct placement_device *find_overlap(const struct placement_devices *targets,
                                                   const struct placement_devices *array)
{
        static const enum placement_relation order[] = {
                PLACEMENT_ARRAY, PLACEMENT_STACKED, PLACEMENT_MEMBER,
        };

        for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++)
                for (size_t t = 0; t < targets->n; t++)
                        for (size_t a = 0; a < array->n; a++)
                                if (array->items[a].relation == order[o] &&
                                    array->items[a].devno == targets->items[t].devno)
                                        return &array->items[a];
        return NULL;
}

static const char *what(const struct placement_facts *f)
{
        return f->is_block_device ? "Backup device" : "Backup file";
}

static int refuse_overlap(const struct placement_facts *f, const struct placement_device *hit,
                          struct placement_verdict *out)
{
        switch (hit->relation) {
        case PLACEMENT_ARRAY:
                return verdict(out, PLACEMENT_ON_ARRAY, -EBUSY,
                               "%s %s is on %s itself, the array being reshaped, and would be "
                               "lost with the data it protects; put it on " SAFE_PLACE ".",
                               what(f), f->backup_path, f->md_sysname, f->md_sysname);
        case PLACEMENT_STACKED:
                return verdict(out, PLACEMENT_STACKED_ON_ARRAY, -EBUSY,
                               "%s %s is on %s, which is built on %s, the array being "
                               "reshaped, and would be lost with the data it protects; "
                               "put it on " SAFE_PLACE ".",
                               what(f), f->backup_path, hit->name, f->md_sysname,
                               f->md_sysname);
        case PLACEMENT_MEMBER:
                return verdict(out, PLACEMENT_ON_MEMBER, -EBUSY,
                               "%s %s is on %s, which is (part of) a member of %s; writing it "
                               "would corrupt the array. Put it on " SAFE_PLACE ".",
                               what(f), f->backup_path, hit->name, f->md_sysname,
                               f->md_sysname);
        case PLACEMENT_UNRELATED:
                break;
        }
        return verdict(out, PLACEMENT_CANNOT_CHECK, -EINVAL,
                       "Device %s has no relation to %s; this is a bug in reshaped.",
                       hit->name, f->md_sysname);
}

static const char *format_bytes(char *buf, size_t size, uint64_t bytes)
{
        snprintf(buf, size, "%" PRIu64 " bytes (%.1f MiB)", bytes, bytes / 1048576.0);
        return buf;
}

static int check_space(const struct placement_facts *f, struct placement_verdict *out)
{
        char need_s[64], have_s[64];
        uint64_t missing_bytes;

        if (f->existing_bytes >= f->required_bytes)
                return 0;
        if (f->is_block_device)
                return verdict(out, PLACEMENT_NO_SPACE, -ENOSPC,
                               "Backup device %s holds %s but the backup of %s needs %s; use "
                               "a larger device, or a file on " SAFE_PLACE ".",
                               f->backup_path,
                               format_bytes(have_s, sizeof(have_s), f->existing_bytes),
                               f->md_sysname,
                               format_bytes(need_s, sizeof(need_s), f->required_bytes),
                               f->md_sysname);

        /* Blocks the file already has (preallocated) need no free space. */
        missing_bytes = f->required_bytes - f->existing_bytes;
        if (f->free_bytes >= missing_bytes)
                return 0;
        return verdict(out, PLACEMENT_NO_SPACE, -ENOSPC,
                       "Backup file %s needs %s more but its filesystem has only %s free; "
                       "free space there or put it on a larger disk that is not part of %s.",
                       f->backup_path, format_bytes(need_s, sizeof(need_s), missing_bytes),
                       format_bytes(have_s, sizeof(have_s), f->free_bytes), f->md_sysname);
}

int placement_judge(const struct placement_facts *f, struct placement_verdict *out)
{
        const struct placement_device *hit;
        int r;

        hit = find_overlap(f->targets, f->array);
        if (hit)
                return refuse_overlap(f, hit, out);

        if (!f->is_block_device && f->fs_type && fs_type_is_volatile(f->fs_type))
                return verdict(out, PLACEMENT_VOLATILE, -EMEDIUMTYPE,
                               "Backup file %s is on %s, which does not survive a reboot; "
                               "put it on " SAFE_PLACE ".",
                               f->backup_path, f->fs_type, f->md_sysname);

        for (size_t i = 0; i < f->targets->n; i++)
                if (device_is_ram_disk(f->targets->items[i].name))
                        return verdict(out, PLACEMENT_VOLATILE, -EMEDIUMTYPE,
                                       "%s %s is on %s, a RAM disk, which does not survive a "
                                       "reboot; put it on " SAFE_PLACE ".",
                                       what(f), f->backup_path, f->targets->items[i].name,
                                       f->md_sysname);

        r = check_space(f, out);
        if (r < 0)
                return r;

        return verdict(out, PLACEMENT_OK, 0,
                       "%s %s is a safe place for the backup of %s.",
                       what(f), f->backup_path, f->md_sysname);
}

/* ---- The array's device graph in sysfs ---------------------------------- */

struct walk {
        struct placement_devices devices;
        char **paths;                    /* canonical sysfs directory of each device */
        size_t n_paths;
        struct placement_verdict *out;
};

static const char *relation_to_string(enum placement_relation relation)
{
        switch (relation) {
        case PLACEMENT_ARRAY:     return "the array";
        case PLACEMENT_STACKED:   return "built on the array";
        case PLACEMENT_MEMBER:    return "(part of) a member of the array";
        case PLACEMENT_UNRELATED: break;
        }
        return "unrelated to the array";
}

static void walk_done(struct walk *w)
{
        for (size_t i = 0; i < w->n_paths; i++)
                free(w->paths[i]);
        free(w->paths);
        placement_devices_free(&w->devices);
}

static int read_devno(const char *dir, dev_t *ret)
{
        char path[PATH_MAX], buf[32], extra;
        unsigned major_nr, minor_nr;
        ssize_t n;
        int fd, r = 0;

        if ((size_t) snprintf(path, sizeof(path), "%s/dev", dir) >= sizeof(path))
                return -ENAMETOOLONG;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                r = -errno;
        close(fd);
        if (r < 0)
                return r;
        buf[n] = '\0';
        if (sscanf(buf, "%u:%u %c", &major_nr, &minor_nr, &extra) != 2)
                return -EBADMSG;
        *ret = makedev(major_nr, minor_nr);
        return 0;
}

static int walk_add(struct walk *w, const char *dir, enum placement_relation relation)
{
        char *canonical, *name, **paths;
        dev_t devno;
        int r;

        canonical = realpath(dir, NULL);
        if (!canonical)
                return verdict(w->out, PLACEMENT_CANNOT_CHECK, -errno,
                               "Cannot resolve block device directory %s: %m.", dir);
        name = strrchr(canonical, '/') + 1;
        if (devices_find_name(&w->devices, name)) {
                free(canonical);
                return 0;
        }

        r = read_devno(canonical, &devno);
        if (r < 0) {
                verdict(w->out, PLACEMENT_CANNOT_CHECK, r, "Cannot read %s/dev: %m.", canonical);
                goto fail;
        }
        paths = reallocarray(w->paths, w->devices.n + 1, sizeof(*paths));
        if (!paths) {
                r = verdict(w->out, PLACEMENT_CANNOT_CHECK, -ENOMEM,
                            "Cannot record block device %s: %m.", name);
                goto fail;
        }
        w->paths = paths;
        r = devices_add(&w->devices, devno, relation, name);
        if (r < 0) {
                verdict(w->out, PLACEMENT_CANNOT_CHECK, r, "Cannot record block device %s: %m.",
                        name);
                goto fail;
        }
        paths[w->n_paths++] = canonical;
        log_debug("%s (%u:%u) is %s.", name, major(devno), minor(devno),
                  relation_to_string(relation));
        return 0;
fail:
        free(canonical);
        return r;
}

/* Calls add_entry for each entry of dir, which may be missing (a fake
 * tree, or an old kernel without holders/). */
static int walk_dir(struct walk *w, const char *dir,
                    int (*add_entry)(struct walk *w, const char *dir, const struct dirent *de,
                                     enum placement_relation relation),
                    enum placement_relation relation)
{
        struct dirent *de;
        DIR *d;
        int r = 0;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT)
                        return 0;
                return verdict(w->out, PLACEMENT_CANNOT_CHECK, -errno, "Cannot open %s: %m.", dir);
        }
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                r = verdict(w->out, PLACEMENT_CANNOT_CHECK, -errno,
                                            "Cannot list %s: %m.", dir);
                        break;
                }
                if (de->d_name[0] == '.')
                        continue;
                r = add_entry(w, dir, de, relation);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r;
}

static int add_link(struct walk *w, const char *dir, const struct dirent *de,
                    enum placement_relation relation)
{
        char path[PATH_MAX];

        if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
                return verdict(w->out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
                               "Cannot follow %s/%s: %m.", dir, de->d_name);
        return walk_add(w, path, relation);
}

static int add_if_partition(struct walk *w, const char *dir, const struct dirent *de,
                            enum placement_relation relation)
{
        char path[PATH_MAX];

        if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                return 0;
        if ((size_t) snprintf(path, sizeof(path), "%s/%s/partition", dir, de->d_name) >= sizeof(path))
                return verdict(w->out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
                               "Cannot inspect %s/%s: %m.", dir, de->d_name);
        if (access(path, F_OK) < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                return verdict(w->out, PLACEMENT_CANNOT_CHECK, -errno, "Cannot access %s: %m.",
                               path);
        }
        *strrchr(path, '/') = '\0';
        return walk_add(w, path, relation);
}

/* Adds what every device from index `from` on lists in `link_dir`, and its
 * partitions, until nothing new turns up. */
static int walk_expand(struct walk *w, size_t from, const char *link_dir,
                       enum placement_relation relation)
{
        char path[PATH_MAX];
        int r;

        for (size_t i = from; i < w->devices.n; i++) {
                if ((size_t) snprintf(path, sizeof(path), "%s/%s", w->paths[i], link_dir) >= sizeof(path))
                        return verdict(w->out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
                                       "Cannot inspect %s/%s: %m.", w->paths[i], link_dir);
                r = walk_dir(w, path, add_link, relation);
                if (r < 0)
                        return r;
                r = walk_dir(w, w->paths[i], add_if_partition, relation);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool is_kernel_name(const char *name)
{
        return name && *name && !strchr(name, '/') &&
               strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int placement_array_devices(const char *sysfs_root, const char *md_sysname,
                            struct placement_devices *ret, struct placement_verdict *out)
{
        struct walk w = { .out = out };
        char md_dir[PATH_MAX], slaves_dir[PATH_MAX];
        size_t first_member;
        int r;

        if (!is_kernel_name(md_sysname))
                return verdict(out, PLACEMENT_CANNOT_CHECK, -EINVAL,
                               "'%s' is not an md device's kernel name; give one such as md0.",
                               md_sysname ? md_sysname : "");
        if ((size_t) snprintf(md_dir, sizeof(md_dir), "%s/block/%s", sysfs_root, md_sysname) >= sizeof(md_dir) ||
            (size_t) snprintf(slaves_dir, sizeof(slaves_dir), "%s/slaves", md_dir) >= sizeof(slaves_dir))
                return verdict(out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
                               "Sysfs root %s: %m.", sysfs_root);
        if (access(md_dir, F_OK) < 0) {
                if (errno == ENOENT)
                        return verdict(out, PLACEMENT_CANNOT_CHECK, -ENODEV,
                                       "%s does not exist; is %s assembled? 'cat /proc/mdstat' "
                                       "lists the running arrays.", md_dir, md_sysname);
                return verdict(out, PLACEMENT_CANNOT_CHECK, -errno, "Cannot access %s: %m.",
                               md_dir);
        }

        r = walk_add(&w, md_dir, PLACEMENT_ARRAY);
        if (r < 0)
                goto finish;
        r = walk_expand(&w, 0, "holders", PLACEMENT_STACKED);
        if (r < 0)
                goto finish;
        first_member = w.devices.n;
        r = walk_dir(&w, slaves_dir, add_link, PLACEMENT_MEMBER);
        if (r < 0)
                goto finish;
        r = walk_expand(&w, first_member, "slaves", PLACEMENT_MEMBER);
        if (r < 0)
                goto finish;

        *ret = w.devices;
        w.devices = (struct placement_devices) {};
finish:
        walk_done(&w);
        return r;
}

/* ---- Facts about the backup path ---------------------------------------- */

struct gathered {
        char resolved[PATH_MAX];   /* where the backup is or will be */
        char probe[PATH_MAX];      /* resolved, or its directory while it does not exist */
        bool exists;
        bool is_block_device;
        char *fs_type;
        struct placement_devices targets;
        uint64_t existing_bytes;
        uint64_t free_bytes;
};

static void gathered_done(struct gathered *g)
{
        free(g->fs_type);
        placement_devices_free(&g->targets);
}

static int resolve_missing(const char *path, const char *md, struct gathered *g,
                           struct placement_verdict *out)
{
        const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
        char *dir;
        struct stat st;
        int r = 0;

        dir = slash ? strndup(path, slash == path ? 1 : (size_t) (slash - path)) : strdup(".");
        if (!dir)
                return verdict(out, PLACEMENT_CANNOT_CHECK, -ENOMEM, "Cannot resolve %s: %m.", path);
        if (!realpath(dir, g->probe)) {
                r = verdict(out, PLACEMENT_BAD_PATH, -errno,
                            "Directory %s of backup file %s is not usable: %m; create it first, "
                            "on " SAFE_PLACE ".", dir, path, md);
                goto finish;
        }
        if ((size_t) snprintf(g->resolved, sizeof(g->resolved), "%s/%s",
                              strcmp(g->probe, "/") == 0 ? "" : g->probe, base) >= sizeof(g->resolved)) {
                r = verdict(out, PLACEMENT_BAD_PATH, -ENAMETOOLONG, "Backup file %s: %m.", path);
                goto finish;
        }
        /* realpath() said ENOENT, yet something is there: a dangling
         * symlink, which creating the file would follow somewhere else. */
        if (lstat(g->resolved, &st) == 0)
                r = verdict(out, PLACEMENT_BAD_PATH, -ELOOP,
                            "Backup file %s is a symbolic link to a missing file; give the path "
                            "the backup should really have.", path);
finish:
        free(dir);
        return r;
}

static int resolve_path(const char *path, const char *md, struct gathered *g,
                        struct placement_verdict *out)
{
        if (!path || !*path)
                return verdict(out, PLACEMENT_BAD_PATH, -EINVAL,
                               "No backup file given; name one on " SAFE_PLACE ".", md);
        if (path[strlen(path) - 1] == '/')
                return verdict(out, PLACEMENT_BAD_PATH, -EISDIR,
                               "Backup file %s names a directory; give a file in it, such as "
                               "%s%s.backup.", path, path, md);
        if (realpath(path, g->resolved)) {
                g->exists = true;
                memcpy(g->probe, g->resolved, sizeof(g->probe));
                return 0;
        }
        if (errno != ENOENT)
                return verdict(out, PLACEMENT_BAD_PATH, -errno,
                               "Cannot resolve backup file %s: %m.", path);
        g->exists = false;
        return resolve_missing(path, md, g, out);
}

/* The kernel name of a block device, "" when sysfs does not know it (an
 * anonymous device of btrfs or overlayfs, or a fake sysfs tree). */
static void device_name(const char *sysfs_root, dev_t devno, char *name, size_t size)
{
        char path[PATH_MAX], target[PATH_MAX];
        const char *slash, *base;
        size_t len;
        ssize_t n;

        name[0] = '\0';
        snprintf(path, sizeof(path), "%s/dev/block/%u:%u", sysfs_root, major(devno), minor(devno));
        n = readlink(path, target, sizeof(target) - 1);
        if (n < 0) {
                log_debug_errno(errno, "Cannot read link %s, device name unknown: %m", path);
                return;
        }
        target[n] = '\0';
        slash = strrchr(target, '/');
        base = slash ? slash + 1 : target;
        len = strlen(base);
        if (len >= size) {
                log_debug("Block device name %s is too long, treating it as unknown.", base);
                return;
        }
        memcpy(name, base, len + 1);
}

static int add_target(struct gathered *g, const char *sysfs_root, dev_t devno,
                      struct placement_verdict *out)
{
        char name[sizeof(g->targets.items->name)];
        int r;

        /* libmount's "unknown" */
        if (devno == 0 || devices_find_devno(&g->targets, devno))
                return 0;
        device_name(sysfs_root, devno, name, sizeof(name));
        r = devices_add(&g->targets, devno, PLACEMENT_UNRELATED, name);
        if (r < 0)
                return verdict(out, PLACEMENT_CANNOT_CHECK, r, "Cannot record device %u:%u: %m.",
                               major(devno), minor(devno));
        log_debug("The backup lands on %u:%u (%s).", major(devno), minor(devno),
                  *name ? name : "no block device");
        return 0;
}

/* btrfs reports an anonymous st_dev, and mountinfo names one of possibly
 * many devices; the filesystem's sysfs directory lists them all. */
static int add_btrfs_devices(struct gathered *g, const char *sysfs_root,
                             struct placement_verdict *out)
{
        struct btrfs_ioctl_fs_info_args info = {};
        char dir[PATH_MAX], dev_dir[PATH_MAX];
        struct dirent *de;
        DIR *d;
        int fd, r = 0;
        dev_t devno;
        size_t len;

        fd = open(g->probe, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return verdict(out, PLACEMENT_CANNOT_CHECK, -errno,
                               "Cannot open %s to list its btrfs devices: %m.", g->probe);
        if (ioctl(fd, BTRFS_IOC_FS_INFO, &info) < 0)
                r = -errno;
        close(fd);
        if (r < 0)
                return verdict(out, PLACEMENT_CANNOT_CHECK, r,
                               "Cannot list the devices of the btrfs holding %s: %m.", g->probe);

        len = (size_t) snprintf(dir, sizeof(dir), "%s/fs/btrfs/", sysfs_root);
        for (size_t i = 0; i < BTRFS_FSID_SIZE && len < sizeof(dir); i++)
                len += (size_t) snprintf(dir + len, sizeof(dir) - len, "%s%02x",
                                         i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "",
                                         info.fsid[i]);
        if (len >= sizeof(dir) ||
            (size_t) snprintf(dir + len, sizeof(dir) - len, "/devices") >= sizeof(dir) - len)
                return verdict(out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
                               "Sysfs root %s: %m.", sysfs_root);

        d = opendir(dir);
        if (!d)
                return verdict(out, PLACEMENT_CANNOT_CHECK, -errno, "Cannot open %s: %m.", dir);
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                r = verdict(out, PLACEMENT_CANNOT_CHECK, -errno,
                                            "Cannot list %s: %m.", dir);
                        break;
                }
                if (de->d_name[0] == '.')
                        continue;
                if ((size_t) snprintf(dev_dir, sizeof(dev_dir), "%s/%s", dir, de->d_name) >= sizeof(dev_dir)) {
                        r = verdict(out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
                                    "Cannot inspect %s/%s: %m.", dir, de->d_name);
                        break;
                }
                r = read_devno(dev_dir, &devno);
                if (r < 0) {
                        verdict(out, PLACEMENT_CANNOT_CHECK, r, "Cannot read %s/dev: %m.", dev_dir);
                        break;
                }
                r = add_target(g, sysfs_root, devno, out);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r;
}

/* The mount's source, when it is a device node, names the real device
 * behind a synthetic st_dev. */
static int add_mount_source(struct gathered *g, const char *sysfs_root, const char *source,
                            struct placement_verdict *out)
{
        struct stat st;

        if (source[0] != '/')
                return 0;
        if (stat(source, &st) < 0) {
                log_debug_errno(errno, "Cannot stat %s, the source of the filesystem holding %s, "
                                "relying on its device number: %m", source, g->probe);
                return 0;
        }
        if (!S_ISBLK(st.st_mode))
                return 0;
        return add_target(g, sysfs_root, st.st_rdev, out);
}

static int gather_mount(struct gathered *g, const char *sysfs_root, struct placement_verdict *out)
{
        struct libmnt_table *table;
        struct libmnt_fs *fs;
        const char *type, *source;
        int r;

        table = mnt_new_table();
        if (!table)
                return verdict(out, PLACEMENT_CANNOT_CHECK, -ENOMEM,
                               "Cannot read the mount table: %m.");
        r = mnt_table_parse_mtab(table, NULL);
        if (r < 0) {
                verdict(out, PLACEMENT_CANNOT_CHECK, r,
                        "Cannot read the mount table (/proc/self/mountinfo): %m.");
                goto finish;
        }
        /* Backwards: of mounts stacked on one directory, the last is visible. */
        fs = mnt_table_find_mountpoint(table, g->probe, MNT_ITER_BACKWARD);
        if (!fs) {
                r = verdict(out, PLACEMENT_CANNOT_CHECK, -ENOENT,
                            "No entry of /proc/self/mountinfo holds %s; is /proc mounted?",
                            g->probe);
                goto finish;
        }

        type = mnt_fs_get_fstype(fs);
        g->fs_type = strdup(type ? type : "");
        if (!g->fs_type) {
                r = verdict(out, PLACEMENT_CANNOT_CHECK, -ENOMEM, "Cannot read the mount table: %m.");
                goto finish;
        }
        log_debug("%s is on a %s filesystem mounted on %s from %s.", g->probe, g->fs_type,
                  mnt_fs_get_target(fs), mnt_fs_get_source(fs) ?: "nothing");

        r = add_target(g, sysfs_root, mnt_fs_get_devno(fs), out);
        if (r < 0)
                goto finish;
        source = mnt_fs_get_srcpath(fs);
        if (source) {
                r = add_mount_source(g, sysfs_root, source, out);
                if (r < 0)
                        goto finish;
        }
        if (strcmp(g->fs_type, "btrfs") == 0)
                r = add_btrfs_devices(g, sysfs_root, out);
finish:
        mnt_unref_table(table);
        return r;
}

static int gather_block_device(struct gathered *g, const char *sysfs_root, const struct stat *st,
                               struct placement_verdict *out)
{
        uint64_t size_bytes;
        int fd, r = 0;

        fd = open(g->resolved, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return verdict(out, PLACEMENT_CANNOT_CHECK, -errno,
                               "Cannot open backup device %s to read its size: %m.", g->resolved);
        if (ioctl(fd, BLKGETSIZE64, &size_bytes) < 0)
                r = -errno;
        close(fd);
        if (r < 0)
                return verdict(out, PLACEMENT_CANNOT_CHECK, r,
                               "Cannot read the size of backup device %s: %m.", g->resolved);
        g->is_block_device = true;
        g->existing_bytes = size_bytes;
        return add_target(g, sysfs_root, st->st_rdev, out);
}

static int gather(const char *backup_path, const char *md, const char *sysfs_root,
                  struct gathered *g, struct placement_verdict *out)
{
        struct statvfs sv;
        struct stat st;
        int r;

        r = resolve_path(backup_path, md, g, out);
        if (r < 0)
                return r;
        if (stat(g->probe, &st) < 0)
                return verdict(out, PLACEMENT_BAD_PATH, -errno, "Cannot stat %s: %m.", g->probe);

        if (g->exists) {
                if (S_ISBLK(st.st_mode))
                        return gather_block_device(g, sysfs_root, &st, out);
                if (S_ISDIR(st.st_mode))
                        return verdict(out, PLACEMENT_BAD_PATH, -EISDIR,
                                       "Backup file %s is a directory; give a file in it, such "
                                       "as %s/%s.backup.", backup_path, backup_path, md);
                if (!S_ISREG(st.st_mode))
                        return verdict(out, PLACEMENT_BAD_PATH, -EINVAL,
                                       "Backup file %s is neither a regular file nor a block "
                                       "device; give a file on " SAFE_PLACE ".",
                                       backup_path, md);
                g->existing_bytes = (uint64_t) st.st_blocks * 512;
        }

        r = add_target(g, sysfs_root, st.st_dev, out);
        if (r < 0)
                return r;
        if (statvfs(g->probe, &sv) < 0)
                return verdict(out, PLACEMENT_CANNOT_CHECK, -errno,
                               "Cannot read the free space of the filesystem holding %s: %m.",
                               g->probe);
        g->free_bytes = (uint64_t) sv.f_bavail * sv.f_frsize;
        return gather_mount(g, sysfs_root, out);
}

int placement_check(const char *backup_path, const char *md_sysname,
                    uint64_t required_bytes, struct placement_verdict *out)
{
        struct placement_devices array = {};
        struct gathered g = {};
        struct placement_facts facts;
        const char *sysfs_root = md_get_sysfs_root();
        int r;

        r = placement_array_devices(sysfs_root, md_sysname, &array, out);
        if (r < 0)
                return r;
        r = gather(backup_path, md_sysname, sysfs_root, &g, out);
        if (r < 0)
                goto finish;

        facts = (struct placement_facts) {
                .backup_path = backup_path,
                .md_sysname = md_sysname,
                .is_block_device = g.is_block_device,
                .fs_type = g.fs_type,
                .targets = &g.targets,
                .array = &array,
                .existing_bytes = g.existing_bytes,
                .free_bytes = g.free_bytes,
                .required_bytes = required_bytes,
        };
        r = placement_judge(&facts, out);
finish:
        gathered_done(&g);
        placement_devices_free(&array);
        return r;
}
