// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <libmount/libmount.h>
#include <limits.h>
#include <linux/btrfs.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "reshaped/log.h"
#include "reshaped/md.h"
#include "reshaped/placement.h"
#include "placement-internal.h"

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

/* btrfs reports an anonymous st_dev, and mountinfo names one of possibly
 * many devices; the filesystem's sysfs directory lists them all. */
static int add_btrfs_devices(struct gathered *g, const char *path, const char *prefix,
                             unsigned depth)
{
        struct btrfs_ioctl_fs_info_args info = {};
        char dir[PATH_MAX];
        const char *sysfs_root = g->sysfs_root;
        struct placement_verdict *out = g->out;
        int fd, r = 0;
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

        return placement_add_devices_in(g, dir, false, prefix, depth);
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
int placement_gather_filesystem(struct gathered *g, const char *path, const char *prefix,
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
