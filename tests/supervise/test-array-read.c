// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The background reader against a regular file standing in for the array:
 * the file is the data member of a two-disk raid4 (whose one data chunk
 * per stripe is the array's content in order), or, with that member
 * missing, its parity, from which every chunk is rebuilt. What it brings
 * in is the file's content at the range asked for, parts can be taken as
 * they arrive, a read past the end fails the waits, and freeing it
 * while reads are held in flight waits for them and starts no more.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "reshaped/supervise/array-read.h"
#include "reshaped/members/member-read.h"

#define FILE_BYTES (20u << 20)   /* five 4 MiB pieces */

struct fixture {
        char path[64];
        int fd;
        uint8_t *content;
        void *buf;
        struct member_set *ms;
        uint64_t usable;
};

/* The file as raid4's data member (slot 0) or as its parity (slot 1). */
static void open_members(struct fixture *f, unsigned file_slot)
{
        struct stripe_layout l = { .level = 4, .raid_disks = 2, .chunk_sectors = 128 };
        struct member_source src[2] = {};

        src[file_slot].path = f->path;
        assert_int_equal(member_set_open(&l, src, 2, UINT64_MAX / 2, &f->ms), 0);
        assert_int_equal(member_set_refresh(f->ms, NULL, &f->usable), 0);
        assert_int_equal(f->usable, 1u << file_slot);
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        snprintf(f->path, sizeof(f->path), "/tmp/test-array-read.XXXXXX");
        f->fd = mkstemp(f->path);
        assert_true(f->fd >= 0);
        f->content = malloc(FILE_BYTES);
        assert_non_null(f->content);
        for (size_t i = 0; i < FILE_BYTES; i++)
                f->content[i] = (uint8_t) (i * 2654435761u >> 13);
        assert_int_equal(pwrite(f->fd, f->content, FILE_BYTES, 0), FILE_BYTES);
        assert_int_equal(posix_memalign(&f->buf, 4096, FILE_BYTES), 0);
        open_members(f, 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        member_set_free(f->ms);
        close(f->fd);
        unlink(f->path);
        free(f->content);
        free(f->buf);
        free(f);
        return 0;
}

static void reads_the_range(struct fixture *f)
{
        /* array sectors 2048..38912: 1 MiB in, 18 MiB long, pieces not
         * aligned to the file */
        struct array_range r = { 2048, 2048 + 36864 };
        struct array_read *rd;

        /* a buffer one sector short is refused */
        assert_int_equal(array_read_start(f->ms, f->usable, f->buf, 36864 * 512 - 512, r, &rd), -E2BIG);
        assert_int_equal(array_read_start(f->ms, f->usable, f->buf, FILE_BYTES, r, &rd), 0);
        assert_ptr_equal(array_read_buffer(rd), f->buf);
        assert_int_equal(array_read_range(rd).lo_array_sectors, 2048);
        /* the tail first: waiting for a part does not need the parts before */
        assert_int_equal(array_read_wait(rd, 30000, 38912), 0);
        assert_memory_equal((uint8_t *) f->buf + (30000 - 2048) * 512, f->content + 30000 * 512,
                            (38912 - 30000) * 512);
        assert_int_equal(array_read_wait(rd, 2048, 38912), 0);
        assert_memory_equal(f->buf, f->content + 2048 * 512, 36864 * 512);
        /* outside the range */
        assert_int_equal(array_read_wait(rd, 0, 4096), -EINVAL);
        assert_int_equal(array_read_wait(rd, 100, 100), 0);
        array_read_free(rd);
}

static void test_reads_the_range(void **state)
{
        reads_the_range(*state);
}

/* Slot 0 missing: every chunk comes from the parity. */
static void test_rebuilds_from_parity(void **state)
{
        struct fixture *f = *state;

        member_set_free(f->ms);
        open_members(f, 1);
        reads_the_range(f);
}

static void test_past_the_end(void **state)
{
        struct fixture *f = *state;
        /* the last 8 MiB of the file and 4 MiB beyond it */
        uint64_t end = FILE_BYTES / 512;
        struct array_range r = { end - 16384, end + 8192 };
        struct array_read *rd;

        /* the first error fails every wait not yet satisfied: the window
         * is lost either way, and the readers stop at once */
        assert_int_equal(array_read_start(f->ms, f->usable, f->buf, FILE_BYTES, r, &rd), 0);
        assert_int_equal(array_read_wait(rd, end - 16384, end + 8192), -EIO);
        assert_int_equal(array_read_wait(rd, end, end + 8192), -EIO);
        array_read_free(rd);
}

/*
 * Freeing mid-read: the readers' preadv()s are held in the kernel by a
 * seccomp filter that hands each to this test (user notification) until
 * it lets them go, so reads are in flight when the free begins. The free
 * must wait for them, and no reader may start a piece once it began.
 */
struct held_reads {
        struct fixture *f;
        struct array_range range;
        struct array_read *rd;
        int listener;
        pid_t free_tid;
        atomic_bool freed;
};

static void *start_held(void *userdata)
{
        struct held_reads *h = userdata;
        struct sock_filter filter[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_preadv, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };

        /* The filter binds this thread and the readers it starts, not the
         * test's own thread. The test makes only native system calls, so
         * the number is not checked against the architecture. */
        h->listener = -1;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return NULL;
        h->listener = (int) syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                                    SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
        if (h->listener >= 0 &&
            array_read_start(h->f->ms, h->f->usable, h->f->buf, FILE_BYTES, h->range, &h->rd) < 0)
                h->rd = NULL;
        return NULL;
}

static void *free_held(void *userdata)
{
        struct held_reads *h = userdata;

        __atomic_store_n(&h->free_tid, (pid_t) syscall(SYS_gettid), __ATOMIC_SEQ_CST);
        array_read_free(h->rd);
        atomic_store(&h->freed, true);
        return NULL;
}

/* The system call thread @tid is blocked in, -1 when running or gone. */
static long blocked_in(pid_t tid)
{
        char path[64], line[64];
        FILE *f;
        long nr = -1;

        snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int) tid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        if (!fgets(line, sizeof(line), f) || sscanf(line, "%ld", &nr) != 1)
                nr = -1;
        fclose(f);
        return nr;
}

/* How many threads but this one are in pread64; -1 if any is not. */
static int readers_in_pread(void)
{
        DIR *d = opendir("/proc/self/task");
        pid_t self = (pid_t) syscall(SYS_gettid);
        struct dirent *e;
        int n = 0;

        assert_non_null(d);
        while ((e = readdir(d)))
                if (e->d_name[0] != '.' && atoi(e->d_name) != self)
                        n = n >= 0 && blocked_in(atoi(e->d_name)) == __NR_preadv ? n + 1 : -1;
        closedir(d);
        return n;
}

/* Takes the next held pread within @timeout_ms; its id, or 0. */
static uint64_t take_held(int listener, int timeout_ms)
{
        struct pollfd pfd = { .fd = listener, .events = POLLIN };
        struct seccomp_notif n;

        /* POLLHUP alone: every reader has exited */
        if (poll(&pfd, 1, timeout_ms) != 1 || !(pfd.revents & POLLIN))
                return 0;
        memset(&n, 0, sizeof(n));
        assert_int_equal(ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &n), 0);
        assert_int_equal(n.data.nr, __NR_preadv);
        return n.id;
}

static void release_held(int listener, uint64_t id)
{
        struct seccomp_notif_resp resp = { .id = id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };

        assert_int_equal(ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0);
}

static void test_free_mid_read(void **state)
{
        struct fixture *f = *state;
        /* more pieces than readers: some are never started */
        const uint64_t pieces = FILE_BYTES / (4u << 20);
        struct held_reads h = { .f = f, .range = { 0, FILE_BYTES / 512 } };
        uint64_t held[16];
        unsigned n_held = 0, preads;
        pthread_t t;

        assert_int_equal(pthread_create(&t, NULL, start_held, &h), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_true(h.listener >= 0);
        assert_non_null(h.rd);

        /* every reader is inside preadv() and held there, none holds the
         * reader's lock */
        for (unsigned i = 0; i < 500 && (!n_held || readers_in_pread() != (int) n_held); i++) {
                uint64_t id = take_held(h.listener, 10);

                if (id) {
                        assert_true(n_held < 16);
                        held[n_held++] = id;
                }
        }
        assert_true(n_held > 0);
        assert_true(n_held < pieces);
        assert_int_equal(readers_in_pread(), n_held);

        /* the free sets its stop flag and waits (a futex: pthread_join, as
         * nothing else can block it now) */
        assert_int_equal(pthread_create(&t, NULL, free_held, &h), 0);
        for (unsigned i = 0; i < 500; i++) {
                pid_t tid = __atomic_load_n(&h.free_tid, __ATOMIC_SEQ_CST);

                if (tid && blocked_in(tid) == SYS_futex)
                        break;
                usleep(10000);
        }
        assert_int_equal(blocked_in(h.free_tid), SYS_futex);
        usleep(50000);
        assert_false(atomic_load(&h.freed));

        /* let the reads finish; any pread after that is a new piece */
        preads = n_held;
        for (unsigned i = 0; i < n_held; i++)
                release_held(h.listener, held[i]);
        while (!atomic_load(&h.freed)) {
                uint64_t id = take_held(h.listener, 10);

                if (id) {
                        preads++;
                        release_held(h.listener, id);
                }
        }
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_int_equal(preads, n_held);
        close(h.listener);
        assert_null(array_read_free(NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_reads_the_range, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rebuilds_from_parity, setup, teardown),
                cmocka_unit_test_setup_teardown(test_past_the_end, setup, teardown),
                cmocka_unit_test_setup_teardown(test_free_mid_read, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
