// SPDX-License-Identifier: GPL-2.0-or-later
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libudev.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/raid/md_p.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "reshaped/log.h"
#include "reshaped/md-assemble.h"
#include "reshaped/md.h"

static const struct { unsigned major, minor; } versions[] = {
        { 1, 2 }, { 1, 1 }, { 1, 0 }, { 0, 90 },
};

static bool backwards_of(const void *buf, unsigned major)
{
        const struct mdp_superblock_1 *sb = buf;

        /* 0.90 cannot move data offsets, so never runs backwards. */
        return major == 1 && (le32toh(sb->feature_map) & MD_FEATURE_RESHAPE_BACKWARDS);
}

static int probe_fd(int fd, uint64_t size_bytes, void *buf, struct md_member_super *m)
{
        for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
                uint64_t offset_bytes;
                ssize_t n;

                if (md_super_offset_bytes(versions[i].major, versions[i].minor, size_bytes,
                                          &offset_bytes) < 0)
                        continue;
                n = pread(fd, buf, MD_SUPER_READ_BYTES, (off_t) offset_bytes);
                if (n < 0)
                        return -errno;
                if (n != MD_SUPER_READ_BYTES)
                        continue;
                if (md_super_parse(buf, MD_SUPER_READ_BYTES, versions[i].major, versions[i].minor,
                                   offset_bytes, m->uuid, &m->events, NULL) < 0)
                        continue;
                if (md_super_reshape_position(buf, versions[i].major, &m->reshape_active,
                                              &m->reshape_position_array_sectors) < 0)
                        continue;
                m->major = versions[i].major;
                m->minor = versions[i].minor;
                m->backwards = backwards_of(buf, m->major);
                return 0;
        }
        return -ENODATA;
}

int md_member_super_probe(const char *path, struct md_member_super *ret)
{
        struct md_member_super m = {};
        uint64_t size_bytes;
        void *buf = NULL;
        struct stat st;
        int fd, r;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open %s: %m", path);
        if (fstat(fd, &st) < 0) {
                r = log_error_errno(errno, "Failed to stat %s: %m", path);
                goto out;
        }
        if (S_ISBLK(st.st_mode)) {
                int flags = fcntl(fd, F_GETFL);

                /* md writes superblocks around the member's page cache. */
                if (flags < 0 || fcntl(fd, F_SETFL, flags | O_DIRECT) < 0) {
                        r = log_error_errno(errno, "Failed to enable direct I/O on %s: %m", path);
                        goto out;
                }
                if (ioctl(fd, BLKGETSIZE64, &size_bytes) < 0) {
                        r = log_error_errno(errno, "Failed to get the size of %s: %m", path);
                        goto out;
                }
        } else if (S_ISREG(st.st_mode)) {
                size_bytes = (uint64_t) st.st_size;
        } else {
                r = log_error_errno(ENOTBLK, "%s is not a block device.", path);
                goto out;
        }
        if (posix_memalign(&buf, MD_SUPER_READ_BYTES, MD_SUPER_READ_BYTES) != 0) {
                buf = NULL;
                r = log_error_errno(ENOMEM, "Out of memory.");
                goto out;
        }
        r = probe_fd(fd, size_bytes, buf, &m);
        if (r == -ENODATA)
                goto out;
        if (r < 0) {
                log_error_errno(r, "Failed to read the superblock of %s: %m", path);
                goto out;
        }
        m.devnode = strdup(path);
        if (!m.devnode) {
                r = log_error_errno(ENOMEM, "Out of memory.");
                goto out;
        }
        *ret = m;
out:
        free(buf);
        close(fd);
        return r;
}

void md_member_supers_free(struct md_member_super *m, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(m[i].devnode);
        free(m);
}

static int append(struct md_member_super **v, size_t *n, const struct md_member_super *m)
{
        struct md_member_super *nv = realloc(*v, (*n + 1) * sizeof(**v));

        if (!nv)
                return log_error_errno(ENOMEM, "Out of memory.");
        nv[(*n)++] = *m;
        *v = nv;
        return 0;
}

int md_member_supers_scan(const uint8_t uuid[16], struct md_member_super **ret, size_t *ret_n)
{
        struct udev_list_entry *e;
        struct udev_enumerate *en = NULL;
        struct md_member_super *v = NULL;
        struct udev *udev;
        size_t n = 0;
        int r;

        udev = udev_new();
        if (!udev)
                return log_error_errno(ENOMEM, "Failed to create a udev context.");
        en = udev_enumerate_new(udev);
        if (!en) {
                r = log_error_errno(ENOMEM, "Failed to enumerate block devices.");
                goto out;
        }
        r = udev_enumerate_add_match_subsystem(en, "block");
        if (r >= 0)
                r = udev_enumerate_scan_devices(en);
        if (r < 0) {
                log_error_errno(r, "Failed to enumerate block devices: %m");
                goto out;
        }
        udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en)) {
                struct udev_device *d = udev_device_new_from_syspath(udev, udev_list_entry_get_name(e));
                struct md_member_super m;
                const char *node, *sysname;
                int k;

                if (!d)
                        continue;
                node = udev_device_get_devnode(d);
                sysname = udev_device_get_sysname(d);
                /* md arrays are not members here; empty loop devices and
                 * drives without media fail the probe and are skipped. */
                k = node && sysname && strncmp(sysname, "md", 2) != 0 && strncmp(sysname, "ram", 3) != 0
                    ? md_member_super_probe(node, &m) : -ENODATA;
                udev_device_unref(d);
                if (k < 0)
                        continue;
                if (memcmp(m.uuid, uuid, 16) != 0) {
                        free(m.devnode);
                        continue;
                }
                r = append(&v, &n, &m);
                if (r < 0) {
                        free(m.devnode);
                        goto out;
                }
        }
        *ret = v;
        *ret_n = n;
        v = NULL;
        n = 0;
        r = 0;
out:
        md_member_supers_free(v, n);
        udev_enumerate_unref(en);
        udev_unref(udev);
        return r;
}

const struct md_member_super *md_member_supers_freshest(const struct md_member_super *m, size_t n)
{
        const struct md_member_super *best = NULL;

        for (size_t i = 0; i < n; i++)
                if (!best || m[i].events > best->events)
                        best = &m[i];
        return best;
}

static int md_path(char *buf, size_t size, const char *md_name, const char *attr)
{
        if (snprintf(buf, size, "%s/block/%s/md/%s", md_get_sysfs_root(), md_name, attr) >= (int) size)
                return log_error_errno(ENAMETOOLONG, "sysfs path too long for %s.", md_name);
        return 0;
}

static int write_file(const char *path, const char *value)
{
        size_t len = strlen(value);
        ssize_t n;
        int fd, r = 0;

        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = write(fd, value, len);
        if (n < 0)
                r = -errno;
        else if ((size_t) n != len)
                r = -EIO;
        close(fd);
        return r;
}

static int write_md(const char *md_name, const char *attr, const char *value)
{
        char path[PATH_MAX];
        int r;

        r = md_path(path, sizeof(path), md_name, attr);
        if (r < 0)
                return r;
        r = write_file(path, value);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s to %s: %m", value, path);
        return 0;
}

int md_array_is_running(const char *md_name, bool *ret)
{
        char path[PATH_MAX], state[64] = "";
        ssize_t n;
        int fd, r;

        r = md_path(path, sizeof(path), md_name, "array_state");
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                if (errno != ENOENT)
                        return log_error_errno(errno, "Failed to open %s: %m", path);
                *ret = false;
                return 0;
        }
        n = read(fd, state, sizeof(state) - 1);
        r = n < 0 ? -errno : 0;
        close(fd);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", path);
        state[strcspn(state, "\n")] = '\0';
        *ret = strcmp(state, "clear") != 0 && strcmp(state, "inactive") != 0;
        return 0;
}

static int create_array(const char *md_name)
{
        char path[PATH_MAX];
        struct stat st;
        int r;

        r = md_path(path, sizeof(path), md_name, "array_state");
        if (r < 0)
                return r;
        if (stat(path, &st) == 0)
                /* Left inactive by an earlier attempt: drop what it holds. */
                return write_md(md_name, "array_state", "clear");
        if (snprintf(path, sizeof(path), "%s/module/md_mod/parameters/new_array",
                     md_get_sysfs_root()) >= (int) sizeof(path))
                return log_error_errno(ENAMETOOLONG, "sysfs path too long.");
        r = write_file(path, md_name);
        if (r < 0 && r != -EEXIST)
                return log_error_errno(r, "Failed to create %s (writing %s): %m", md_name, path);
        return 0;
}

int md_assemble_readonly(const char *md_name, const struct md_member_super *m, size_t n)
{
        char value[32];
        int r;

        if (n == 0)
                return log_error_errno(ENODEV, "No members to assemble %s from.", md_name);
        r = create_array(md_name);
        if (r < 0)
                return r;
        if (m[0].major == 0)
                snprintf(value, sizeof(value), "0.90");
        else
                snprintf(value, sizeof(value), "%u.%u", m[0].major, m[0].minor);
        r = write_md(md_name, "metadata_version", value);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                struct stat st;

                if (stat(m[i].devnode, &st) < 0)
                        return log_error_errno(errno, "Failed to stat %s: %m", m[i].devnode);
                if (!S_ISBLK(st.st_mode))
                        return log_error_errno(ENOTBLK, "%s is not a block device.", m[i].devnode);
                snprintf(value, sizeof(value), "%u:%u", major(st.st_rdev), minor(st.st_rdev));
                r = write_md(md_name, "new_dev", value);
                if (r < 0)
                        return log_error_errno(r, "md did not take %s into %s: %m", m[i].devnode, md_name);
        }
        /* md runs from the freshest superblocks and leaves out stale ones. */
        return write_md(md_name, "array_state", "readonly");
}
