// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm-pattern: fill a block device (or a range of it) with a seeded
 * pseudo-random pattern, and check it later.
 *
 *   vm-pattern fill   [--offset BYTES] [--length BYTES] [--jobs N] PATH SEED
 *   vm-pattern verify [--offset BYTES] [--length BYTES] [--jobs N] PATH SEED
 *
 * The 8 bytes at byte offset 8*i of the device hold splitmix64 of
 * (mixed seed + i * golden ratio), little-endian. A word depends only on
 * the seed and its own offset, so any block can be regenerated on its own
 * and a misplaced block (right data, wrong place) is caught.
 *
 * verify reads every byte of the range and prints either
 *   verify: PATH: ok bytes=N offset=N seed=S
 * or
 *   verify: PATH: MISMATCH first_bad_offset=N last_bad_offset=N bad_blocks_4k=N of N
 * where offsets are device byte offsets and a 4 KiB block counts as bad
 * when any byte in it differs. Exit status: 0 ok, 1 mismatch or I/O error,
 * 2 usage.
 *
 * Under TCG emulation the pattern arithmetic costs as much as the I/O, so
 * the range is split into --jobs contiguous slices (default: one per
 * online CPU), each done by its own thread with large O_DIRECT requests
 * (the page cache would otherwise hide what is on the device).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm-util.h"

#define BLOCK_BYTES 4096u
#define IO_BYTES (4u << 20)
#define MAX_JOBS 16u

enum mode {
        MODE_FILL,
        MODE_VERIFY,
};

struct options {
        enum mode mode;
        const char *path;
        uint64_t seed;
        uint64_t offset_bytes;
        uint64_t length_bytes;  /* 0: to the end of the device */
        unsigned jobs;
};

/* One thread's share of the range and what it found. */
struct slice {
        const struct options *opts;
        int fd;
        uint64_t lo_bytes;
        uint64_t hi_bytes;
        int error;              /* negative errno */
        uint64_t bad_blocks;
        uint64_t first_bad_bytes;
        uint64_t last_bad_bytes;
};

static uint64_t pattern_word(uint64_t mixed_seed, uint64_t word_index)
{
        return vm_splitmix64(mixed_seed + word_index * UINT64_C(0x9e3779b97f4a7c15));
}

/* Words are stored little-endian whatever the host, so images made on one
 * machine verify on another. */
static void generate(unsigned char *buf, size_t len, uint64_t mixed_seed, uint64_t offset_bytes)
{
        uint64_t index = offset_bytes / 8;

        for (size_t i = 0; i < len; i += 8)
                vm_store_le64(buf + i, pattern_word(mixed_seed, index++));
}

/* Compares one 4 KiB block; returns the offset in it of the first byte
 * that differs, or -1 when the block is intact. */
static long check_block(const unsigned char *buf, uint64_t mixed_seed, uint64_t offset_bytes)
{
        unsigned char want[8];
        uint64_t index = offset_bytes / 8;

        for (unsigned i = 0; i < BLOCK_BYTES; i += 8) {
                vm_store_le64(want, pattern_word(mixed_seed, index + i / 8));
                if (memcmp(buf + i, want, 8) == 0)
                        continue;
                for (unsigned b = 0; b < 8; b++)
                        if (buf[i + b] != want[b])
                                return (long) (i + b);
        }
        return -1;
}

static void check_buffer(struct slice *s, const unsigned char *buf, size_t len,
                         uint64_t mixed_seed, uint64_t offset_bytes)
{
        for (size_t i = 0; i < len; i += BLOCK_BYTES) {
                long bad = check_block(buf + i, mixed_seed, offset_bytes + i);

                if (bad < 0)
                        continue;
                if (s->bad_blocks == 0)
                        s->first_bad_bytes = offset_bytes + i + (uint64_t) bad;
                s->last_bad_bytes = offset_bytes + i + (uint64_t) bad;
                s->bad_blocks++;
        }
}

static void *slice_run(void *arg)
{
        struct slice *s = arg;
        uint64_t mixed_seed = vm_splitmix64(s->opts->seed);
        unsigned char *buf;
        int r;

        r = posix_memalign((void **) &buf, BLOCK_BYTES, IO_BYTES);
        if (r != 0) {
                s->error = -r;
                return NULL;
        }
        for (uint64_t off = s->lo_bytes; off < s->hi_bytes; off += IO_BYTES) {
                size_t len = s->hi_bytes - off < IO_BYTES ? (size_t) (s->hi_bytes - off) : IO_BYTES;

                if (s->opts->mode == MODE_FILL) {
                        generate(buf, len, mixed_seed, off);
                        r = vm_pwrite_full(s->fd, buf, len, off);
                } else {
                        r = vm_pread_full(s->fd, buf, len, off);
                        if (r == 0)
                                check_buffer(s, buf, len, mixed_seed, off);
                }
                if (r < 0) {
                        s->error = r;
                        fprintf(stderr, "vm-pattern: %s of %s at byte %" PRIu64 " failed: %s\n",
                                s->opts->mode == MODE_FILL ? "write" : "read",
                                s->opts->path, off, strerror(-r));
                        break;
                }
        }
        free(buf);
        return NULL;
}

static int device_size(int fd, const char *path, uint64_t *ret_bytes)
{
        struct stat st;

        if (fstat(fd, &st) < 0) {
                fprintf(stderr, "vm-pattern: cannot stat %s: %m\n", path);
                return -errno;
        }
        if (S_ISREG(st.st_mode)) {
                *ret_bytes = (uint64_t) st.st_size;
                return 0;
        }
        if (!S_ISBLK(st.st_mode)) {
                fprintf(stderr, "vm-pattern: %s is neither a block device nor a regular file\n", path);
                return -ENOTBLK;
        }
        if (ioctl(fd, BLKGETSIZE64, ret_bytes) < 0) {
                fprintf(stderr, "vm-pattern: BLKGETSIZE64 on %s failed: %m\n", path);
                return -errno;
        }
        return 0;
}

/* O_DIRECT so the device, not the page cache, is read; tmpfs files (handy
 * for trying the tool on a host) refuse it, so fall back to buffered I/O. */
static int open_target(const struct options *o)
{
        int flags = (o->mode == MODE_FILL ? O_WRONLY : O_RDONLY) | O_CLOEXEC;
        int fd = open(o->path, flags | O_DIRECT);

        if (fd < 0 && errno == EINVAL)
                fd = open(o->path, flags);
        if (fd < 0) {
                fprintf(stderr, "vm-pattern: cannot open %s: %m\n", o->path);
                return -errno;
        }
        return fd;
}

/* The requested range, checked against the device: whole 4 KiB blocks
 * inside it. */
static int resolve_range(struct options *o, uint64_t size_bytes)
{
        if (o->offset_bytes % BLOCK_BYTES || o->length_bytes % BLOCK_BYTES) {
                fprintf(stderr, "vm-pattern: --offset and --length must be multiples of %u\n",
                        BLOCK_BYTES);
                return -EINVAL;
        }
        if (o->offset_bytes > size_bytes) {
                fprintf(stderr, "vm-pattern: --offset %" PRIu64 " is beyond the end of %s (%" PRIu64
                        " bytes)\n", o->offset_bytes, o->path, size_bytes);
                return -EINVAL;
        }
        if (o->length_bytes == 0)
                o->length_bytes = (size_bytes - o->offset_bytes) / BLOCK_BYTES * BLOCK_BYTES;
        if (o->length_bytes > size_bytes - o->offset_bytes) {
                fprintf(stderr, "vm-pattern: range of %" PRIu64 " bytes at %" PRIu64
                        " runs past the end of %s (%" PRIu64 " bytes)\n",
                        o->length_bytes, o->offset_bytes, o->path, size_bytes);
                return -EINVAL;
        }
        if (o->length_bytes == 0) {
                fprintf(stderr, "vm-pattern: nothing to do: %s has no whole %u-byte block in range\n",
                        o->path, BLOCK_BYTES);
                return -EINVAL;
        }
        return 0;
}

/* Slices end on IO_BYTES boundaries so every request but the last of the
 * range is a full one. */
static unsigned make_slices(const struct options *o, int fd, struct slice *slices)
{
        uint64_t ios = (o->length_bytes + IO_BYTES - 1) / IO_BYTES;
        unsigned n = o->jobs < ios ? o->jobs : (unsigned) ios;
        uint64_t lo = o->offset_bytes;

        for (unsigned i = 0; i < n; i++) {
                uint64_t share = (ios / n + (i < ios % n)) * IO_BYTES;
                uint64_t end = o->offset_bytes + o->length_bytes;

                slices[i] = (struct slice) {
                        .opts = o,
                        .fd = fd,
                        .lo_bytes = lo,
                        .hi_bytes = lo + share < end ? lo + share : end,
                };
                lo = slices[i].hi_bytes;
        }
        return n;
}

static int run_slices(struct slice *slices, unsigned n)
{
        pthread_t threads[MAX_JOBS];
        unsigned started = 0;
        int r = 0;

        for (; started < n; started++) {
                int e = pthread_create(&threads[started], NULL, slice_run, &slices[started]);

                if (e != 0) {
                        fprintf(stderr, "vm-pattern: cannot start a thread: %s\n", strerror(e));
                        r = -e;
                        break;
                }
        }
        for (unsigned i = 0; i < started; i++)
                pthread_join(threads[i], NULL);
        for (unsigned i = 0; i < started; i++)
                if (slices[i].error < 0 && r == 0)
                        r = slices[i].error;
        return r;
}

static int report(const struct options *o, const struct slice *slices, unsigned n, double secs)
{
        uint64_t bad = 0, first = 0, last = 0;
        double mib_s = (double) o->length_bytes / (1 << 20) / (secs > 0 ? secs : 1e-9);

        if (o->mode == MODE_FILL) {
                printf("fill: %s: bytes=%" PRIu64 " offset=%" PRIu64 " seed=%" PRIu64
                       " (%.1f s, %.1f MiB/s)\n", o->path, o->length_bytes, o->offset_bytes,
                       o->seed, secs, mib_s);
                return 0;
        }
        for (unsigned i = 0; i < n; i++) {
                if (slices[i].bad_blocks == 0)
                        continue;
                if (bad == 0)
                        first = slices[i].first_bad_bytes;
                last = slices[i].last_bad_bytes;
                bad += slices[i].bad_blocks;
        }
        if (bad == 0) {
                printf("verify: %s: ok bytes=%" PRIu64 " offset=%" PRIu64 " seed=%" PRIu64
                       " (%.1f s, %.1f MiB/s)\n", o->path, o->length_bytes, o->offset_bytes,
                       o->seed, secs, mib_s);
                return 0;
        }
        printf("verify: %s: MISMATCH first_bad_offset=%" PRIu64 " last_bad_offset=%" PRIu64
               " bad_blocks_4k=%" PRIu64 " of %" PRIu64 " seed=%" PRIu64 "\n", o->path, first,
               last, bad, o->length_bytes / BLOCK_BYTES, o->seed);
        return 1;
}

static int execute(struct options *o)
{
        struct slice slices[MAX_JOBS];
        double start_s;
        uint64_t size_bytes;
        unsigned n;
        int fd, r;

        fd = open_target(o);
        if (fd < 0)
                return 1;
        r = device_size(fd, o->path, &size_bytes);
        if (r == 0)
                r = resolve_range(o, size_bytes);
        if (r < 0) {
                close(fd);
                return r == -EINVAL ? 2 : 1;
        }
        start_s = vm_now_s();
        n = make_slices(o, fd, slices);
        r = run_slices(slices, n);
        if (r == 0 && o->mode == MODE_FILL && fsync(fd) < 0) {
                fprintf(stderr, "vm-pattern: fsync of %s failed: %m\n", o->path);
                r = -errno;
        }
        if (close(fd) < 0 && r == 0) {
                fprintf(stderr, "vm-pattern: close of %s failed: %m\n", o->path);
                r = -errno;
        }
        if (r < 0)
                return 1;
        return report(o, slices, n, vm_now_s() - start_s);
}

static int parse_u64(const char *s, const char *what, uint64_t *ret)
{
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 0);
        if (errno != 0 || end == s || *end != '\0' || *s == '-') {
                fprintf(stderr, "vm-pattern: %s must be a non-negative integer, not '%s'\n", what, s);
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

static void usage(FILE *f)
{
        fprintf(f, "usage: vm-pattern fill|verify [--offset BYTES] [--length BYTES] [--jobs N] PATH SEED\n");
}

/* Returns 0 and fills @o, 1 after printing the help, or -EINVAL. */
static int parse_options(int argc, char **argv, struct options *o)
{
        static const struct option longopts[] = {
                { "offset", required_argument, NULL, 'o' },
                { "length", required_argument, NULL, 'l' },
                { "jobs", required_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        uint64_t jobs = cpus > 0 ? (uint64_t) cpus : 1;
        int c;

        *o = (struct options) {};
        while ((c = getopt_long(argc, argv, "o:l:j:h", longopts, NULL)) >= 0) {
                int r = 0;

                switch (c) {
                case 'o':
                        r = parse_u64(optarg, "--offset", &o->offset_bytes);
                        break;
                case 'l':
                        r = parse_u64(optarg, "--length", &o->length_bytes);
                        break;
                case 'j':
                        r = parse_u64(optarg, "--jobs", &jobs);
                        break;
                case 'h':
                        usage(stdout);
                        return 1;
                default:
                        usage(stderr);
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }
        if (argc - optind != 3) {
                usage(stderr);
                return -EINVAL;
        }
        if (strcmp(argv[optind], "fill") == 0)
                o->mode = MODE_FILL;
        else if (strcmp(argv[optind], "verify") == 0)
                o->mode = MODE_VERIFY;
        else {
                fprintf(stderr, "vm-pattern: unknown command '%s' (fill or verify)\n", argv[optind]);
                return -EINVAL;
        }
        if (jobs < 1 || jobs > MAX_JOBS) {
                fprintf(stderr, "vm-pattern: --jobs must be between 1 and %u\n", MAX_JOBS);
                return -EINVAL;
        }
        o->jobs = (unsigned) jobs;
        o->path = argv[optind + 1];
        return parse_u64(argv[optind + 2], "SEED", &o->seed);
}

int main(int argc, char **argv)
{
        struct options o;
        int r;

        r = parse_options(argc, argv, &o);
        if (r != 0)
                return r > 0 ? 0 : 2;
        return execute(&o);
}
