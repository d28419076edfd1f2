// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "reshaped/log.h"
#include "reshaped/md.h"
#include "reshaped/placement.h"
#include "placement-internal.h"

static const struct placement_device *devices_find_devno(const struct placement_devices *d,
                                                         dev_t devno)
{
        for (size_t i = 0; i < d->n; i++)
                if (d->items[i].devno == devno)
                        return &d->items[i];
        return NULL;
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

/* Chains only go into messages: one too long is cut short, not an error. */
void placement_chain_format(char *chain, const char *format, ...)
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

static int expand_device(struct gathered *g, size_t i, unsigned depth);

/* prefix: how the backup reaches this device ("" for right under it). */
int placement_add_device(struct gathered *g, dev_t devno, const char *prefix, unsigned depth)
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

int placement_too_deep(struct gathered *g, const char *label)
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

int placement_add_devices_in(struct gathered *g, const char *dir, bool missing_ok,
                             const char *prefix, unsigned depth)
{
        char entry[PATH_MAX];
        struct dirent *de;
        dev_t devno;
        DIR *d;
        int r = 0;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT && missing_ok)
                        return 0;
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -errno, "Cannot open %s: %m.", dir);
        }
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                r = placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -errno,
                                                          "Cannot list %s: %m.", dir);
                        break;
                }
                if (de->d_name[0] == '.')
                        continue;
                if ((size_t) snprintf(entry, sizeof(entry), "%s/%s", dir, de->d_name) >= sizeof(entry)) {
                        r = placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
                                                  "Cannot inspect %s/%s: %m.", dir, de->d_name);
                        break;
                }
                r = placement_read_devno(entry, &devno);
                if (r < 0) {
                        placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, r, "Cannot read %s/dev: %m.", entry);
                        break;
                }
                r = placement_add_device(g, devno, prefix, depth);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r;
}

static int expand_slaves(struct gathered *g, const char *dir, const char *label, unsigned depth)
{
        char path[PATH_MAX], prefix[PLACEMENT_CHAIN_MAX];

        if ((size_t) snprintf(path, sizeof(path), "%s/slaves", dir) >= sizeof(path))
                return placement_set_verdict(g->out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG, "%s: %m.", dir);
        placement_chain_format(prefix, "%s, which is built on ", label);
        return placement_add_devices_in(g, path, true, prefix, depth + 1);
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
