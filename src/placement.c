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

static int placement_set_verdict(struct placement_verdict *out, enum placement_reason reason,
                                 int error, const char *format, ...)
        __attribute__((format(printf, 4, 5)));

static int placement_set_verdict(struct placement_verdict *out, enum placement_reason reason,
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

static int placement_devices_add(struct placement_devices *d, dev_t devno,
                                 enum placement_relation relation, const char *name, const char *chain)
{
        struct placement_device *items;
        size_t len = strlen(name), chain_len = strlen(chain);

        if (len >= sizeof(items->name) || chain_len >= sizeof(items->chain))
                return -ENAMETOOLONG;
        items = reallocarray(d->items, d->n + 1, sizeof(*items));
        if (!items)
                return -ENOMEM;
        d->items = items;
        items[d->n] = (struct placement_device) { .devno = devno, .relation = relation };
        memcpy(items[d->n].name, name, len + 1);
        memcpy(items[d->n].chain, chain, chain_len + 1);
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
                                                   const struct placement_devices *array,
                                                   const struct placement_device **target)
{
        static const enum placement_relation order[] = {
                PLACEMENT_ARRAY, PLACEMENT_STACKED, PLACEMENT_MEMBER,
        };

        for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++)
                for (size_t t = 0; t < targets->n; t++)
                        for (size_t a = 0; a < array->n; a++)
                                if (array->items[a].relation == order[o] &&
                                    array->items[a].devno == targets->items[t].devno) {
                                        *target = &targets->items[t];
                                        return &array->items[a];
                                }
        return NULL;
}

static const char *what(const struct placement_facts *f)
{
        return f->is_block_device ? "Backup device" : "Backup file";
}

/* target is how the backup reaches hit: itself, or through loop devices,
 * partitions, slaves, overlays (its chain). */
static int refuse_overlap(const struct placement_facts *f, const struct placement_device *hit,
                          const struct placement_device *target, struct placement_verdict *out)
{
        const char *on = target->chain[0] ? target->chain : hit->name;

        switch (hit->relation) {
        case PLACEMENT_ARRAY:
                if (!target->chain[0])
                        return placement_set_verdict(out, PLACEMENT_ON_ARRAY, -EBUSY,
                                                     "%s %s is on %s itself, the array being reshaped, and "
                                                     "would be lost with the data it protects; put it on "
                                                     SAFE_PLACE ".",
                                                     what(f), f->backup_path, f->md_sysname, f->md_sysname);
                return placement_set_verdict(out, PLACEMENT_ON_ARRAY, -EBUSY,
                                             "%s %s is on %s, the array being reshaped, and would be lost "
                                             "with the data it protects; put it on " SAFE_PLACE ".",
                                             what(f), f->backup_path, on, f->md_sysname);
        case PLACEMENT_STACKED:
                return placement_set_verdict(out, PLACEMENT_STACKED_ON_ARRAY, -EBUSY,
                                             "%s %s is on %s, which is built on %s, the array being "
                                             "reshaped, and would be lost with the data it protects; "
                                             "put it on " SAFE_PLACE ".",
                                             what(f), f->backup_path, on, f->md_sysname, f->md_sysname);
        case PLACEMENT_MEMBER:
                return placement_set_verdict(out, PLACEMENT_ON_MEMBER, -EBUSY,
                                             "%s %s is on %s, which is (part of) a member of %s; writing it "
                                             "would corrupt the array. Put it on " SAFE_PLACE ".",
                                             what(f), f->backup_path, on, f->md_sysname, f->md_sysname);
        case PLACEMENT_UNRELATED:
                break;
        }
        return placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, -EINVAL,
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
                return placement_set_verdict(out, PLACEMENT_NO_SPACE, -ENOSPC,
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
        return placement_set_verdict(out, PLACEMENT_NO_SPACE, -ENOSPC,
                                     "Backup file %s needs %s more but its filesystem has only %s free; "
                                     "free space there or put it on a larger disk that is not part of %s.",
                                     f->backup_path, format_bytes(need_s, sizeof(need_s), missing_bytes),
                                     format_bytes(have_s, sizeof(have_s), f->free_bytes), f->md_sysname);
}

int placement_judge(const struct placement_facts *f, struct placement_verdict *out)
{
        const struct placement_device *hit, *target;
        int r;

        hit = find_overlap(f->targets, f->array, &target);
        if (hit)
                return refuse_overlap(f, hit, target, out);

        if (!f->is_block_device && f->fs_type && fs_type_is_volatile(f->fs_type))
                return placement_set_verdict(out, PLACEMENT_VOLATILE, -EMEDIUMTYPE,
                                             "Backup file %s is on %s, which does not survive a reboot; "
                                             "put it on " SAFE_PLACE ".",
                                             f->backup_path, f->fs_type, f->md_sysname);

        for (size_t i = 0; f->below && i < f->below->n; i++)
                if (fs_type_is_volatile(f->below->items[i].type))
                        return placement_set_verdict(out, PLACEMENT_VOLATILE, -EMEDIUMTYPE,
                                                     "%s %s is on %s, which does not survive a reboot; "
                                                     "put it on " SAFE_PLACE ".",
                                                     what(f), f->backup_path, f->below->items[i].chain,
                                                     f->md_sysname);

        for (size_t i = 0; i < f->targets->n; i++)
                if (device_is_ram_disk(f->targets->items[i].name))
                        return placement_set_verdict(out, PLACEMENT_VOLATILE, -EMEDIUMTYPE,
                                                     "%s %s is on %s, a RAM disk, which does not survive a "
                                                     "reboot; put it on " SAFE_PLACE ".",
                                                     what(f), f->backup_path,
                                                     f->targets->items[i].chain[0] ?
                                                     f->targets->items[i].chain : f->targets->items[i].name,
                                                     f->md_sysname);

        r = check_space(f, out);
        if (r < 0)
                return r;

        return placement_set_verdict(out, PLACEMENT_OK, 0,
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

static int placement_read_devno(const char *dir, dev_t *ret)
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
                return placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, -errno,
                                             "Cannot resolve block device directory %s: %m.", dir);
        name = strrchr(canonical, '/') + 1;
        if (devices_find_name(&w->devices, name)) {
                free(canonical);
                return 0;
        }

        r = placement_read_devno(canonical, &devno);
        if (r < 0) {
                placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, r, "Cannot read %s/dev: %m.", canonical);
                goto fail;
        }
        paths = reallocarray(w->paths, w->devices.n + 1, sizeof(*paths));
        if (!paths) {
                r = placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, -ENOMEM,
                                          "Cannot record block device %s: %m.", name);
                goto fail;
        }
        w->paths = paths;
        r = placement_devices_add(&w->devices, devno, relation, name, "");
        if (r < 0) {
                placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, r, "Cannot record block device %s: %m.",
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
                return placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, -errno, "Cannot open %s: %m.", dir);
        }
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                r = placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, -errno,
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
                return placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
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
                return placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
                                             "Cannot inspect %s/%s: %m.", dir, de->d_name);
        if (access(path, F_OK) < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                return placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, -errno, "Cannot access %s: %m.",
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
                        return placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
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
                return placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, -EINVAL,
                                             "'%s' is not an md device's kernel name; give one such as md0.",
                                             md_sysname ? md_sysname : "");
        if ((size_t) snprintf(md_dir, sizeof(md_dir), "%s/block/%s", sysfs_root, md_sysname) >= sizeof(md_dir) ||
            (size_t) snprintf(slaves_dir, sizeof(slaves_dir), "%s/slaves", md_dir) >= sizeof(slaves_dir))
                return placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
                                             "Sysfs root %s: %m.", sysfs_root);
        if (access(md_dir, F_OK) < 0) {
                if (errno == ENOENT)
                        return placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, -ENODEV,
                                                     "%s does not exist; is %s assembled? 'cat /proc/mdstat' "
                                                     "lists the running arrays.", md_dir, md_sysname);
                return placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, -errno, "Cannot access %s: %m.",
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

static char *mount_table_override;

int placement_set_mount_table(const char *mountinfo_path)
{
        char *copy = NULL;

        if (mountinfo_path) {
                copy = strdup(mountinfo_path);
                if (!copy)
                        return log_error_errno(ENOMEM, "Out of memory.");
        }
        free(mount_table_override);
        mount_table_override = copy;
        return 0;
}

static const char *mount_table_name(void)
{
        return mount_table_override ?: "/proc/self/mountinfo";
}

struct gathered {
        char resolved[PATH_MAX];   /* where the backup is or will be */
        char probe[PATH_MAX];      /* resolved, or its directory while it does not exist */
        bool exists;
        bool is_block_device;
        char *fs_type;
        struct placement_filesystems below;
        struct placement_devices targets;
        uint64_t existing_bytes;
        uint64_t free_bytes;
        const char *backup_path;   /* as given, for messages */
        const char *md;
        const char *sysfs_root;
        struct libmnt_table *mounts;
        struct placement_verdict *out;
};

static void gathered_done(struct gathered *g)
{
        free(g->fs_type);
        free(g->below.items);
        placement_devices_free(&g->targets);
        mnt_unref_table(g->mounts);
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
                return placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, -ENOMEM, "Cannot resolve %s: %m.", path);
        if (!realpath(dir, g->probe)) {
                r = placement_set_verdict(out, PLACEMENT_BAD_PATH, -errno,
                                          "Directory %s of backup file %s is not usable: %m; create it first, "
                                          "on " SAFE_PLACE ".", dir, path, md);
                goto finish;
        }
        if ((size_t) snprintf(g->resolved, sizeof(g->resolved), "%s/%s",
                              strcmp(g->probe, "/") == 0 ? "" : g->probe, base) >= sizeof(g->resolved)) {
                r = placement_set_verdict(out, PLACEMENT_BAD_PATH, -ENAMETOOLONG, "Backup file %s: %m.", path);
                goto finish;
        }
        /* realpath() said ENOENT, yet something is there: a dangling
         * symlink, which creating the file would follow somewhere else. */
        if (lstat(g->resolved, &st) == 0)
                r = placement_set_verdict(out, PLACEMENT_BAD_PATH, -ELOOP,
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
                return placement_set_verdict(out, PLACEMENT_BAD_PATH, -EINVAL,
                                             "No backup file given; name one on " SAFE_PLACE ".", md);
        if (path[strlen(path) - 1] == '/')
                return placement_set_verdict(out, PLACEMENT_BAD_PATH, -EISDIR,
                                             "Backup file %s names a directory; give a file in it, such as "
                                             "%s%s.backup.", path, path, md);
        if (realpath(path, g->resolved)) {
                g->exists = true;
                memcpy(g->probe, g->resolved, sizeof(g->probe));
                return 0;
        }
        if (errno != ENOENT)
                return placement_set_verdict(out, PLACEMENT_BAD_PATH, -errno,
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

static void placement_chain_format(char *chain, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Chains only go into messages: one too long is cut short, not an error. */
static void placement_chain_format(char *chain, const char *format, ...)
{
        va_list ap;
        int n;

        va_start(ap, format);
        n = vsnprintf(chain, PLACEMENT_CHAIN_MAX, format, ap);
        va_end(ap);
        if (n < 0)
                chain[0] = '\0';
        else if (n >= PLACEMENT_CHAIN_MAX)
                memcpy(chain + PLACEMENT_CHAIN_MAX - 4, "...", 4);
}

/* What a further step down starts from: the way to the device, or its name. */
static void device_label(const struct placement_device *d, char *label)
{
        if (d->chain[0])
                placement_chain_format(label, "%s", d->chain);
        else if (d->name[0])
                placement_chain_format(label, "%s", d->name);
        else
                placement_chain_format(label, "device %u:%u", major(d->devno), minor(d->devno));
}

static int placement_gather_filesystem(struct gathered *g, const char *path, const char *prefix,
                                       unsigned depth, bool top);
static int expand_device(struct gathered *g, size_t i, unsigned depth);

/* prefix: how the backup reaches this device ("" for right under it). */
static int placement_add_device(struct gathered *g, dev_t devno, const char *prefix, unsigned depth)
{
        char name[sizeof(g->targets.items->name)], chain[PLACEMENT_CHAIN_MAX] = "";
        int r;

        /* 0 is libmount's "unknown" */
        if (devno == 0 || devices_find_devno(&g->targets, devno))
                return 0;
        device_name(g->sysfs_root, devno, name, sizeof(name));
        if (prefix[0] && name[0])
                placement_chain_format(chain, "%s%s", prefix, name);
        else if (prefix[0])
                placement_chain_format(chain, "%sdevice %u:%u", prefix, major(devno), minor(devno));
        r = placement_devices_add(&g->targets, devno, PLACEMENT_UNRELATED, name, chain);
        if (r < 0)
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, r, "Cannot record device %u:%u: %m.",
                                             major(devno), minor(devno));
        log_debug("The backup lands on %u:%u (%s)%s%s.", major(devno), minor(devno),
                  *name ? name : "no block device", *chain ? ": " : "", chain);
        return expand_device(g, g->targets.n - 1, depth);
}

static int placement_too_deep(struct gathered *g, const char *label)
{
        return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -ELOOP,
                                     "Backup %s is on %s, more than %d devices and filesystems deep; reshaped "
                                     "cannot tell where it lands. Put it on " SAFE_PLACE ".",
                                     g->backup_path, label, PLACEMENT_MAX_DEPTH, g->md);
}

static int expand_partition(struct gathered *g, const char *dir, const char *label, unsigned depth)
{
        char path[PATH_MAX], prefix[PLACEMENT_CHAIN_MAX];
        dev_t disk;
        int r;

        if ((size_t) snprintf(path, sizeof(path), "%s/partition", dir) >= sizeof(path))
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG, "%s: %m.", dir);
        if (access(path, F_OK) < 0) {
                if (errno == ENOENT)
                        return 0;
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -errno, "Cannot access %s: %m.", path);
        }
        /* The kernel resolves the link first: .. is the disk's directory. */
        if ((size_t) snprintf(path, sizeof(path), "%s/..", dir) >= sizeof(path))
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG, "%s: %m.", dir);
        r = placement_read_devno(path, &disk);
        if (r < 0)
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, r, "Cannot read %s/dev: %m.", path);
        placement_chain_format(prefix, "%s, a partition of ", label);
        return placement_add_device(g, disk, prefix, depth + 1);
}

static int expand_slaves(struct gathered *g, const char *dir, const char *label, unsigned depth)
{
        char path[PATH_MAX], entry[PATH_MAX], prefix[PLACEMENT_CHAIN_MAX];
        struct dirent *de;
        dev_t devno;
        DIR *d;
        int r = 0;

        if ((size_t) snprintf(path, sizeof(path), "%s/slaves", dir) >= sizeof(path))
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG, "%s: %m.", dir);
        d = opendir(path);
        if (!d) {
                if (errno == ENOENT)
                        return 0;
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -errno, "Cannot open %s: %m.", path);
        }
        placement_chain_format(prefix, "%s, which is built on ", label);
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                r = placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -errno,
                                                          "Cannot list %s: %m.", path);
                        break;
                }
                if (de->d_name[0] == '.')
                        continue;
                if ((size_t) snprintf(entry, sizeof(entry), "%s/%s", path, de->d_name) >= sizeof(entry)) {
                        r = placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
                                                  "Cannot inspect %s/%s: %m.", path, de->d_name);
                        break;
                }
                r = placement_read_devno(entry, &devno);
                if (r < 0) {
                        placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, r, "Cannot read %s/dev: %m.", entry);
                        break;
                }
                r = placement_add_device(g, devno, prefix, depth + 1);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r;
}

/* A loop device's bytes land wherever its backing file's do. The kernel
 * names that file as this process sees it; one deleted, or not found
 * here, is refused rather than guessed at. */
static int expand_loop(struct gathered *g, const char *dir, const char *label, unsigned depth)
{
        static const char deleted[] = " (deleted)";
        char path[PATH_MAX], file[PATH_MAX + sizeof(deleted) + 1], prefix[PLACEMENT_CHAIN_MAX];
        struct stat st;
        size_t len;
        ssize_t n;
        int fd, r = 0;

        if ((size_t) snprintf(path, sizeof(path), "%s/loop/backing_file", dir) >= sizeof(path))
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG, "%s: %m.", dir);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                /* not a loop device, or one with no file bound */
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -errno,
                                             "Backup %s is on %s, a loop device whose backing file cannot be "
                                             "read from %s: %m; put the backup on " SAFE_PLACE ".",
                                             g->backup_path, label, path, g->md);
        }
        n = read(fd, file, sizeof(file) - 1);
        if (n < 0)
                r = -errno;
        close(fd);
        if (r < 0)
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, r,
                                             "Backup %s is on %s, a loop device whose backing file cannot be "
                                             "read from %s: %m; put the backup on " SAFE_PLACE ".",
                                             g->backup_path, label, path, g->md);
        file[n] = '\0';
        len = strlen(file);
        if (len > 0 && file[len - 1] == '\n')
                file[--len] = '\0';
        if (len >= sizeof(deleted) - 1 && strcmp(file + len - (sizeof(deleted) - 1), deleted) == 0)
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -ENOENT,
                                             "Backup %s is on %s, whose backing file %s has been deleted, so "
                                             "reshaped cannot tell which disk holds it; put the backup on "
                                             SAFE_PLACE ".", g->backup_path, label, file, g->md);
        if (file[0] != '/' || len >= PATH_MAX)
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -EINVAL,
                                             "Backup %s is on %s, whose backing file reads '%s' in %s, not a "
                                             "path reshaped can follow; put the backup on " SAFE_PLACE ".",
                                             g->backup_path, label, file, path, g->md);
        if (stat(file, &st) < 0)
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -errno,
                                             "Backup %s is on %s, whose backing file %s cannot be found (%m); "
                                             "it may lie outside this mount namespace. Put the backup on "
                                             SAFE_PLACE ".", g->backup_path, label, file, g->md);
        if (S_ISBLK(st.st_mode)) {
                placement_chain_format(prefix, "%s, whose backing device %s is ", label, file);
                return placement_add_device(g, st.st_rdev, prefix, depth + 1);
        }
        placement_chain_format(prefix, "%s, whose backing file %s lies on ", label, file);
        return placement_gather_filesystem(g, file, prefix, depth + 1, false);
}

/* Follows the device targets[i] down. Devices sysfs does not know
 * (anonymous ones of tmpfs, btrfs, overlayfs) end there. */
static int expand_device(struct gathered *g, size_t i, unsigned depth)
{
        char dir[PATH_MAX], label[PLACEMENT_CHAIN_MAX];
        dev_t devno = g->targets.items[i].devno;
        int r;

        /* targets may move as it grows: copy what is needed first */
        device_label(&g->targets.items[i], label);
        if ((size_t) snprintf(dir, sizeof(dir), "%s/dev/block/%u:%u", g->sysfs_root,
                              major(devno), minor(devno)) >= sizeof(dir))
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
                                             "Sysfs root %s: %m.", g->sysfs_root);
        if (access(dir, F_OK) < 0) {
                if (errno == ENOENT)
                        return 0;
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -errno, "Cannot access %s: %m.", dir);
        }
        if (depth >= PLACEMENT_MAX_DEPTH)
                return placement_too_deep(g, label);
        r = expand_partition(g, dir, label, depth);
        if (r < 0)
                return r;
        r = expand_slaves(g, dir, label, depth);
        if (r < 0)
                return r;
        return expand_loop(g, dir, label, depth);
}

/* btrfs reports an anonymous st_dev, and mountinfo names one of possibly
 * many devices; the filesystem's sysfs directory lists them all. */
static int add_btrfs_devices(struct gathered *g, const char *path, const char *prefix,
                             unsigned depth)
{
        struct btrfs_ioctl_fs_info_args info = {};
        char dir[PATH_MAX], dev_dir[PATH_MAX];
        struct dirent *de;
        DIR *d;
        const char *sysfs_root = g->sysfs_root;
        struct placement_verdict *out = g->out;
        int fd, r = 0;
        dev_t devno;
        size_t len;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, -errno,
                                             "Cannot open %s to list its btrfs devices: %m.", path);
        if (ioctl(fd, BTRFS_IOC_FS_INFO, &info) < 0)
                r = -errno;
        close(fd);
        if (r < 0)
                return placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, r,
                                             "Cannot list the devices of the btrfs holding %s: %m.", path);

        len = (size_t) snprintf(dir, sizeof(dir), "%s/fs/btrfs/", sysfs_root);
        for (size_t i = 0; i < BTRFS_FSID_SIZE && len < sizeof(dir); i++)
                len += (size_t) snprintf(dir + len, sizeof(dir) - len, "%s%02x",
                                         i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "",
                                         info.fsid[i]);
        if (len >= sizeof(dir) ||
            (size_t) snprintf(dir + len, sizeof(dir) - len, "/devices") >= sizeof(dir) - len)
                return placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
                                             "Sysfs root %s: %m.", sysfs_root);

        d = opendir(dir);
        if (!d)
                return placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, -errno, "Cannot open %s: %m.", dir);
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                r = placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, -errno,
                                                          "Cannot list %s: %m.", dir);
                        break;
                }
                if (de->d_name[0] == '.')
                        continue;
                if ((size_t) snprintf(dev_dir, sizeof(dev_dir), "%s/%s", dir, de->d_name) >= sizeof(dev_dir)) {
                        r = placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
                                                  "Cannot inspect %s/%s: %m.", dir, de->d_name);
                        break;
                }
                r = placement_read_devno(dev_dir, &devno);
                if (r < 0) {
                        placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, r, "Cannot read %s/dev: %m.", dev_dir);
                        break;
                }
                r = placement_add_device(g, devno, prefix, depth);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r;
}

/* The mount's source, when it is a device node, names the real device
 * behind a synthetic st_dev. */
static int add_mount_source(struct gathered *g, const char *path, const char *source,
                            const char *prefix, unsigned depth)
{
        struct stat st;

        if (source[0] != '/')
                return 0;
        if (stat(source, &st) < 0) {
                log_debug_errno(errno, "Cannot stat %s, the source of the filesystem holding %s, "
                                "relying on its device number: %m", source, path);
                return 0;
        }
        if (!S_ISBLK(st.st_mode))
                return 0;
        return placement_add_device(g, st.st_rdev, prefix, depth);
}

/* What is written to an overlay lands in its upper directory. libmount
 * has already undone the kernel's \ooo escapes of the option. */
static int expand_overlay(struct gathered *g, struct libmnt_fs *fs, const char *path,
                          const char *prefix, unsigned depth)
{
        char upper[PATH_MAX], next[PLACEMENT_CHAIN_MAX];
        char *value;
        size_t size;
        int r;

        r = mnt_fs_get_option(fs, "upperdir", &value, &size);
        if (r == 1) {
                log_debug("The overlay holding %s has no upper directory; it is read-only.", path);
                return 0;
        }
        if (r < 0 || !value)
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, r < 0 ? r : -EINVAL,
                                             "Cannot read the upper directory of the overlay holding %s from "
                                             "%s.", path, mount_table_name());
        if (size >= sizeof(upper))
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
                                             "The upper directory of the overlay holding %s: %m.", path);
        memcpy(upper, value, size);
        upper[size] = '\0';
        if (upper[0] != '/')
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -EINVAL,
                                             "Backup %s is on an overlay whose upper directory '%s' is not a "
                                             "path reshaped can follow; put it on " SAFE_PLACE ".",
                                             g->backup_path, upper, g->md);
        placement_chain_format(next, "%soverlay, whose upper directory %s lies on ", prefix, upper);
        return placement_gather_filesystem(g, upper, next, depth + 1, false);
}

static int filesystems_add(struct placement_filesystems *l, const char *type, const char *chain)
{
        struct placement_filesystem *items;
        size_t len = strlen(type);

        if (len >= sizeof(items->type))
                return -ENAMETOOLONG;
        items = reallocarray(l->items, l->n + 1, sizeof(*items));
        if (!items)
                return -ENOMEM;
        l->items = items;
        memcpy(items[l->n].type, type, len + 1);
        placement_chain_format(items[l->n].chain, "%s", chain);
        l->n++;
        return 0;
}

/* The filesystem holding path, and the devices under it. top: the one
 * holding the backup itself, whose type is facts.fs_type. */
static int placement_gather_filesystem(struct gathered *g, const char *path, const char *prefix,
                                       unsigned depth, bool top)
{
        char chain[PLACEMENT_CHAIN_MAX];
        struct libmnt_fs *fs;
        const char *type, *source;
        struct stat st;
        int r;

        if (depth >= PLACEMENT_MAX_DEPTH)
                return placement_too_deep(g, prefix);
        if (stat(path, &st) < 0)
                return placement_set_verdict(g->out, top ? PLACEMENT_BAD_PATH : PLACEMENT_CANNOT_CHECK, -errno,
                                             "Cannot stat %s: %m.", path);
        r = placement_add_device(g, st.st_dev, prefix, depth);
        if (r < 0)
                return r;

        /* Backwards: of mounts stacked on one directory, the last is visible. */
        fs = mnt_table_find_mountpoint(g->mounts, path, MNT_ITER_BACKWARD);
        if (!fs)
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -ENOENT,
                                             "No entry of %s holds %s; is /proc mounted?", mount_table_name(), path);
        type = mnt_fs_get_fstype(fs) ?: "";
        if (top) {
                g->fs_type = strdup(type);
                r = g->fs_type ? 0 : -ENOMEM;
        } else {
                placement_chain_format(chain, "%s%s", prefix, type);
                r = filesystems_add(&g->below, type, chain);
        }
        if (r < 0)
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, r, "Cannot record filesystem %s: %m.",
                                             type);
        log_debug("%s is on a %s filesystem mounted on %s from %s.", path, type,
                  mnt_fs_get_target(fs), mnt_fs_get_source(fs) ?: "nothing");

        r = placement_add_device(g, mnt_fs_get_devno(fs), prefix, depth);
        if (r < 0)
                return r;
        source = mnt_fs_get_srcpath(fs);
        if (source) {
                r = add_mount_source(g, path, source, prefix, depth);
                if (r < 0)
                        return r;
        }
        if (strcmp(type, "btrfs") == 0)
                return add_btrfs_devices(g, path, prefix, depth);
        if (strcmp(type, "overlay") == 0)
                return expand_overlay(g, fs, path, prefix, depth);
        return 0;
}

static int load_mounts(struct gathered *g)
{
        int r;

        g->mounts = mnt_new_table();
        if (!g->mounts)
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -ENOMEM,
                                             "Cannot read the mount table: %m.");
        r = mount_table_override ? mnt_table_parse_file(g->mounts, mount_table_override)
                                 : mnt_table_parse_mtab(g->mounts, NULL);
        if (r < 0)
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, r,
                                             "Cannot read the mount table (%s): %m.", mount_table_name());
        return 0;
}

static int gather_block_device(struct gathered *g, const struct stat *st)
{
        uint64_t size_bytes;
        int fd, r = 0;

        fd = open(g->resolved, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -errno,
                                             "Cannot open backup device %s to read its size: %m.", g->resolved);
        if (ioctl(fd, BLKGETSIZE64, &size_bytes) < 0)
                r = -errno;
        close(fd);
        if (r < 0)
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, r,
                                             "Cannot read the size of backup device %s: %m.", g->resolved);
        g->is_block_device = true;
        g->existing_bytes = size_bytes;
        return placement_add_device(g, st->st_rdev, "", 0);
}

static int gather(struct gathered *g)
{
        const char *backup_path = g->backup_path, *md = g->md;
        struct placement_verdict *out = g->out;
        struct statvfs sv;
        struct stat st;
        int r;

        r = resolve_path(backup_path, md, g, out);
        if (r < 0)
                return r;
        if (stat(g->probe, &st) < 0)
                return placement_set_verdict(out, PLACEMENT_BAD_PATH, -errno, "Cannot stat %s: %m.", g->probe);
        r = load_mounts(g);
        if (r < 0)
                return r;

        if (g->exists) {
                if (S_ISBLK(st.st_mode))
                        return gather_block_device(g, &st);
                if (S_ISDIR(st.st_mode))
                        return placement_set_verdict(out, PLACEMENT_BAD_PATH, -EISDIR,
                                                     "Backup file %s is a directory; give a file in it, such "
                                                     "as %s/%s.backup.", backup_path, backup_path, md);
                if (!S_ISREG(st.st_mode))
                        return placement_set_verdict(out, PLACEMENT_BAD_PATH, -EINVAL,
                                                     "Backup file %s is neither a regular file nor a block "
                                                     "device; give a file on " SAFE_PLACE ".",
                                                     backup_path, md);
                g->existing_bytes = (uint64_t) st.st_blocks * 512;
        }

        if (statvfs(g->probe, &sv) < 0)
                return placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, -errno,
                                             "Cannot read the free space of the filesystem holding %s: %m.",
                                             g->probe);
        g->free_bytes = (uint64_t) sv.f_bavail * sv.f_frsize;
        return placement_gather_filesystem(g, g->probe, "", 0, true);
}

int placement_check(const char *backup_path, const char *md_sysname,
                    uint64_t required_bytes, struct placement_verdict *out)
{
        struct placement_devices array = {};
        struct gathered g = {
                .backup_path = backup_path, .md = md_sysname,
                .sysfs_root = md_get_sysfs_root(), .out = out,
        };
        struct placement_facts facts;
        int r;

        r = placement_array_devices(g.sysfs_root, md_sysname, &array, out);
        if (r < 0)
                return r;
        r = gather(&g);
        if (r < 0)
                goto finish;

        facts = (struct placement_facts) {
                .backup_path = backup_path,
                .md_sysname = md_sysname,
                .is_block_device = g.is_block_device,
                .fs_type = g.fs_type,
                .below = &g.below,
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
