// SPDX-License-Identifier: GPL-2.0-or-later
#include <byteswap.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <linux/raid/md_p.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reshaped/log.h"
#include "reshaped/md-parse.h"
#include "reshaped/md.h"

_Static_assert(sizeof(mdp_super_t) == MD_SB_BYTES, "0.90 superblock is 4 KiB");
_Static_assert(sizeof(struct mdp_superblock_1) == 256, "1.x superblock header is 256 bytes");
_Static_assert(MD_SUPER_READ_BYTES >= MD_SB_BYTES, "read buffer holds a 0.90 superblock");

/* 1.x: the largest max_dev whose dev_roles fit in what we read. */
#define SB1_MAX_DEV ((MD_SUPER_READ_BYTES - sizeof(struct mdp_superblock_1)) / 2)

int md_super_offset_bytes(unsigned major, unsigned minor, uint64_t dev_size_bytes,
                          uint64_t *ret_offset_bytes)
{
        uint64_t dev_sectors = dev_size_bytes / 512;

        if (major == 0) {
                if (dev_size_bytes < MD_RESERVED_BYTES)
                        return -ENOSPC;
                *ret_offset_bytes = MD_NEW_SIZE_SECTORS(dev_sectors) * 512;
                return 0;
        }
        if (major != 1)
                return -EOPNOTSUPP;

        switch (minor) {
        case 0:
                /* At least 8 KiB, less than 12 KiB from the end, 4 KiB aligned. */
                if (dev_sectors < 24)
                        return -ENOSPC;
                *ret_offset_bytes = ((dev_sectors - 8 * 2) & ~(uint64_t) (4 * 2 - 1)) * 512;
                return 0;
        case 1:
                *ret_offset_bytes = 0;
                return 0;
        case 2:
                *ret_offset_bytes = 4096;
                return 0;
        default:
                return -EOPNOTSUPP;
        }
}

static uint32_t get_ne32(const uint8_t *p)
{
        uint32_t v;

        memcpy(&v, p, sizeof(v));
        return v;
}

static uint32_t get_le32(const uint8_t *p)
{
        return le32toh(get_ne32(p));
}

static uint16_t csum_fold(uint32_t csum)
{
        csum = (csum & 0xffff) + (csum >> 16);
        return (uint16_t) ((csum & 0xffff) + (csum >> 16));
}

/* md.c calc_sb_csum(): host-endian words, sb_csum counted as 0. */
static uint32_t sb0_csum(const uint8_t *buf)
{
        const size_t csum_at = offsetof(mdp_super_t, sb_csum);
        uint64_t sum = 0;

        for (size_t i = 0; i < MD_SB_BYTES; i += 4)
                if (i != csum_at)
                        sum += get_ne32(buf + i);
        return (uint32_t) ((sum & 0xffffffff) + (sum >> 32));
}

/* md.c calc_sb_1_csum(): little-endian words over 256 + 2 * max_dev. */
static uint32_t sb1_csum(const uint8_t *buf, size_t size)
{
        const size_t csum_at = offsetof(struct mdp_superblock_1, sb_csum);
        uint64_t sum = 0;
        size_t i;

        for (i = 0; i + 4 <= size; i += 4)
                if (i != csum_at)
                        sum += get_le32(buf + i);
        if (size - i == 2)
                sum += (uint16_t) (buf[i] | buf[i + 1] << 8);
        return (uint32_t) ((sum & 0xffffffff) + (sum >> 32));
}

static int fail(const char **ret_reason, const char *reason, int r)
{
        if (ret_reason)
                *ret_reason = reason;
        return r;
}

static int parse_sb0(const uint8_t *buf, uint8_t uuid[16], uint64_t *ret_events,
                     const char **ret_reason)
{
        mdp_super_t sb;

        memcpy(&sb, buf, sizeof(sb));
        if (sb.md_magic != MD_SB_MAGIC) {
                if (bswap_32(sb.md_magic) == MD_SB_MAGIC)
                        return fail(ret_reason,
                                    "0.90 superblock written by a host of the other byte order",
                                    -EPROTONOSUPPORT);
                return fail(ret_reason, "no 0.90 superblock magic", -ENODATA);
        }
        if (sb.major_version != 0 || sb.minor_version < 90 || sb.minor_version > 91)
                return fail(ret_reason, "superblock version is not 0.90 or 0.91", -EBADMSG);
        if (csum_fold(sb0_csum(buf)) != csum_fold(sb.sb_csum))
                return fail(ret_reason, "0.90 superblock checksum mismatch", -EBADMSG);

        /* mdadm's uuid_from_super0() fills int uuid[4] with these words and
         * the backup header takes those 16 bytes as they lie in memory. */
        memcpy(uuid, &sb.set_uuid0, 4);
        memcpy(uuid + 4, &sb.set_uuid1, 4);
        memcpy(uuid + 8, &sb.set_uuid2, 4);
        memcpy(uuid + 12, &sb.set_uuid3, 4);
        *ret_events = (uint64_t) sb.events_hi << 32 | sb.events_lo;
        return 0;
}

static int parse_sb1(const uint8_t *buf, uint64_t offset_bytes, uint8_t uuid[16],
                     uint64_t *ret_events, const char **ret_reason)
{
        struct mdp_superblock_1 sb;
        uint32_t max_dev;

        memcpy(&sb, buf, sizeof(sb));
        if (le32toh(sb.magic) != MD_SB_MAGIC)
                return fail(ret_reason, "no 1.x superblock magic", -ENODATA);
        if (le32toh(sb.major_version) != 1)
                return fail(ret_reason, "superblock major version is not 1", -EBADMSG);
        max_dev = le32toh(sb.max_dev);
        if (max_dev > SB1_MAX_DEV)
                return fail(ret_reason, "1.x superblock max_dev too large", -EBADMSG);
        if (le64toh(sb.super_offset) * 512 != offset_bytes)
                return fail(ret_reason, "1.x superblock records another super_offset", -EBADMSG);
        if (sb1_csum(buf, sizeof(sb) + 2 * (size_t) max_dev) != le32toh(sb.sb_csum))
                return fail(ret_reason, "1.x superblock checksum mismatch", -EBADMSG);

        memcpy(uuid, sb.set_uuid, 16);
        *ret_events = le64toh(sb.events);
        return 0;
}

int md_super_parse(const void *buf, size_t size, unsigned major, unsigned minor,
                   uint64_t offset_bytes, uint8_t uuid[16], uint64_t *ret_events,
                   const char **ret_reason)
{
        if (size < MD_SUPER_READ_BYTES)
                return fail(ret_reason, "superblock buffer too small", -EINVAL);
        if (major == 0)
                return parse_sb0(buf, uuid, ret_events, ret_reason);
        if (major == 1 && minor <= 2)
                return parse_sb1(buf, offset_bytes, uuid, ret_events, ret_reason);
        return fail(ret_reason, "unknown metadata version", -EOPNOTSUPP);
}

static int device_size(int fd, const struct stat *st, uint64_t *ret)
{
        if (S_ISREG(st->st_mode)) {
                *ret = (uint64_t) st->st_size;
                return 0;
        }
        if (ioctl(fd, BLKGETSIZE64, ret) < 0)
                return -errno;
        return 0;
}

/* md writes superblocks with bios that bypass the member's page cache,
 * so a buffered read of a block device may see an old one. */
static int use_direct_io(int fd)
{
        int flags = fcntl(fd, F_GETFL);

        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_DIRECT) < 0)
                return -errno;
        return 0;
}

/* Opens the member at @path (around the page cache when a block device)
 * and reads its @major.@minor superblock into @buf; *ret_offset_bytes says
 * where it lies. */
static int open_super(const char *path, int flags, unsigned major, unsigned minor, void *buf,
                      uint64_t *ret_offset_bytes, int *ret_fd)
{
        uint64_t size_bytes, offset_bytes;
        struct stat st;
        ssize_t n;
        int fd, r;

        fd = open(path, flags | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open %s: %m", path);
        if (fstat(fd, &st) < 0) {
                r = log_error_errno(errno, "Failed to stat %s: %m", path);
                goto fail;
        }
        if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
                r = log_error_errno(ENOTBLK, "%s is neither a block device nor an image file.", path);
                goto fail;
        }
        if (S_ISBLK(st.st_mode)) {
                r = use_direct_io(fd);
                if (r < 0) {
                        log_error_errno(r, "Failed to enable direct I/O on %s: %m", path);
                        goto fail;
                }
        }
        r = device_size(fd, &st, &size_bytes);
        if (r < 0) {
                log_error_errno(r, "Failed to get the size of %s: %m", path);
                goto fail;
        }
        r = md_super_offset_bytes(major, minor, size_bytes, &offset_bytes);
        if (r < 0) {
                log_error_errno(r, "No %u.%u superblock position on %s (%" PRIu64 " bytes): %m",
                                major, minor, path, size_bytes);
                goto fail;
        }
        n = pread(fd, buf, MD_SUPER_READ_BYTES, (off_t) offset_bytes);
        if (n < 0) {
                r = log_error_errno(errno, "Failed to read the superblock of %s at byte %" PRIu64 ": %m",
                                    path, offset_bytes);
                goto fail;
        }
        if (n != MD_SUPER_READ_BYTES) {
                r = log_error_errno(EIO, "Failed to read the superblock of %s at byte %" PRIu64
                                    ": short read (%zd of %d bytes).",
                                    path, offset_bytes, n, MD_SUPER_READ_BYTES);
                goto fail;
        }
        *ret_offset_bytes = offset_bytes;
        *ret_fd = fd;
        return 0;
fail:
        close(fd);
        return r;
}

static void *super_buffer(void)
{
        void *buf;

        if (posix_memalign(&buf, MD_SUPER_READ_BYTES, MD_SUPER_READ_BYTES) != 0)
                return NULL;
        return buf;
}

int md_super_read_device(const char *path, unsigned major, unsigned minor,
                         uint8_t uuid[16], uint64_t *ret_events)
{
        const char *reason = NULL;
        uint64_t offset_bytes;
        void *buf = super_buffer();
        int fd, r;

        if (!buf)
                return log_error_errno(ENOMEM, "Out of memory.");
        r = open_super(path, O_RDONLY, major, minor, buf, &offset_bytes, &fd);
        if (r < 0)
                goto out;
        r = md_super_parse(buf, MD_SUPER_READ_BYTES, major, minor, offset_bytes, uuid,
                           ret_events, &reason);
        if (r < 0)
                log_error_errno(r, "No usable %u.%u superblock on %s at byte %" PRIu64 ": %s.",
                                major, minor, path, offset_bytes, reason);
        close(fd);
out:
        free(buf);
        return r;
}

int md_super_set_reshape_position(void *buf, unsigned major, uint64_t position_array_sectors)
{
        if (major == 0) {
                mdp_super_t *sb = buf;

                sb->reshape_position = position_array_sectors;
                sb->sb_csum = sb0_csum(buf);
                return 0;
        }
        if (major == 1) {
                struct mdp_superblock_1 *sb = buf;
                uint32_t max_dev = le32toh(sb->max_dev);

                if (max_dev > SB1_MAX_DEV)
                        return -EBADMSG;
                sb->reshape_position = htole64(position_array_sectors);
                sb->sb_csum = htole32(sb1_csum(buf, sizeof(*sb) + 2 * (size_t) max_dev));
                return 0;
        }
        return -EOPNOTSUPP;
}

int md_super_write_reshape_position(const char *path, unsigned major, unsigned minor,
                                    uint64_t position_array_sectors)
{
        const char *reason = NULL;
        uint64_t offset_bytes, events;
        uint8_t uuid[16];
        void *buf = super_buffer();
        ssize_t n;
        int fd, r;

        if (!buf)
                return log_error_errno(ENOMEM, "Out of memory.");
        r = open_super(path, O_RDWR, major, minor, buf, &offset_bytes, &fd);
        if (r < 0)
                goto out;
        r = md_super_parse(buf, MD_SUPER_READ_BYTES, major, minor, offset_bytes, uuid, &events, &reason);
        if (r >= 0)
                r = md_super_set_reshape_position(buf, major, position_array_sectors);
        if (r >= 0)
                r = md_super_parse(buf, MD_SUPER_READ_BYTES, major, minor, offset_bytes, uuid, &events, &reason);
        if (r < 0) {
                log_error_errno(r, "Refusing to rewrite the %u.%u superblock of %s: %s.", major, minor, path,
                                reason ? reason : "it does not check out");
                goto close;
        }
        n = pwrite(fd, buf, MD_SUPER_READ_BYTES, (off_t) offset_bytes);
        if (n != MD_SUPER_READ_BYTES) {
                r = log_error_errno(n < 0 ? errno : EIO, "Failed to write the superblock of %s at byte %" PRIu64 ": %s",
                                    path, offset_bytes, n < 0 ? strerror(errno) : "short write");
                goto close;
        }
        if (fsync(fd) < 0)
                r = log_error_errno(errno, "Failed to flush the superblock of %s: %m", path);
close:
        close(fd);
out:
        free(buf);
        return r;
}

int md_read_uuid_and_events(struct md *md, uint8_t uuid[16], uint64_t *ret_events)
{
        struct md_metadata_version v;
        struct md_member *members;
        char buf[256];
        size_t n;
        bool tried = false;
        int r;

        r = md_read_attr(md, "metadata_version", buf, sizeof(buf));
        if (r < 0)
                return r;
        r = md_parse_metadata_version(buf, &v);
        if (r < 0)
                return log_error_errno(r, "Unexpected metadata_version of %s: \"%.*s\"",
                                       md_name(md), (int) strcspn(buf, "\n"), buf);
        if (v.kind != MD_METADATA_NATIVE)
                return log_error_errno(EOPNOTSUPP,
                                       "%s has %s metadata; only arrays with 0.90 or 1.x superblocks are supported.",
                                       md_name(md), v.kind == MD_METADATA_NONE ? "no" : "external");

        r = md_get_members(md, &members, &n);
        if (r < 0)
                return r;

        r = -ENODEV;
        for (size_t i = 0; i < n; i++) {
                if (!(members[i].state & MD_MEMBER_IN_SYNC) || (members[i].state & MD_MEMBER_FAULTY))
                        continue;
                tried = true;
                r = md_super_read_device(members[i].devnode, v.major, v.minor, uuid, ret_events);
                if (r >= 0)
                        break;
        }
        md_members_free(members, n);

        if (!tried)
                return log_error_errno(ENODEV, "%s has no in-sync member to read a superblock from.",
                                       md_name(md));
        if (r < 0)
                return log_error_errno(r, "No member of %s has a usable superblock.", md_name(md));
        return 0;
}
