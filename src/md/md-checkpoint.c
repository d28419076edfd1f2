// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The reshape checkpoint as it is on disk. md publishes reshape_position
 * and sync_completed before the superblock write that makes them true
 * completes, so the only proof that a region is checkpointed is the
 * members' superblocks themselves, read around the page cache.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <linux/raid/md_p.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reshaped/util/log.h"
#include "reshaped/md/md.h"

int md_super_reshape_position(const void *buf, unsigned major, bool *ret_active,
                              uint64_t *ret_position_array_sectors)
{
        if (major == 0) {
                const mdp_super_t *sb = buf;

                if (sb->md_magic != MD_SB_MAGIC)
                        return -EBADMSG;
                /* 0.90 records a reshape by going to minor version 91. */
                *ret_active = sb->minor_version > 90;
                *ret_position_array_sectors = sb->reshape_position;
                return 0;
        }
        if (major == 1) {
                const struct mdp_superblock_1 *sb = buf;

                if (le32toh(sb->magic) != MD_SB_MAGIC)
                        return -EBADMSG;
                *ret_active = le32toh(sb->feature_map) & MD_FEATURE_RESHAPE_ACTIVE;
                *ret_position_array_sectors = le64toh(sb->reshape_position);
                return 0;
        }
        return -EOPNOTSUPP;
}

static int read_member(const char *devnode, unsigned major, unsigned minor, void *buf,
                       bool *active, uint64_t *pos)
{
        uint64_t size_bytes, offset_bytes;
        struct stat st;
        ssize_t n;
        int fd, r;

        fd = open(devnode, O_RDONLY | O_DIRECT | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open member %s: %m", devnode);
        if (fstat(fd, &st) < 0) {
                r = log_error_errno(errno, "Failed to stat member %s: %m", devnode);
                goto out;
        }
        if (S_ISBLK(st.st_mode)) {
                if (ioctl(fd, BLKGETSIZE64, &size_bytes) < 0) {
                        r = log_error_errno(errno, "Failed to get the size of %s: %m", devnode);
                        goto out;
                }
        } else {
                size_bytes = (uint64_t) st.st_size;
        }
        r = md_super_offset_bytes(major, minor, size_bytes, &offset_bytes);
        if (r < 0) {
                log_error_errno(r, "No %u.%u superblock position on %s: %m", major, minor, devnode);
                goto out;
        }
        n = pread(fd, buf, MD_SUPER_READ_BYTES, (off_t) offset_bytes);
        if (n != MD_SUPER_READ_BYTES) {
                r = log_error_errno(n < 0 ? errno : EIO, "Failed to read the superblock of %s: %s",
                                    devnode, n < 0 ? strerror(errno) : "short read");
                goto out;
        }
        r = md_super_reshape_position(buf, major, active, pos);
        if (r < 0)
                log_error_errno(r, "The superblock of %s is not an md %u.x superblock.", devnode, major);
out:
        close(fd);
        return r;
}

int md_read_disk_checkpoint(struct md *md, bool *ret_active, uint64_t *ret_position_array_sectors)
{
        struct md_member *members = NULL;
        struct md_geometry g;
        void *buf = NULL;
        size_t n = 0, used = 0;
        bool any_active = false, all_active = true, have = false;
        uint64_t lowest = 0, highest = 0;
        int r;

        r = md_get_geometry(md, &g);
        if (r < 0)
                return r;
        if (g.metadata.kind != MD_METADATA_NATIVE)
                return log_error_errno(EOPNOTSUPP, "%s has no native superblock to read the checkpoint from.",
                                       md_name(md));
        r = md_get_members(md, &members, &n);
        if (r < 0)
                return r;
        if (posix_memalign(&buf, MD_SUPER_READ_BYTES, MD_SUPER_READ_BYTES) != 0) {
                buf = NULL;
                r = log_error_errno(ENOMEM, "Out of memory.");
                goto out;
        }

        /* Every working member: after a crash md assembles from the
         * freshest superblocks, but one not yet written must not make us
         * claim more than all of them hold. */
        for (size_t i = 0; i < n; i++) {
                bool active;
                uint64_t pos;

                if (!(members[i].state & MD_MEMBER_IN_SYNC) || (members[i].state & MD_MEMBER_FAULTY) ||
                    members[i].slot < 0)
                        continue;
                r = read_member(members[i].devnode, g.metadata.major, g.metadata.minor, buf,
                                &active, &pos);
                if (r < 0)
                        goto out;
                used++;
                any_active |= active;
                all_active &= active;
                if (!active)
                        continue;
                if (!have || pos < lowest)
                        lowest = pos;
                if (!have || pos > highest)
                        highest = pos;
                have = true;
        }
        if (used == 0) {
                r = log_error_errno(ENODEV, "%s has no in-sync member to read the checkpoint from.", md_name(md));
                goto out;
        }
        if (!all_active || !any_active) {
                /* Some superblocks do not record the reshape yet. */
                *ret_active = false;
                *ret_position_array_sectors = 0;
                r = 0;
                goto out;
        }
        *ret_active = true;
        /* Backwards the position falls as it progresses: the least progress
         * is the highest position. */
        *ret_position_array_sectors = g.direction == MD_RESHAPE_DIRECTION_BACKWARDS ? highest : lowest;
        r = 0;
out:
        free(buf);
        md_members_free(members, n);
        return r;
}
