// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm-logwrites-replay [--until last-flush|end|mark:NAME] [--zero] [--dry-run]
 *                     [--allow-open] LOG TARGET
 *
 * Rebuilds a device from the log that dm-log-writes kept of it (format:
 * Documentation/admin-guide/device-mapper/log-writes.rst; this tool was
 * written from that description and the kernel's dm-log-writes.c). The log
 * device holds a super block in its first sector, then entries one after
 * another: a header sector (sector, nr_sectors, flags, data_len, all
 * little-endian u64; a mark's name follows the header in the same sector),
 * then nr_sectors sectors of data, except for discards and marks, which
 * carry none. All sector numbers count the data device's logical block
 * size, which the super records.
 *
 * The kernel logs a plain write only once a later flush that was issued
 * after the write had completed has itself completed, and then just
 * before that flush; a FUA write as soon as it completes. So the log is
 * in the order writes became durable, and every entry up to the last
 * FLUSH or FUA is what a disk with a volatile cache that lost it at that
 * moment holds. What comes after (the target's destructor appends the
 * writes that had completed but were never flushed, then the mark
 * "dm-log-writes-end") is what the cache lost.
 *
 * --until last-flush (the default) applies the entries up to and
 * including the last FLUSH/FUA entry, --until end all of them,
 * --until mark:NAME those before the first mark NAME. --zero first zeroes
 * all of TARGET, the state the data device had when the log began; without
 * it the entries are applied over what TARGET holds. Discards are counted
 * and not applied: the data device under the test (a qemu disk with
 * discard=ignore) keeps its data, and a replay must reproduce it.
 *
 * A log the destructor did not close (no end mark as its last entry: a
 * kernel that died with log writes in flight, a full log device) is
 * refused without --allow-open: its super's entry count is only updated
 * at FUA writes and marks, and entries in flight may be missing or torn.
 *
 * Prints one summary line; exits 0, or 2 on an error (nothing is written
 * to TARGET before the whole log has been read and checked).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm-util.h"

#define LOG_MAGIC 0x6a736677736872ULL
#define LOG_VERSION 1
#define FLAG_FLUSH (1u << 0)
#define FLAG_FUA (1u << 1)
#define FLAG_DISCARD (1u << 2)
#define FLAG_MARK (1u << 3)
#define FLAG_METADATA (1u << 4)
#define FLAGS_KNOWN (FLAG_FLUSH | FLAG_FUA | FLAG_DISCARD | FLAG_MARK | FLAG_METADATA)
#define ENTRY_HEADER_BYTES 32
#define END_MARK "dm-log-writes-end"
#define COPY_BYTES ((size_t) 1 << 20)

enum until { UNTIL_LAST_FLUSH, UNTIL_END, UNTIL_MARK };

struct entry {
        uint64_t sector;     /* data device blocks */
        uint64_t nr_sectors; /* data device blocks */
        uint64_t flags;
        uint64_t log_offset; /* bytes: where the entry's data starts in the log */
        char mark[64];
};

struct counts {
        uint64_t writes, write_bytes, flushes, fua, discards, marks;
};

static int pread_full(int fd, const char *path, void *buf, size_t n, uint64_t off)
{
        size_t done = 0;

        while (done < n) {
                ssize_t k = pread(fd, (char *) buf + done, n - done, (off_t) (off + done));

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        fprintf(stderr, "vm-logwrites-replay: read %s at %" PRIu64 ": %s\n", path,
                                off + done, strerror(errno));
                        return -1;
                }
                if (k == 0) {
                        fprintf(stderr, "vm-logwrites-replay: %s ends at %" PRIu64
                                " bytes, inside an entry the super counts\n", path, off + done);
                        return -1;
                }
                done += (size_t) k;
        }
        return 0;
}

static int pwrite_full(int fd, const char *path, const void *buf, size_t n, uint64_t off)
{
        size_t done = 0;

        while (done < n) {
                ssize_t k = pwrite(fd, (const char *) buf + done, n - done, (off_t) (off + done));

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        fprintf(stderr, "vm-logwrites-replay: write %s at %" PRIu64 ": %s\n", path,
                                off + done, k < 0 ? strerror(errno) : "short write");
                        return -1;
                }
                done += (size_t) k;
        }
        return 0;
}

static int size_of(int fd, const char *path, uint64_t *ret)
{
        struct stat st;

        if (fstat(fd, &st) < 0) {
                fprintf(stderr, "vm-logwrites-replay: stat %s: %s\n", path, strerror(errno));
                return -1;
        }
        if (S_ISREG(st.st_mode)) {
                *ret = (uint64_t) st.st_size;
                return 0;
        }
        if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, ret) == 0)
                return 0;
        fprintf(stderr, "vm-logwrites-replay: %s: neither a regular file nor a block device whose size is known\n",
                path);
        return -1;
}

/* Reads every entry the super counts; checks each against the log's and
 * the target's size. */
static int read_log(int fd, const char *path, uint64_t target_bytes, struct entry **ret,
                    uint64_t *ret_n, uint32_t *ret_bs)
{
        unsigned char sb[512], *hdr = NULL;
        struct entry *e = NULL;
        uint64_t magic, version, n, log_bytes, pos;
        uint32_t bs;
        int r = -1;

        if (size_of(fd, path, &log_bytes) < 0 || pread_full(fd, path, sb, sizeof(sb), 0) < 0)
                return -1;
        magic = vm_le64(sb);
        version = vm_le64(sb + 8);
        n = vm_le64(sb + 16);
        bs = vm_le32(sb + 24);
        if (magic != LOG_MAGIC) {
                fprintf(stderr, "vm-logwrites-replay: %s holds no dm-log-writes super (magic %#" PRIx64
                        "); the target never logged a FUA write or a mark\n", path, magic);
                return -1;
        }
        if (version != LOG_VERSION || bs < 512 || bs > 65536 || (bs & (bs - 1))) {
                fprintf(stderr, "vm-logwrites-replay: %s: version %" PRIu64 ", sector size %" PRIu32
                        ": not a log this tool reads (version 1, a power of two from 512)\n", path, version, bs);
                return -1;
        }
        if (n > log_bytes / bs) {
                fprintf(stderr, "vm-logwrites-replay: %s: %" PRIu64 " entries cannot fit in %" PRIu64 " bytes\n",
                        path, n, log_bytes);
                return -1;
        }
        e = calloc(n ? n : 1, sizeof(*e));
        hdr = malloc(bs);
        if (!e || !hdr) {
                fprintf(stderr, "vm-logwrites-replay: out of memory for %" PRIu64 " entries\n", n);
                goto out;
        }
        pos = bs;
        for (uint64_t i = 0; i < n; i++) {
                uint64_t data_len;

                if (pos + bs > log_bytes || pread_full(fd, path, hdr, bs, pos) < 0) {
                        fprintf(stderr, "vm-logwrites-replay: %s: entry %" PRIu64 " of %" PRIu64
                                " lies beyond the log's end\n", path, i, n);
                        goto out;
                }
                e[i].sector = vm_le64(hdr);
                e[i].nr_sectors = vm_le64(hdr + 8);
                e[i].flags = vm_le64(hdr + 16);
                data_len = vm_le64(hdr + 24);
                pos += bs;
                if (e[i].flags & ~(uint64_t) FLAGS_KNOWN) {
                        fprintf(stderr, "vm-logwrites-replay: %s: entry %" PRIu64 " at byte %" PRIu64
                                " has unknown flags %#" PRIx64 "\n", path, i, pos - bs, e[i].flags);
                        goto out;
                }
                if (e[i].flags & FLAG_MARK) {
                        if (data_len >= sizeof(e[i].mark) || data_len > bs - ENTRY_HEADER_BYTES) {
                                fprintf(stderr, "vm-logwrites-replay: %s: mark %" PRIu64 " is %" PRIu64
                                        " bytes long\n", path, i, data_len);
                                goto out;
                        }
                        memcpy(e[i].mark, hdr + ENTRY_HEADER_BYTES, data_len);
                        continue;
                }
                if (data_len) {
                        /* Inline data without a mark: no 6.1 kernel writes it. */
                        fprintf(stderr, "vm-logwrites-replay: %s: entry %" PRIu64 " carries %" PRIu64
                                " bytes of inline data, which this tool does not know\n", path, i, data_len);
                        goto out;
                }
                if (e[i].nr_sectors > target_bytes / bs || e[i].sector > target_bytes / bs - e[i].nr_sectors) {
                        fprintf(stderr, "vm-logwrites-replay: %s: entry %" PRIu64 " (blocks %" PRIu64 "+%" PRIu64
                                ") lies beyond the target's %" PRIu64 " bytes\n", path, i, e[i].sector,
                                e[i].nr_sectors, target_bytes);
                        goto out;
                }
                if (e[i].flags & FLAG_DISCARD)
                        continue;
                e[i].log_offset = pos;
                if (e[i].nr_sectors > (log_bytes - pos) / bs) {
                        fprintf(stderr, "vm-logwrites-replay: %s: the data of entry %" PRIu64
                                " runs beyond the log's end\n", path, i);
                        goto out;
                }
                pos += e[i].nr_sectors * bs;
        }
        *ret = e;
        *ret_n = n;
        *ret_bs = bs;
        e = NULL;
        r = 0;
out:
        free(hdr);
        free(e);
        return r;
}

/* The number of entries to apply, or -1 when the log has no such point. */
static int64_t cut_of(const struct entry *e, uint64_t n, enum until until, const char *mark)
{
        int64_t cut = 0;

        switch (until) {
        case UNTIL_END:
                return (int64_t) n;
        case UNTIL_LAST_FLUSH:
                for (uint64_t i = 0; i < n; i++)
                        if (e[i].flags & (FLAG_FLUSH | FLAG_FUA))
                                cut = (int64_t) i + 1;
                return cut;
        case UNTIL_MARK:
                for (uint64_t i = 0; i < n; i++)
                        if ((e[i].flags & FLAG_MARK) && strcmp(e[i].mark, mark) == 0)
                                return (int64_t) i;
                return -1;
        }
        return -1;
}

static void count(struct counts *c, const struct entry *e, uint32_t bs)
{
        if (e->flags & FLAG_MARK)
                c->marks++;
        else if (e->flags & FLAG_DISCARD)
                c->discards++;
        else if (e->nr_sectors) {
                c->writes++;
                c->write_bytes += e->nr_sectors * bs;
        }
        if (e->flags & FLAG_FLUSH)
                c->flushes++;
        if (e->flags & FLAG_FUA)
                c->fua++;
}

static int zero_target(int fd, const char *path, uint64_t bytes)
{
        struct stat st;
        uint64_t range[2] = { 0, bytes };

        if (fstat(fd, &st) < 0) {
                fprintf(stderr, "vm-logwrites-replay: stat %s: %s\n", path, strerror(errno));
                return -1;
        }
        if (S_ISREG(st.st_mode)) {
                if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t) bytes) < 0) {
                        fprintf(stderr, "vm-logwrites-replay: truncate %s: %s\n", path, strerror(errno));
                        return -1;
                }
                return 0;
        }
        if (ioctl(fd, BLKZEROOUT, range) < 0) {
                fprintf(stderr, "vm-logwrites-replay: BLKZEROOUT %s: %s\n", path, strerror(errno));
                return -1;
        }
        return 0;
}

static int apply(int log_fd, const char *log_path, int fd, const char *path, const struct entry *e,
                 uint64_t n, uint32_t bs)
{
        char *buf = malloc(COPY_BYTES);
        int r = 0;

        if (!buf) {
                fprintf(stderr, "vm-logwrites-replay: out of memory\n");
                return -1;
        }
        for (uint64_t i = 0; i < n && r == 0; i++) {
                uint64_t left = e[i].nr_sectors * bs, src = e[i].log_offset, dst = e[i].sector * bs;

                if (e[i].flags & (FLAG_MARK | FLAG_DISCARD))
                        continue;
                while (left && r == 0) {
                        size_t k = left < COPY_BYTES ? (size_t) left : COPY_BYTES;

                        r = pread_full(log_fd, log_path, buf, k, src);
                        if (r == 0)
                                r = pwrite_full(fd, path, buf, k, dst);
                        left -= k;
                        src += k;
                        dst += k;
                }
        }
        free(buf);
        if (r == 0 && fsync(fd) < 0) {
                fprintf(stderr, "vm-logwrites-replay: fsync %s: %s\n", path, strerror(errno));
                r = -1;
        }
        return r;
}

static int usage(void)
{
        fprintf(stderr, "usage: vm-logwrites-replay [--until last-flush|end|mark:NAME] [--zero] [--dry-run] "
                "[--allow-open] LOG TARGET\n");
        return 2;
}

int main(int argc, char **argv)
{
        enum until until = UNTIL_LAST_FLUSH;
        const char *mark = NULL, *until_arg = "last-flush", *log_path, *path;
        bool zero = false, dry_run = false, allow_open = false, closed;
        struct counts applied = { 0 }, dropped = { 0 };
        struct entry *e = NULL;
        uint64_t n = 0, target_bytes;
        uint32_t bs = 0;
        int64_t cut;
        int i, log_fd = -1, fd = -1, r = 2;

        for (i = 1; i < argc && argv[i][0] == '-'; i++) {
                if (strcmp(argv[i], "--zero") == 0)
                        zero = true;
                else if (strcmp(argv[i], "--dry-run") == 0)
                        dry_run = true;
                else if (strcmp(argv[i], "--allow-open") == 0)
                        allow_open = true;
                else if (strcmp(argv[i], "--until") == 0 && i + 1 < argc) {
                        until_arg = argv[++i];
                        if (strcmp(until_arg, "last-flush") == 0)
                                until = UNTIL_LAST_FLUSH;
                        else if (strcmp(until_arg, "end") == 0)
                                until = UNTIL_END;
                        else if (strncmp(until_arg, "mark:", 5) == 0 && until_arg[5]) {
                                until = UNTIL_MARK;
                                mark = until_arg + 5;
                        } else
                                return usage();
                } else
                        return usage();
        }
        if (argc - i != 2)
                return usage();
        log_path = argv[i];
        path = argv[i + 1];

        log_fd = open(log_path, O_RDONLY | O_CLOEXEC);
        if (log_fd < 0) {
                fprintf(stderr, "vm-logwrites-replay: open %s: %s\n", log_path, strerror(errno));
                goto out;
        }
        fd = open(path, (dry_run ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "vm-logwrites-replay: open %s: %s\n", path, strerror(errno));
                goto out;
        }
        if (size_of(fd, path, &target_bytes) < 0 || read_log(log_fd, log_path, target_bytes, &e, &n, &bs) < 0)
                goto out;
        closed = n > 0 && (e[n - 1].flags & FLAG_MARK) && strcmp(e[n - 1].mark, END_MARK) == 0;
        if (!closed && !allow_open) {
                fprintf(stderr, "vm-logwrites-replay: %s: the last of its %" PRIu64 " entries is not the mark "
                        END_MARK ": the log was not closed (dmsetup remove, or a table reload) and may "
                        "miss entries; --allow-open replays it anyway\n", log_path, n);
                goto out;
        }
        cut = cut_of(e, n, until, mark);
        if (cut < 0) {
                fprintf(stderr, "vm-logwrites-replay: %s: no mark '%s' among its %" PRIu64 " entries\n",
                        log_path, mark, n);
                goto out;
        }
        for (uint64_t k = 0; k < n; k++)
                count(k < (uint64_t) cut ? &applied : &dropped, &e[k], bs);
        if (!dry_run) {
                if (zero && zero_target(fd, path, target_bytes) < 0)
                        goto out;
                if (apply(log_fd, log_path, fd, path, e, (uint64_t) cut, bs) < 0)
                        goto out;
        }
        printf("vm-logwrites-replay: %s -> %s%s: until=%s entries=%" PRIu64 " applied=%" PRId64
               " (writes=%" PRIu64 " bytes=%" PRIu64 " flushes=%" PRIu64 " fua=%" PRIu64 " discards=%" PRIu64
               " marks=%" PRIu64 ") dropped=%" PRIu64 " (writes=%" PRIu64 " bytes=%" PRIu64 " discards=%" PRIu64
               ") closed=%s\n",
               log_path, path, dry_run ? " (dry run)" : zero ? " (zeroed first)" : "", until_arg, n, cut,
               applied.writes, applied.write_bytes, applied.flushes, applied.fua, applied.discards,
               applied.marks, n - (uint64_t) cut, dropped.writes, dropped.write_bytes, dropped.discards,
               closed ? "yes" : "no");
        r = 0;
out:
        free(e);
        if (fd >= 0)
                close(fd);
        if (log_fd >= 0)
                close(log_fd);
        return r;
}
