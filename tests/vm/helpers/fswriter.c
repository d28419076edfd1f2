// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm-fswriter: an application that keeps writing to a mounted filesystem,
 * remembers what it made durable, and checks it later.
 *
 *   vm-fswriter run DIR --seed S --manifest FILE [--seconds N | --until-file F]
 *                   [--stall-ms MS] [--max-bytes B]
 *   vm-fswriter verify DIR --manifest FILE [--stall-ms MS]
 *
 * run creates files of 4 KiB .. 3 MiB (most of them small, so that the
 * filesystem keeps dirtying metadata: inodes, bitmaps, directory and
 * extent blocks) in 16 directories under DIR, overwrites 4 KiB-aligned
 * ranges of existing files, reads ranges back (dropping them from the page
 * cache first, so the read reaches the device) and deletes files once
 * more than --max-bytes are live. Every byte's content is a function of
 * (seed, file id, version, byte offset), so any range can be regenerated.
 *
 * Every operation is journalled in the manifest, which should live on the
 * same filesystem: first an intent line "I SEQ OP ARGS", fsynced; then the
 * operation, the file and its directory fsynced; then "C SEQ", fsynced.
 * After a power cut at most one operation is pending (intent without
 * commit); verify accepts either outcome for it (each 512-byte sector of a
 * pending overwrite old or new, a pending create absent or anything, a
 * pending delete absent or intact), and the next run first redoes it. A
 * run appends to an existing manifest (it continues the file ids and
 * versions), so a writer can run again after a cut.
 *
 * The hang watchdog: a second thread looks every 50 ms at the operation in
 * flight; when one has taken longer than --stall-ms (default 10000) it
 * prints
 *   vm-fswriter: STALL: fsync of d03/f000123 blocked for 10.1 s (limit 10.0 s)
 * and the kernel stack of the stuck thread, and exits with status 3 (the
 * stuck thread may keep the process from being reaped until its I/O ends).
 *
 * run ends with a line
 *   vm-fswriter: run: seconds=S ops=N ops_per_s=X written_bytes=N MiB_per_s=X ...
 * (written_bytes counts file data, not the manifest); verify with
 *   vm-fswriter: verify: ok files=N bytes=N pending=N
 * or one MISMATCH line per bad file and exit status 1.
 *
 * Exit status: 0 ok, 1 I/O error or mismatch, 2 usage, 3 stall.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vm-util.h"

#define SECTOR 512u
#define BLOCK 4096u
#define NDIRS 16u
#define MAX_FILE_BYTES (3u << 20)
#define LINE_MAX_BYTES 256u

enum op_kind { OP_CREATE, OP_WRITE, OP_DELETE, OP_READ, OP_KINDS };

static const char *const op_names[OP_KINDS] = { "create", "write", "delete", "read" };

struct file {
        bool live;
        uint64_t size;
        uint32_t *block_version;        /* per 4 KiB block */
        uint32_t version;               /* highest version written */
};

struct pending {
        bool active;
        uint64_t seq;
        enum op_kind kind;
        uint32_t id;
        uint64_t offset;
        uint64_t length;                /* create: the size */
        uint32_t version;
};

struct state {
        const char *dir;
        const char *manifest_path;
        int manifest_fd;
        uint64_t seed;
        struct file *files;
        uint32_t nfiles;                /* ids 0 .. nfiles-1 used */
        uint32_t cap;
        uint64_t next_seq;
        unsigned runs;
        struct pending pending;
        uint64_t live_bytes;
        unsigned char *buf;             /* MAX_FILE_BYTES */
        unsigned char *buf2;
};

/* --- the watchdog ---------------------------------------------------- */

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
        bool active;
        double start;
        const char *what;
        char path[96];
} watch;
static pid_t worker_tid;
static double stall_limit_s = 10.0;
static double max_latency_s;
static char max_latency_what[128];

static void op_begin(const char *what, const char *path)
{
        pthread_mutex_lock(&watch_lock);
        watch.active = true;
        watch.start = vm_now_s();
        watch.what = what;
        /* A long path is cut short: the name is only for the STALL line. */
        snprintf(watch.path, sizeof(watch.path), "%.*s", (int) sizeof(watch.path) - 1, path);
        pthread_mutex_unlock(&watch_lock);
}

static void op_end(void)
{
        double took;

        pthread_mutex_lock(&watch_lock);
        took = vm_now_s() - watch.start;
        watch.active = false;
        if (took > max_latency_s) {
                max_latency_s = took;
                snprintf(max_latency_what, sizeof(max_latency_what), "%s of %s", watch.what, watch.path);
        }
        pthread_mutex_unlock(&watch_lock);
}

static void print_stack(pid_t tid)
{
        char path[64], line[256];
        FILE *f;

        snprintf(path, sizeof(path), "/proc/self/task/%d/stack", (int) tid);
        f = fopen(path, "r");
        if (!f) {
                dprintf(STDERR_FILENO, "vm-fswriter: cannot read %s: %s\n", path, strerror(errno));
                return;
        }
        while (fgets(line, sizeof(line), f))
                dprintf(STDERR_FILENO, "vm-fswriter:   %s", line);
        fclose(f);
}

static void *watchdog(void *arg)
{
        const struct timespec tick = { .tv_nsec = 50 * 1000 * 1000 };

        (void) arg;
        for (;;) {
                bool stuck;
                double took = 0;
                char what[160];

                nanosleep(&tick, NULL);
                pthread_mutex_lock(&watch_lock);
                stuck = watch.active && (took = vm_now_s() - watch.start) > stall_limit_s;
                if (stuck)
                        snprintf(what, sizeof(what), "%s of %s", watch.what, watch.path);
                pthread_mutex_unlock(&watch_lock);
                if (!stuck)
                        continue;
                /* dprintf: the stuck thread may hold stdio's locks. */
                dprintf(STDOUT_FILENO, "vm-fswriter: STALL: %s blocked for %.1f s (limit %.1f s)\n",
                        what, took, stall_limit_s);
                dprintf(STDERR_FILENO, "vm-fswriter: STALL: %s blocked for %.1f s (limit %.1f s); its kernel stack:\n",
                        what, took, stall_limit_s);
                print_stack(worker_tid);
                _exit(3);
        }
        return NULL;
}

/* --- content ---------------------------------------------------------- */

static uint64_t content_key(uint64_t seed, uint32_t id, uint32_t version)
{
        return vm_splitmix64(vm_splitmix64(seed) ^ vm_splitmix64(((uint64_t) id << 32) | version));
}

/* Fills buf with the content of bytes [offset, offset+len) of file id at
 * version; offset and len multiples of 8. Little-endian words. */
static void generate(unsigned char *buf, uint64_t len, uint64_t seed, uint32_t id, uint32_t version,
                     uint64_t offset)
{
        uint64_t key = content_key(seed, id, version);

        for (uint64_t i = 0; i < len; i += 8)
                vm_store_le64(buf + i,
                              vm_splitmix64(key + ((offset + i) / 8) * UINT64_C(0x9e3779b97f4a7c15)));
}

/* --- small I/O wrappers, each under the watchdog ---------------------- */

static int timed_pwrite(int fd, const unsigned char *buf, size_t len, uint64_t off, const char *path)
{
        int r;

        op_begin("write", path);
        r = vm_pwrite_full(fd, buf, len, off);
        op_end();
        return r;
}

static int timed_pread(int fd, unsigned char *buf, size_t len, uint64_t off, const char *path)
{
        int r;

        op_begin("read", path);
        r = vm_pread_full(fd, buf, len, off);
        op_end();
        return r;
}

static int timed_fsync(int fd, const char *path)
{
        int r;

        op_begin("fsync", path);
        r = fsync(fd) < 0 ? -errno : 0;
        op_end();
        return r;
}

static int fsync_path(const char *path)
{
        int fd, r;

        op_begin("open", path);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        op_end();
        if (fd < 0)
                return -errno;
        r = timed_fsync(fd, path);
        close(fd);
        return r;
}

static void file_path(const struct state *s, uint32_t id, char *out, size_t outlen)
{
        snprintf(out, outlen, "%s/d%02u/f%06u", s->dir, id % NDIRS, id);
}

static void dir_path(const struct state *s, uint32_t id, char *out, size_t outlen)
{
        snprintf(out, outlen, "%s/d%02u", s->dir, id % NDIRS);
}

/* --- the manifest ----------------------------------------------------- */

static int grow_files(struct state *s, uint32_t id)
{
        if (id < s->cap)
                return 0;
        uint32_t cap = s->cap ? s->cap : 1024;

        while (cap <= id)
                cap *= 2;
        struct file *f = realloc(s->files, cap * sizeof(*f));

        if (!f)
                return -ENOMEM;
        memset(f + s->cap, 0, (cap - s->cap) * sizeof(*f));
        s->files = f;
        s->cap = cap;
        return 0;
}

static uint64_t blocks_of(uint64_t bytes)
{
        return (bytes + BLOCK - 1) / BLOCK;
}

/* Applies a committed operation to the in-memory picture. */
static int apply(struct state *s, const struct pending *p)
{
        struct file *f;
        int r = grow_files(s, p->id);

        if (r < 0)
                return r;
        if (p->id >= s->nfiles)
                s->nfiles = p->id + 1;
        f = &s->files[p->id];
        if (p->version > f->version)
                f->version = p->version;
        switch (p->kind) {
        case OP_CREATE:
                if (f->live)
                        s->live_bytes -= f->size;
                free(f->block_version);
                f->block_version = malloc(blocks_of(p->length) * sizeof(uint32_t) + 1);
                if (!f->block_version)
                        return -ENOMEM;
                for (uint64_t b = 0; b < blocks_of(p->length); b++)
                        f->block_version[b] = p->version;
                f->size = p->length;
                f->live = true;
                s->live_bytes += f->size;
                return 0;
        case OP_WRITE:
                if (!f->live || p->offset + p->length > f->size)
                        return -EINVAL;
                for (uint64_t b = p->offset / BLOCK; b < blocks_of(p->offset + p->length); b++)
                        f->block_version[b] = p->version;
                return 0;
        case OP_DELETE:
                if (f->live)
                        s->live_bytes -= f->size;
                f->live = false;
                free(f->block_version);
                f->block_version = NULL;
                return 0;
        default:
                return -EINVAL;
        }
}

/* Reads the manifest. A torn last line (no newline: the cut came while it
 * was being appended, before its fsync) is dropped, and the file cut back
 * to the last whole line when truncate is set. */
static int load_manifest(struct state *s, bool truncate_torn)
{
        FILE *f = fopen(s->manifest_path, "r");
        char line[LINE_MAX_BYTES];
        off_t good = 0;
        unsigned lineno = 0;

        if (!f)
                return errno == ENOENT ? 0 : -errno;
        while (fgets(line, sizeof(line), f)) {
                size_t n = strlen(line);
                struct pending p = { 0 };
                char kind[16];
                uint64_t seq, a, b, c;
                unsigned v;

                lineno++;
                if (n == 0 || line[n - 1] != '\n') {
                        fprintf(stderr, "vm-fswriter: %s: dropping a torn last line %u\n",
                                s->manifest_path, lineno);
                        break;
                }
                if (sscanf(line, "S %" SCNu64, &a) == 1) {
                        s->seed = a;
                } else if (sscanf(line, "R %u", &v) == 1) {
                        s->runs = v;
                } else if (sscanf(line, "C %" SCNu64, &seq) == 1) {
                        if (!s->pending.active || s->pending.seq != seq) {
                                fprintf(stderr, "vm-fswriter: %s:%u: commit of %" PRIu64 " with no intent\n",
                                        s->manifest_path, lineno, seq);
                                fclose(f);
                                return -EINVAL;
                        }
                        int r = apply(s, &s->pending);

                        if (r < 0) {
                                fprintf(stderr, "vm-fswriter: %s:%u: cannot apply commit %" PRIu64 "\n",
                                        s->manifest_path, lineno, seq);
                                fclose(f);
                                return r;
                        }
                        s->pending.active = false;
                } else if (sscanf(line, "I %" SCNu64 " %15s", &seq, kind) == 2) {
                        p.seq = seq;
                        p.active = true;
                        if (strcmp(kind, "create") == 0 &&
                            sscanf(line, "I %*u create %" SCNu64 " %" SCNu64 " %u", &a, &b, &v) == 3) {
                                p.kind = OP_CREATE;
                                p.id = (uint32_t) a;
                                p.length = b;
                                p.version = v;
                        } else if (strcmp(kind, "write") == 0 &&
                                   sscanf(line, "I %*u write %" SCNu64 " %" SCNu64 " %" SCNu64 " %u",
                                          &a, &b, &c, &v) == 4) {
                                p.kind = OP_WRITE;
                                p.id = (uint32_t) a;
                                p.offset = b;
                                p.length = c;
                                p.version = v;
                        } else if (strcmp(kind, "delete") == 0 &&
                                   sscanf(line, "I %*u delete %" SCNu64, &a) == 1) {
                                p.kind = OP_DELETE;
                                p.id = (uint32_t) a;
                        } else {
                                fprintf(stderr, "vm-fswriter: %s:%u: bad intent: %s", s->manifest_path,
                                        lineno, line);
                                fclose(f);
                                return -EINVAL;
                        }
                        if (s->pending.active) {
                                fprintf(stderr, "vm-fswriter: %s:%u: intent %" PRIu64 " while %" PRIu64
                                        " is pending\n", s->manifest_path, lineno, seq, s->pending.seq);
                                fclose(f);
                                return -EINVAL;
                        }
                        s->pending = p;
                        if (p.id >= s->nfiles) {
                                int r = grow_files(s, p.id);

                                if (r < 0) {
                                        fclose(f);
                                        return r;
                                }
                                s->nfiles = p.id + 1;
                        }
                        if (p.kind != OP_DELETE && p.version > s->files[p.id].version)
                                s->files[p.id].version = p.version;
                        if (seq >= s->next_seq)
                                s->next_seq = seq + 1;
                } else {
                        fprintf(stderr, "vm-fswriter: %s:%u: cannot parse: %s", s->manifest_path, lineno, line);
                        fclose(f);
                        return -EINVAL;
                }
                good += (off_t) n;
        }
        fclose(f);
        if (truncate_torn && truncate(s->manifest_path, good) < 0)
                return -errno;
        return 0;
}

static int manifest_append(struct state *s, const char *fmt, ...)
{
        char line[LINE_MAX_BYTES];
        va_list ap;
        int n, r;

        va_start(ap, fmt);
        n = vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        r = timed_pwrite(s->manifest_fd, (const unsigned char *) line, (size_t) n,
                         (uint64_t) lseek(s->manifest_fd, 0, SEEK_END), s->manifest_path);
        if (r < 0)
                return r;
        op_begin("fdatasync", s->manifest_path);
        r = fdatasync(s->manifest_fd) < 0 ? -errno : 0;
        op_end();
        return r;
}

/* --- operations --------------------------------------------------------- */

struct stats {
        uint64_t ops[OP_KINDS];
        uint64_t written_bytes;
        uint64_t read_bytes;
};

static int fail_op(const char *what, const char *path, int r)
{
        fprintf(stderr, "vm-fswriter: %s %s: %s\n", what, path, strerror(-r));
        return r;
}

/* Carries out p (create, write or delete) and makes it durable. */
static int do_op(struct state *s, const struct pending *p, struct stats *st)
{
        char path[512], dpath[512];
        int fd, r;

        file_path(s, p->id, path, sizeof(path));
        dir_path(s, p->id, dpath, sizeof(dpath));
        switch (p->kind) {
        case OP_CREATE:
                op_begin("create", path);
                fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                op_end();
                if (fd < 0)
                        return fail_op("create", path, -errno);
                generate(s->buf, (p->length + 7) & ~UINT64_C(7), s->seed, p->id, p->version, 0);
                r = timed_pwrite(fd, s->buf, p->length, 0, path);
                if (r == 0)
                        r = timed_fsync(fd, path);
                close(fd);
                if (r < 0)
                        return fail_op("write", path, r);
                r = fsync_path(dpath);
                if (r < 0)
                        return fail_op("fsync", dpath, r);
                st->written_bytes += p->length;
                return 0;
        case OP_WRITE:
                op_begin("open", path);
                fd = open(path, O_WRONLY | O_CLOEXEC);
                op_end();
                if (fd < 0)
                        return fail_op("open", path, -errno);
                generate(s->buf, p->length, s->seed, p->id, p->version, p->offset);
                r = timed_pwrite(fd, s->buf, p->length, p->offset, path);
                if (r == 0)
                        r = timed_fsync(fd, path);
                close(fd);
                if (r < 0)
                        return fail_op("overwrite", path, r);
                st->written_bytes += p->length;
                return 0;
        case OP_DELETE:
                op_begin("unlink", path);
                r = unlink(path) < 0 && errno != ENOENT ? -errno : 0;
                op_end();
                if (r < 0)
                        return fail_op("unlink", path, r);
                r = fsync_path(dpath);
                if (r < 0)
                        return fail_op("fsync", dpath, r);
                return 0;
        default:
                return -EINVAL;
        }
}

static int journalled(struct state *s, struct pending *p, struct stats *st)
{
        int r;

        p->seq = s->next_seq++;
        switch (p->kind) {
        case OP_CREATE:
                r = manifest_append(s, "I %" PRIu64 " create %u %" PRIu64 " %u\n", p->seq, p->id,
                                    p->length, p->version);
                break;
        case OP_WRITE:
                r = manifest_append(s, "I %" PRIu64 " write %u %" PRIu64 " %" PRIu64 " %u\n", p->seq,
                                    p->id, p->offset, p->length, p->version);
                break;
        default:
                r = manifest_append(s, "I %" PRIu64 " delete %u\n", p->seq, p->id);
                break;
        }
        if (r < 0)
                return fail_op("append to", s->manifest_path, r);
        r = do_op(s, p, st);
        if (r < 0)
                return r;
        r = manifest_append(s, "C %" PRIu64 "\n", p->seq);
        if (r < 0)
                return fail_op("append to", s->manifest_path, r);
        r = apply(s, p);
        if (r < 0)
                return r;
        st->ops[p->kind]++;
        return 0;
}

/* Expected bytes [off, off+len) of a committed file, into buf. */
static void expected(const struct state *s, uint32_t id, uint64_t off, uint64_t len, unsigned char *buf)
{
        const struct file *f = &s->files[id];

        for (uint64_t o = off; o < off + len;) {
                uint64_t b = o / BLOCK;
                uint64_t end = (b + 1) * BLOCK < off + len ? (b + 1) * BLOCK : off + len;

                generate(buf + (o - off), (end - o + 7) & ~UINT64_C(7), s->seed, id, f->block_version[b], o);
                o = end;
        }
}

/* A random range of a random live file, read past the page cache and compared. */
static int read_check(struct state *s, uint32_t id, uint64_t rnd, struct stats *st)
{
        const struct file *f = &s->files[id];
        uint64_t blocks = blocks_of(f->size);
        uint64_t first = rnd % blocks;
        uint64_t n = 1 + (rnd >> 20) % 16;
        uint64_t off = first * BLOCK, len;
        char path[512];
        int fd, r;

        if (first + n > blocks)
                n = blocks - first;
        len = (first + n) * BLOCK > f->size ? f->size - off : n * BLOCK;
        file_path(s, id, path, sizeof(path));
        op_begin("open", path);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        op_end();
        if (fd < 0)
                return fail_op("open", path, -errno);
        posix_fadvise(fd, (off_t) off, (off_t) len, POSIX_FADV_DONTNEED);
        r = timed_pread(fd, s->buf, len, off, path);
        close(fd);
        if (r < 0)
                return fail_op("read", path, r);
        expected(s, id, off, len, s->buf2);
        if (memcmp(s->buf, s->buf2, len) != 0) {
                fprintf(stderr, "vm-fswriter: MISMATCH while running: %s bytes %" PRIu64 "..%" PRIu64
                        " differ from what was fsynced\n", path, off, off + len);
                return -EIO;
        }
        st->ops[OP_READ]++;
        st->read_bytes += len;
        return 0;
}

static uint64_t rng_next(uint64_t *x)
{
        *x += UINT64_C(0x9e3779b97f4a7c15);
        return vm_splitmix64(*x);
}

static uint64_t random_size(uint64_t r)
{
        unsigned pick = (unsigned) (r % 100);
        uint64_t sectors;

        r >>= 8;
        if (pick < 70)
                sectors = 8 + r % 120;                  /* 4 .. 64 KiB */
        else if (pick < 95)
                sectors = 128 + r % 1920;               /* 64 KiB .. 1 MiB */
        else
                sectors = 2048 + r % (MAX_FILE_BYTES / SECTOR - 2048);
        return sectors * SECTOR;
}

static uint32_t random_live(const struct state *s, uint64_t r)
{
        if (s->nfiles == 0)
                return UINT32_MAX;
        for (unsigned tries = 0; tries < 64; tries++) {
                uint32_t id = (uint32_t) ((r + tries * UINT64_C(2654435761)) % s->nfiles);

                if (s->files[id].live)
                        return id;
        }
        for (uint32_t id = 0; id < s->nfiles; id++)
                if (s->files[id].live)
                        return id;
        return UINT32_MAX;
}

/* --- commands --------------------------------------------------------- */

struct options {
        const char *dir;
        const char *manifest;
        const char *until_file;
        uint64_t seed;
        bool have_seed;
        double seconds;
        uint64_t max_bytes;
};

static int state_init(struct state *s, const struct options *o)
{
        memset(s, 0, sizeof(*s));
        s->dir = o->dir;
        s->manifest_path = o->manifest;
        s->manifest_fd = -1;
        s->seed = o->seed;
        s->buf = malloc(MAX_FILE_BYTES + 8);
        s->buf2 = malloc(MAX_FILE_BYTES + 8);
        return s->buf && s->buf2 ? 0 : -ENOMEM;
}

static void state_free(struct state *s)
{
        for (uint32_t i = 0; i < s->cap; i++)
                free(s->files[i].block_version);
        free(s->files);
        free(s->buf);
        free(s->buf2);
        if (s->manifest_fd >= 0)
                close(s->manifest_fd);
}

static int cmd_run(const struct options *o)
{
        struct state s;
        struct stats st = { 0 };
        uint64_t rng;
        double t0, last_report;
        int r;
        bool fresh;

        r = state_init(&s, o);
        if (r < 0)
                goto out;
        fresh = access(o->manifest, F_OK) != 0;
        r = load_manifest(&s, true);
        if (r < 0) {
                fprintf(stderr, "vm-fswriter: cannot load %s: %s\n", o->manifest, strerror(-r));
                goto out;
        }
        if (!fresh && s.seed != o->seed) {
                fprintf(stderr, "vm-fswriter: %s was written with seed %" PRIu64 ", not %" PRIu64 "\n",
                        o->manifest, s.seed, o->seed);
                r = -EINVAL;
                goto out;
        }
        if (mkdir(o->dir, 0755) < 0 && errno != EEXIST) {
                r = fail_op("mkdir", o->dir, -errno);
                goto out;
        }
        for (unsigned d = 0; d < NDIRS; d++) {
                char path[512];

                snprintf(path, sizeof(path), "%s/d%02u", o->dir, d);
                if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                        r = fail_op("mkdir", path, -errno);
                        goto out;
                }
        }
        r = fsync_path(o->dir);
        if (r < 0) {
                fail_op("fsync", o->dir, r);
                goto out;
        }
        s.manifest_fd = open(o->manifest, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (s.manifest_fd < 0) {
                r = fail_op("open", o->manifest, -errno);
                goto out;
        }
        if (fresh && (r = manifest_append(&s, "S %" PRIu64 "\n", s.seed)) < 0)
                goto out;
        s.runs++;
        if ((r = manifest_append(&s, "R %u\n", s.runs)) < 0)
                goto out;
        if (s.pending.active) {
                /* Redo what the cut interrupted, under its own sequence. */
                fprintf(stdout, "vm-fswriter: redoing pending %s of f%06u (seq %" PRIu64 ")\n",
                        op_names[s.pending.kind], s.pending.id, s.pending.seq);
                r = do_op(&s, &s.pending, &st);
                if (r == 0)
                        r = manifest_append(&s, "C %" PRIu64 "\n", s.pending.seq);
                if (r == 0)
                        r = apply(&s, &s.pending);
                if (r < 0)
                        goto out;
                s.pending.active = false;
        }
        fprintf(stdout, "vm-fswriter: run %u in %s: %u files known, %" PRIu64 " bytes live, stall limit %.1f s\n",
                s.runs, o->dir, s.nfiles, s.live_bytes, stall_limit_s);
        fflush(stdout);

        rng = vm_splitmix64(s.seed) ^ ((uint64_t) s.runs << 48);
        t0 = last_report = vm_now_s();
        for (;;) {
                double t = vm_now_s();
                uint64_t x = rng_next(&rng), y = rng_next(&rng);
                unsigned pick = (unsigned) (x % 100);
                uint32_t id = random_live(&s, y);
                struct pending p = { 0 };

                if (o->seconds > 0 && t - t0 >= o->seconds)
                        break;
                if (o->until_file && access(o->until_file, F_OK) == 0)
                        break;
                if (t - last_report >= 5.0) {
                        fprintf(stdout, "vm-fswriter: t=%.0fs ops=%" PRIu64 " written=%.1f MiB live_files_bytes=%"
                                PRIu64 " max_latency=%.2fs\n", t - t0,
                                st.ops[0] + st.ops[1] + st.ops[2] + st.ops[3],
                                (double) st.written_bytes / 1048576.0, s.live_bytes, max_latency_s);
                        fflush(stdout);
                        last_report = t;
                }
                if (id != UINT32_MAX && s.live_bytes > o->max_bytes) {
                        p.kind = OP_DELETE;
                        p.id = id;
                        r = journalled(&s, &p, &st);
                } else if (id == UINT32_MAX || pick < 50) {
                        p.kind = OP_CREATE;
                        p.id = s.nfiles;
                        p.length = random_size(y);
                        p.version = 1;
                        r = journalled(&s, &p, &st);
                } else if (pick < 85) {
                        const struct file *f = &s.files[id];
                        uint64_t blocks = blocks_of(f->size);
                        uint64_t first = (y >> 16) % blocks;
                        uint64_t n = 1 + (y >> 40) % 32;

                        if (first + n > blocks)
                                n = blocks - first;
                        p.kind = OP_WRITE;
                        p.id = id;
                        p.offset = first * BLOCK;
                        p.length = (first + n) * BLOCK > f->size ? f->size - p.offset : n * BLOCK;
                        p.version = f->version + 1;
                        r = journalled(&s, &p, &st);
                } else {
                        r = read_check(&s, id, y >> 8, &st);
                }
                if (r < 0)
                        goto out;
        }
        {
                double secs = vm_now_s() - t0;
                uint64_t ops = st.ops[0] + st.ops[1] + st.ops[2] + st.ops[3];

                fprintf(stdout, "vm-fswriter: run: seconds=%.1f ops=%" PRIu64 " ops_per_s=%.1f written_bytes=%"
                        PRIu64 " MiB_per_s=%.2f creates=%" PRIu64 " overwrites=%" PRIu64 " deletes=%" PRIu64
                        " reads=%" PRIu64 " read_bytes=%" PRIu64 " live_bytes=%" PRIu64
                        " max_latency_s=%.2f (%s) stall_limit_s=%.1f\n",
                        secs, ops, secs > 0 ? (double) ops / secs : 0.0, st.written_bytes,
                        secs > 0 ? (double) st.written_bytes / 1048576.0 / secs : 0.0,
                        st.ops[OP_CREATE], st.ops[OP_WRITE], st.ops[OP_DELETE], st.ops[OP_READ],
                        st.read_bytes, s.live_bytes, max_latency_s,
                        max_latency_what[0] ? max_latency_what : "none", stall_limit_s);
        }
        r = 0;
out:
        state_free(&s);
        return r < 0 ? 1 : 0;
}

/* Compares one file with what the manifest says it holds; a pending
 * overwrite allows each of its sectors to hold the old or the new data. */
static bool verify_file(struct state *s, uint32_t id, const struct pending *p, uint64_t *bytes)
{
        const struct file *f = &s->files[id];
        char path[512];
        struct stat sb;
        int fd, r;

        file_path(s, id, path, sizeof(path));
        op_begin("open", path);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        op_end();
        if (fd < 0) {
                printf("vm-fswriter: MISMATCH %s: cannot open it: %s\n", path, strerror(errno));
                return false;
        }
        if (fstat(fd, &sb) < 0 || (uint64_t) sb.st_size != f->size) {
                printf("vm-fswriter: MISMATCH %s: %" PRIu64 " bytes, %" PRIu64 " fsynced\n", path,
                       (uint64_t) sb.st_size, f->size);
                close(fd);
                return false;
        }
        r = timed_pread(fd, s->buf, f->size, 0, path);
        close(fd);
        if (r < 0) {
                printf("vm-fswriter: MISMATCH %s: read failed: %s\n", path, strerror(-r));
                return false;
        }
        expected(s, id, 0, f->size, s->buf2);
        if (p && p->kind == OP_WRITE && p->id == id) {
                unsigned char *alt = malloc(p->length + 8);

                if (!alt) {
                        printf("vm-fswriter: MISMATCH %s: out of memory\n", path);
                        return false;
                }
                generate(alt, (p->length + 7) & ~UINT64_C(7), s->seed, id, p->version, p->offset);
                for (uint64_t o = p->offset; o < p->offset + p->length; o += SECTOR) {
                        uint64_t n = o + SECTOR > p->offset + p->length ? p->offset + p->length - o : SECTOR;

                        if (memcmp(s->buf + o, alt + (o - p->offset), n) == 0)
                                memcpy(s->buf2 + o, alt + (o - p->offset), n);
                }
                free(alt);
        }
        for (uint64_t o = 0; o < f->size; o += BLOCK) {
                uint64_t n = o + BLOCK > f->size ? f->size - o : BLOCK;

                if (memcmp(s->buf + o, s->buf2 + o, n) != 0) {
                        uint64_t bad = 0, first = o;

                        for (uint64_t q = o; q < f->size; q += BLOCK) {
                                uint64_t m = q + BLOCK > f->size ? f->size - q : BLOCK;

                                bad += memcmp(s->buf + q, s->buf2 + q, m) != 0;
                        }
                        printf("vm-fswriter: MISMATCH %s: %" PRIu64 " of %" PRIu64
                               " 4 KiB blocks differ from the fsynced version, the first at byte %" PRIu64 "\n",
                               path, bad, blocks_of(f->size), first);
                        return false;
                }
        }
        *bytes += f->size;
        return true;
}

static int cmd_verify(const struct options *o)
{
        struct state s;
        uint64_t files = 0, bytes = 0, bad = 0, unlisted = 0;
        const struct pending *p;
        int r;

        r = state_init(&s, o);
        if (r < 0)
                goto out;
        r = load_manifest(&s, false);
        if (r < 0) {
                fprintf(stderr, "vm-fswriter: cannot load %s: %s\n", o->manifest, strerror(-r));
                goto out;
        }
        p = s.pending.active ? &s.pending : NULL;
        for (uint32_t id = 0; id < s.nfiles; id++) {
                char path[512];
                struct stat sb;
                bool exists;

                file_path(&s, id, path, sizeof(path));
                exists = stat(path, &sb) == 0;
                if (p && p->id == id && p->kind == OP_CREATE)
                        continue;       /* anything goes */
                if (p && p->id == id && p->kind == OP_DELETE && !exists)
                        continue;
                if (!s.files[id].live) {
                        if (exists) {
                                printf("vm-fswriter: MISMATCH %s exists, but its delete was fsynced\n", path);
                                bad++;
                        }
                        continue;
                }
                files++;
                if (!verify_file(&s, id, p, &bytes))
                        bad++;
        }
        for (unsigned d = 0; d < NDIRS; d++) {
                char path[512];
                DIR *dir;
                struct dirent *e;

                snprintf(path, sizeof(path), "%s/d%02u", o->dir, d);
                dir = opendir(path);
                if (!dir)
                        continue;
                while ((e = readdir(dir))) {
                        unsigned id;

                        if (e->d_name[0] == '.')
                                continue;
                        if (sscanf(e->d_name, "f%u", &id) != 1 || id >= s.nfiles) {
                                printf("vm-fswriter: MISMATCH %s/%s is in no manifest line\n", path, e->d_name);
                                unlisted++;
                        }
                }
                closedir(dir);
        }
        if (bad || unlisted) {
                printf("vm-fswriter: verify: FAILED bad=%" PRIu64 " unlisted=%" PRIu64 " of files=%" PRIu64 "\n",
                       bad, unlisted, files);
                r = -EIO;
                goto out;
        }
        printf("vm-fswriter: verify: ok files=%" PRIu64 " bytes=%" PRIu64 " pending=%d%s%s\n", files, bytes,
               p ? 1 : 0, p ? " " : "", p ? op_names[p->kind] : "");
        r = 0;
out:
        state_free(&s);
        return r < 0 ? 1 : 0;
}

static void usage(void)
{
        fprintf(stderr,
                "usage: vm-fswriter run DIR --seed S --manifest FILE [--seconds N | --until-file F]\n"
                "                       [--stall-ms MS] [--max-bytes B]\n"
                "       vm-fswriter verify DIR --manifest FILE [--stall-ms MS]\n");
}

int main(int argc, char **argv)
{
        static const struct option longopts[] = {
                { "seed", required_argument, NULL, 's' },
                { "manifest", required_argument, NULL, 'm' },
                { "seconds", required_argument, NULL, 't' },
                { "until-file", required_argument, NULL, 'u' },
                { "stall-ms", required_argument, NULL, 'w' },
                { "max-bytes", required_argument, NULL, 'b' },
                { NULL, 0, NULL, 0 },
        };
        struct options o = { .max_bytes = 64u << 20 };
        pthread_t thread;
        bool run;
        int c;

        if (argc < 3) {
                usage();
                return 2;
        }
        if (strcmp(argv[1], "run") == 0)
                run = true;
        else if (strcmp(argv[1], "verify") == 0)
                run = false;
        else {
                usage();
                return 2;
        }
        o.dir = argv[2];
        optind = 3;
        while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                char *end;

                errno = 0;
                switch (c) {
                case 's':
                        o.seed = strtoull(optarg, &end, 0);
                        o.have_seed = true;
                        break;
                case 'm':
                        o.manifest = optarg;
                        end = optarg + strlen(optarg);
                        break;
                case 't':
                        o.seconds = strtod(optarg, &end);
                        break;
                case 'u':
                        o.until_file = optarg;
                        end = optarg + strlen(optarg);
                        break;
                case 'w':
                        stall_limit_s = (double) strtoull(optarg, &end, 0) / 1000.0;
                        break;
                case 'b':
                        o.max_bytes = strtoull(optarg, &end, 0);
                        break;
                default:
                        usage();
                        return 2;
                }
                if (errno || *end) {
                        fprintf(stderr, "vm-fswriter: bad value '%s'\n", optarg);
                        return 2;
                }
        }
        if (optind != argc || !o.manifest || (run && !o.have_seed) ||
            (run && (o.seconds > 0) == (o.until_file != NULL)) || stall_limit_s <= 0) {
                usage();
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        worker_tid = (pid_t) syscall(SYS_gettid);
        c = pthread_create(&thread, NULL, watchdog, NULL);
        if (c != 0) {
                fprintf(stderr, "vm-fswriter: cannot start the watchdog: %s\n", strerror(c));
                return 1;
        }
        return run ? cmd_run(&o) : cmd_verify(&o);
}
