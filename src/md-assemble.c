// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
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

/*
 * The reshape as md reads it from this superblock (super_90_validate(),
 * super_1_validate()): level, layout and chunk are the old geometry and
 * new_* the new one; raid_disks is the new count and delta_disks the
 * change; a reshape runs backwards when it removes disks, or (1.x only)
 * when the feature flag says so. 0.90 counts the component size in KiB
 * and chunks in bytes, 1.x both in sectors.
 */
static void read_identity(const void *buf, unsigned major, uint64_t offset_bytes,
                          struct md_member_super *m)
{
        struct backup_identity *id = &m->identity;
        int32_t delta = 0;

        memcpy(id->uuid, m->uuid, 16);
        id->events = m->events;
        memset(m->member_id, 0, sizeof(m->member_id));
        if (major == 0) {
                const mdp_super_t *sb = buf;

                id->before = (struct backup_geometry) { (int32_t) sb->level, sb->raid_disks,
                                                        sb->chunk_size, sb->layout };
                if (m->reshape_active) {
                        delta = (int32_t) sb->delta_disks;
                        id->after = (struct backup_geometry) { (int32_t) sb->new_level, sb->raid_disks,
                                                               sb->new_chunk, sb->new_layout };
                } else {
                        id->after = id->before;
                }
                id->component_dev_sectors = (uint64_t) sb->size * 2;
                id->backwards = m->reshape_active && delta < 0;
                memcpy(m->member_id, &sb->this_disk.number, sizeof(sb->this_disk.number));
                m->used_bytes = offset_bytes + MD_SB_BYTES;
                m->slot = sb->this_disk.state & (1 << MD_DISK_SYNC) ? (int) sb->this_disk.raid_disk : -1;
                m->data_offset_dev_sectors = 0;
                m->moves_data = false;
        } else {
                const struct mdp_superblock_1 *sb = buf;
                uint32_t features = le32toh(sb->feature_map);
                uint64_t data_end = (le64toh(sb->data_offset) + le64toh(sb->data_size)) * 512;

                id->before = (struct backup_geometry) { (int32_t) le32toh(sb->level),
                                                        le32toh(sb->raid_disks),
                                                        le32toh(sb->chunksize) * 512,
                                                        le32toh(sb->layout) };
                if (m->reshape_active) {
                        delta = (int32_t) le32toh(sb->delta_disks);
                        id->after = (struct backup_geometry) { (int32_t) le32toh(sb->new_level),
                                                               le32toh(sb->raid_disks),
                                                               le32toh(sb->new_chunk) * 512,
                                                               le32toh(sb->new_layout) };
                } else {
                        id->after = id->before;
                }
                /* md shows component_size in KiB; the supervisor records
                 * that, doubled. */
                id->component_dev_sectors = le64toh(sb->size) / 2 * 2;
                id->backwards = m->reshape_active &&
                                (delta < 0 || (delta == 0 && (features & MD_FEATURE_RESHAPE_BACKWARDS)));
                uint32_t dev_number = le32toh(sb->dev_number);
                uint16_t role = 0xffff;

                memcpy(m->member_id, sb->device_uuid, sizeof(m->member_id));
                m->used_bytes = data_end > offset_bytes + 1024 ? data_end : offset_bytes + 1024;
                /* md_super_parse() bounded max_dev by what was read. */
                if (dev_number < le32toh(sb->max_dev))
                        role = le16toh(sb->dev_roles[dev_number]);
                m->slot = role < MD_DISK_ROLE_MAX ? (int) role : -1;
                m->data_offset_dev_sectors = le64toh(sb->data_offset);
                m->moves_data = features & MD_FEATURE_NEW_OFFSET;
        }
        id->before.raid_disks = (uint32_t) ((int64_t) id->after.raid_disks - delta);
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
                m->dev_size_bytes = size_bytes;
                read_identity(buf, m->major, offset_bytes, m);
                m->backwards = m->identity.backwards;
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

static bool same_member(const struct md_member_super *a, const struct md_member_super *b)
{
        return memcmp(a->uuid, b->uuid, 16) == 0 && a->major == b->major &&
               memcmp(a->member_id, b->member_id, sizeof(a->member_id)) == 0;
}

/*
 * Which of two nodes showing one member's superblock md should get:
 *  1. one no other device holds: the paths of a dm-multipath map are held
 *     by the map, and md cannot claim them (EBUSY), the map it can;
 *  2. one that holds all the superblock says the member uses (its data
 *     area, its own position): a node too small cannot be the member;
 *  3. the smallest: a 0.90 or 1.0 superblock lies at the end of the
 *     member, so a whole disk whose last partition ends at (0.90: within
 *     64 KiB of) the disk's end shows the partition's superblock as its
 *     own; the partition is the member, the disk its container;
 *  4. the first name, so that the choice does not depend on the order
 *     udev lists devices in.
 * True when @a is the better one.
 */
static bool better_node(const struct md_member_super *a, const struct md_member_super *b)
{
        bool a_fits = a->used_bytes <= a->dev_size_bytes, b_fits = b->used_bytes <= b->dev_size_bytes;

        if (a->held != b->held)
                return !a->held;
        if (a_fits != b_fits)
                return a_fits;
        if (a->dev_size_bytes != b->dev_size_bytes)
                return a->dev_size_bytes < b->dev_size_bytes;
        return strcmp(a->devnode, b->devnode) < 0;
}

void md_member_supers_dedup(struct md_member_super *m, size_t *n)
{
        size_t kept = 0;

        for (size_t i = 0; i < *n; i++) {
                size_t j;

                for (j = 0; j < kept && !same_member(&m[j], &m[i]); j++)
                        ;
                if (j == kept) {
                        m[kept++] = m[i];
                        continue;
                }
                if (better_node(&m[i], &m[j])) {
                        struct md_member_super t = m[j];

                        m[j] = m[i];
                        m[i] = t;
                }
                log_notice("%s shows the same member superblock as %s; using %s only.",
                           m[i].devnode, m[j].devnode, m[j].devnode);
                free(m[i].devnode);
                m[i].devnode = NULL;
        }
        *n = kept;
}

/* Whether another block device (a dm map, say) holds @syspath's device. */
static bool has_holders(const char *syspath)
{
        char path[PATH_MAX];
        struct dirent *de;
        bool any = false;
        DIR *d;

        if (snprintf(path, sizeof(path), "%s/holders", syspath) >= (int) sizeof(path))
                return false;
        d = opendir(path);
        if (!d)
                return false;
        while (!any && (de = readdir(d)))
                any = de->d_name[0] != '.';
        closedir(d);
        return any;
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
                if (k >= 0)
                        m.held = has_holders(udev_device_get_syspath(d));
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
        md_member_supers_dedup(v, &n);
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
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        if (same_member(&m[i], &m[j]) || strcmp(m[i].devnode, m[j].devnode) == 0)
                                return log_error_errno(EINVAL, "%s and %s are one member of %s seen twice; name each member once.",
                                                       m[i].devnode, m[j].devnode, md_name);
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
