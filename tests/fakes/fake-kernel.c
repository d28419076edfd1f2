// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/raid/md_p.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "reshaped/backup/backup.h"
#include "reshaped/md/md.h"
#include "fake-kernel.h"

/* sync_max=max: a checkpoint every this many units, as the kernel's 10 s
 * timer gives one now and then. */
#define TIMER_UNITS 8
#define TICK_US 1000

struct fake_kernel {
        struct fake_kernel_config c;
        uint8_t super[MD_SB_BYTES];
        const char *members[FAKE_KERNEL_MAX_MEMBERS];
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool quit;
        uint64_t stall_at;
        bool seen_frozen;
        bool have_numeric;           /* a numeric sync_max was read while running */
        bool supervised;             /* one was ever read: taken over */
        int inotify_fd;
        char last_write[64];
        bool action_stored;          /* sync_action was stored since the last step */
        uint64_t last_numeric;
        /* Until the reshape begins: a write lease on reshape_position (see
         * lease_serve()), and what that attribute reads. */
        int lease_fd;
        char position_text[128];
        struct fake_kernel_state st;
};

static void breach(struct fake_kernel *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void breach(struct fake_kernel *k, const char *fmt, ...)
{
        va_list ap;

        if (k->st.breach[0])
                return;
        va_start(ap, fmt);
        vsnprintf(k->st.breach, sizeof(k->st.breach), fmt, ap);
        va_end(ap);
}

static char *attr_path(struct fake_kernel *k, const char *attr)
{
        char *p;

        if (asprintf(&p, "%s/block/%s/md/%s", k->c.root, k->c.md, attr) < 0)
                return NULL;
        return p;
}

/* Whole or not at all: the supervisor reads what it finds at any moment,
 * and keeps sync_completed open (a stale inode only says nothing new). */
static void put(struct fake_kernel *k, const char *attr, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(struct fake_kernel *k, const char *attr, const char *fmt, ...)
{
        char *p = attr_path(k, attr), *tmp = NULL, value[128];
        va_list ap;
        FILE *f;

        va_start(ap, fmt);
        vsnprintf(value, sizeof(value), fmt, ap);
        va_end(ap);
        if (!p || asprintf(&tmp, "%s/block/%s/md/.fake-kernel", k->c.root, k->c.md) < 0) {
                breach(k, "out of memory");
                goto out;
        }
        f = fopen(tmp, "we");
        if (!f || fprintf(f, "%s\n", value) < 0 || fclose(f) != 0 || rename(tmp, p) < 0)
                breach(k, "cannot write %s: %s", p, strerror(errno));
        if (strcmp(attr, "reshape_position") == 0)
                snprintf(k->position_text, sizeof(k->position_text), "%s", value);
out:
        free(tmp);
        free(p);
}

/* The value the supervisor last stored, or false while a store is half
 * done (it truncates, then writes the line). */
static bool get(struct fake_kernel *k, const char *attr, char *buf, size_t size)
{
        char *p = attr_path(k, attr);
        ssize_t n = -1;
        int fd;

        if (!p)
                return false;
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                n = read(fd, buf, size - 1);
                close(fd);
        }
        free(p);
        if (n <= 0 || buf[n - 1] != '\n')
                return false;
        buf[n - 1] = '\0';
        return true;
}

static void write_supers(struct fake_kernel *k, bool active, uint64_t position)
{
        mdp_super_t *sb = (mdp_super_t *) k->super;

        sb->minor_version = active ? 91 : 90;
        for (unsigned i = 0; i < k->c.n_members; i++) {
                int fd;

                /* Each member's own: which one it is, by slot. */
                sb->this_disk = sb->disks[i];
                if (md_super_set_reshape_position(k->super, 0, active ? position : 0) < 0) {
                        breach(k, "cannot encode the superblock");
                        return;
                }
                fd = open(k->c.members[i], O_WRONLY | O_CLOEXEC);

                if (fd < 0 || pwrite(fd, k->super, MD_SB_BYTES, (off_t) k->c.super_offset_bytes) != MD_SB_BYTES)
                        breach(k, "cannot write the superblock of %s: %s",
                               k->c.members[i], strerror(errno));
                if (fd >= 0)
                        close(fd);
        }
}

static void checkpoint(struct fake_kernel *k)
{
        uint64_t pos = geometry_progress_to_position(k->c.geo, k->st.front);

        write_supers(k, true, pos);
        put(k, "reshape_position", "%" PRIu64, pos);
        k->st.checkpoint = k->st.front;
}

/* Whether the backup holds @r with the array's content. A header read
 * while the supervisor writes one may be torn: read it again. */
static bool backup_holds(struct fake_kernel *k, struct array_range r, char *why, size_t size)
{
        uint8_t hbuf[BACKUP_HEADER_BYTES];
        struct backup_header h;
        struct backup_verify v = { .reason = BACKUP_VERIFY_BAD_MAGIC };
        uint64_t bytes = sectors_to_bytes(array_range_sectors(r));
        uint8_t *data = NULL;
        bool ok = false;
        int fd;

        fd = open(k->c.backup_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                snprintf(why, size, "no backup file (%s)", strerror(errno));
                return false;
        }
        for (unsigned attempt = 0; attempt < 100; attempt++) {
                if (pread(fd, hbuf, sizeof(hbuf), 0) == (ssize_t) sizeof(hbuf)) {
                        v = backup_header_decode(hbuf, &h);
                        if (v.reason == BACKUP_VERIFY_OK)
                                break;
                }
                usleep(1000);
        }
        if (v.reason != BACKUP_VERIFY_OK) {
                snprintf(why, size, "backup header does not decode: %s", backup_verify_strerror(v.reason));
                goto out;
        }
        snprintf(why, size, "no section holds it");
        for (unsigned s = 0; s < BACKUP_SLOTS; s++) {
                const struct backup_section *sec = &h.sections[s];
                struct array_range have = { sec->array_start_sectors,
                                            sec->array_start_sectors + sec->length_sectors };

                if (!sec->length_sectors || !array_range_inside(have, r))
                        continue;
                data = malloc(bytes);
                if (!data) {
                        snprintf(why, size, "out of memory");
                        goto out;
                }
                if (pread(fd, data, bytes, (off_t) (backup_section_offset_bytes(&h, s) +
                                                    sectors_to_bytes(r.lo_array_sectors - have.lo_array_sectors))) !=
                    (ssize_t) bytes) {
                        snprintf(why, size, "short read of slot %u", s);
                        goto out;
                }
                if (memcmp(data, k->c.content + sectors_to_bytes(r.lo_array_sectors), bytes) != 0) {
                        snprintf(why, size, "slot %u holds other data than the array", s);
                        goto out;
                }
                ok = true;
                goto out;
        }
out:
        free(data);
        close(fd);
        return ok;
}

static void finish(struct fake_kernel *k, const char *sync_max)
{
        write_supers(k, false, 0);
        if (k->c.new_chunk_size)
                put(k, "chunk_size", "%s", k->c.new_chunk_size);
        put(k, "metadata_version", "0.90");
        put(k, "reshape_position", "none");
        put(k, "sync_completed", "none");
        put(k, "sync_max", "max");
        put(k, "sync_action", "idle");
        snprintf(k->st.sync_max_at_end, sizeof(k->st.sync_max_at_end), "%s", sync_max);
        k->st.finished = true;
        k->st.running = false;
}

/* The stores since the last look, by attribute name, in order. */
static void note_writes(struct fake_kernel *k)
{
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t n;

        while ((n = read(k->inotify_fd, buf, sizeof(buf))) > 0)
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *e = (const struct inotify_event *) p;
                        size_t used = strlen(k->st.writes);

                        /* inotify merges a store repeated back to back
                         * when the first is still unread: note such a
                         * repeat once, whenever it is read. */
                        /* Only the fake writes reshape_position (its
                         * leased files, closed when a read is served). */
                        if (e->len && strcmp(e->name, "reshape_position") == 0) {
                                p += sizeof(*e) + e->len;
                                continue;
                        }
                        if (e->len && e->name[0] != '.' && strcmp(e->name, k->last_write) != 0 &&
                            used + strlen(e->name) + 2 < sizeof(k->st.writes))
                                snprintf(k->st.writes + used, sizeof(k->st.writes) - used, "%s%s",
                                         used ? " " : "", e->name);
                        if (e->len && e->name[0] != '.')
                                snprintf(k->last_write, sizeof(k->last_write), "%s", e->name);
                        if (e->len && strcmp(e->name, "sync_action") == 0)
                                k->action_stored = true;
                        p += sizeof(*e) + e->len;
                }
}

/* sync_action=reshape on an idle array: md takes the geometry stored
 * before and begins, the superblocks recording position 0. */
static bool begin(struct fake_kernel *k)
{
        char chunk[32];

        if (!get(k, "chunk_size", chunk, sizeof(chunk)) || strcmp(chunk, k->c.begin_expect_chunk_size) != 0) {
                breach(k, "sync_action=reshape with chunk_size \"%s\", not the new \"%s\"",
                       chunk, k->c.begin_expect_chunk_size);
                return false;
        }
        put(k, "chunk_size", "%s", k->c.begin_chunk_size);
        put(k, "metadata_version", "0.91");
        checkpoint(k);
        put(k, "sync_completed", "%" PRIu64 " / %" PRIu64, k->st.front, k->c.geo->end_progress_sectors);
        k->st.begun = true;
        return true;
}

/*
 * md takes sync_action=reshape within the store: once it returns,
 * reshape_position reads a number. A thread that looks now and then
 * cannot be that quick, so until the reshape begins reshape_position is a
 * file under a write lease (fcntl(2) F_SETLEASE): whoever opens it waits
 * in open() until this thread has taken every store made before (and
 * begun, if one was sync_action=reshape) and filled in the answer. The
 * next file, leased, takes its name before this one's lease goes, so no
 * read slips past.
 */
static int lease_take(struct fake_kernel *k)
{
        char *p = attr_path(k, "reshape_position"), *tmp = attr_path(k, ".fake-lease");
        int fd = -1;

        if (!p || !tmp)
                goto out;
        fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || dprintf(fd, "%s\n", k->position_text) < 0 || fcntl(fd, F_SETLEASE, F_WRLCK) < 0 ||
            /* No owner: a break then sends no SIGIO, which would end the
             * test; this thread looks (lease_asked()). */
            fcntl(fd, F_SETOWN, 0) < 0 || rename(tmp, p) < 0) {
                if (fd >= 0)
                        close(fd);
                fd = -1;
        }
out:
        free(tmp);
        free(p);
        return fd;
}

/* Whether a reader waits for the lease (a break is pending). */
static bool lease_asked(struct fake_kernel *k)
{
        return k->lease_fd >= 0 && fcntl(k->lease_fd, F_GETLEASE) != F_WRLCK;
}

/* After a step: the waiting reader's file gets what reshape_position
 * reads now, and lets it go. */
static void lease_serve(struct fake_kernel *k)
{
        size_t len = strlen(k->position_text) + 1;
        char line[sizeof(k->position_text) + 1];
        int old = k->lease_fd;

        k->lease_fd = -1;
        if (!k->st.begun) {
                k->lease_fd = lease_take(k);
                if (k->lease_fd < 0)
                        breach(k, "cannot lease reshape_position: %s", strerror(errno));
        }
        snprintf(line, sizeof(line), "%s\n", k->position_text);
        if (pwrite(old, line, len, 0) != (ssize_t) len || ftruncate(old, (off_t) len) < 0)
                breach(k, "cannot answer a read of reshape_position: %s", strerror(errno));
        close(old);
}

/* One step of the reshape thread; under the lock. */
static void step(struct fake_kernel *k)
{
        const struct reshape_geometry *g = k->c.geo;
        uint64_t end = g->end_progress_sectors, limit, sync_max = 0, next;
        char action[32], max[32];
        bool unlimited;

        note_writes(k);
        if (k->st.finished || !get(k, "sync_action", action, sizeof(action)))
                return;
        if (!k->st.begun && (strcmp(action, "reshape") != 0 || !begin(k)))
                return;
        /* md takes a freeze at once, within the store; a fake that
         * looks now and then may find "reshape" again already. A store
         * of it while running is EBUSY in md, so one seen means the
         * reshape was interrupted and restarted meanwhile. */
        if (k->action_stored && strcmp(action, "reshape") == 0) {
                k->seen_frozen = true;
                k->st.running = k->st.parked = false;
                k->have_numeric = false;
        }
        k->action_stored = false;
        if (strcmp(action, "frozen") == 0 || strcmp(action, "idle") == 0) {
                if (k->st.running)
                        put(k, "sync_completed", "none");
                k->seen_frozen |= strcmp(action, "frozen") == 0;
                k->st.running = k->st.parked = false;
                k->have_numeric = false;
                return;
        }
        if (strcmp(action, "reshape") != 0 || !get(k, "sync_max", max, sizeof(max)))
                return;
        unlimited = strcmp(max, "max") == 0;
        if (!unlimited) {
                char *e;

                errno = 0;
                sync_max = strtoull(max, &e, 10);
                if (errno || *e) {
                        breach(k, "sync_max=\"%s\" is not a number", max);
                        return;
                }
                if (sync_max % g->old_chunk_sectors)
                        breach(k, "sync_max=%" PRIu64 " is not a multiple of the old chunk (%" PRIu64 " sectors): EINVAL",
                               sync_max, g->old_chunk_sectors);
                if (k->st.running && k->have_numeric && sync_max < k->last_numeric)
                        breach(k, "sync_max lowered from %" PRIu64 " to %" PRIu64 " while the reshape runs: EBUSY",
                               k->last_numeric, sync_max);
                k->have_numeric = k->supervised = true;
                k->last_numeric = sync_max;
        }
        if (k->c.hold_until_frozen && !k->seen_frozen)
                return;
        limit = unlimited || sync_max > end ? end : sync_max;
        if (!k->st.running) {
                /* A restart goes on from the front it keeps; at or past
                 * the limit its first request checkpoints it there. */
                k->st.running = true;
                put(k, "sync_completed", "%" PRIu64 " / %" PRIu64, k->st.front, end);
                if (k->st.front >= limit && k->st.front > k->st.checkpoint)
                        checkpoint(k);
        }
        if (unlimited && !k->supervised && k->c.free_limit_progress &&
            k->st.front >= k->c.free_limit_progress)
                limit = k->st.front;
        if (k->stall_at && limit > k->stall_at)
                limit = k->stall_at > k->st.front ? k->stall_at : k->st.front;
        k->st.parked = k->st.front >= limit;
        if (k->st.front >= limit)
                return;

        next = k->st.front + g->unit_progress_sectors - k->st.front % g->unit_progress_sectors;
        if (next > limit)
                next = limit;
        if (k->supervised) {
                struct array_range r = geometry_at_risk(g, k->st.front, next);
                char why[160];

                if (array_range_sectors(r) && !backup_holds(k, r, why, sizeof(why)))
                        breach(k, "rewrote progress %" PRIu64 "-%" PRIu64 " (array sectors %" PRIu64 "-%" PRIu64 ") with sync_max=%s: %s",
                               k->st.front, next, r.lo_array_sectors, r.hi_array_sectors, max, why);
                k->st.units_protected++;
        } else {
                k->st.units_free++;
        }
        k->st.front = next;
        if (k->st.front >= end) {
                finish(k, max);
                return;
        }
        put(k, "sync_completed", "%" PRIu64 " / %" PRIu64, k->st.front, end);
        if (unlimited) {
                if ((k->st.front - k->st.checkpoint) >= TIMER_UNITS * g->unit_progress_sectors)
                        checkpoint(k);
        } else if ((k->st.front - k->st.checkpoint) * 2 >= sync_max - k->st.checkpoint ||
                   k->st.front >= sync_max) {
                checkpoint(k);
        }
}

static void *run(void *userdata)
{
        struct fake_kernel *k = userdata;

        pthread_mutex_lock(&k->lock);
        while (!k->quit) {
                bool asked = lease_asked(k);

                step(k);
                if (asked)
                        lease_serve(k);
                pthread_cond_broadcast(&k->cond);
                pthread_mutex_unlock(&k->lock);
                usleep(TICK_US);
                pthread_mutex_lock(&k->lock);
        }
        pthread_mutex_unlock(&k->lock);
        return NULL;
}

struct fake_kernel *fake_kernel_start(const struct fake_kernel_config *c)
{
        struct fake_kernel *k = calloc(1, sizeof(*k));
        pthread_condattr_t ca;
        char *p;

        if (!k || c->n_members > FAKE_KERNEL_MAX_MEMBERS) {
                free(k);
                return NULL;
        }
        k->c = *c;
        /* The caller's array may be gone by the time the thread runs. */
        memcpy(k->members, c->members, c->n_members * sizeof(*k->members));
        k->c.members = k->members;
        memcpy(k->super, c->super, MD_SB_BYTES);
        k->st.front = c->front_progress;
        k->st.checkpoint = c->checkpoint_progress;
        k->st.begun = !c->begin_chunk_size;
        k->lease_fd = -1;
        if (!get(k, "reshape_position", k->position_text, sizeof(k->position_text))) {
                free(k);
                return NULL;
        }
        k->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        p = attr_path(k, ".");
        if (k->inotify_fd < 0 || !p || inotify_add_watch(k->inotify_fd, p, IN_CLOSE_WRITE) < 0) {
                if (k->inotify_fd >= 0)
                        close(k->inotify_fd);
                free(p);
                free(k);
                return NULL;
        }
        free(p);
        if (!k->st.begun && (k->lease_fd = lease_take(k)) < 0) {
                fprintf(stderr, "fake kernel: cannot take a write lease on %s/block/%s/md/reshape_position: %m (fs.leases-enable, or a file system without leases?)\n",
                        c->root, c->md);
                close(k->inotify_fd);
                free(k);
                return NULL;
        }
        pthread_mutex_init(&k->lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&k->cond, &ca);
        pthread_condattr_destroy(&ca);
        if (pthread_create(&k->thread, NULL, run, k) != 0) {
                if (k->lease_fd >= 0)
                        close(k->lease_fd);
                close(k->inotify_fd);
                free(k);
                return NULL;
        }
        return k;
}

void fake_kernel_stall_at(struct fake_kernel *k, uint64_t progress)
{
        pthread_mutex_lock(&k->lock);
        k->stall_at = progress;
        pthread_mutex_unlock(&k->lock);
}

void fake_kernel_get(struct fake_kernel *k, struct fake_kernel_state *ret)
{
        pthread_mutex_lock(&k->lock);
        *ret = k->st;
        pthread_mutex_unlock(&k->lock);
}

bool fake_kernel_wait(struct fake_kernel *k, bool (*pred)(const struct fake_kernel_state *, void *),
                      void *userdata, unsigned timeout_ms)
{
        struct timespec deadline;
        bool ok;

        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long) (timeout_ms % 1000) * 1000000;
        if (deadline.tv_nsec >= 1000000000) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&k->lock);
        while (!(ok = pred(&k->st, userdata)) &&
               pthread_cond_timedwait(&k->cond, &k->lock, &deadline) == 0)
                ;
        pthread_mutex_unlock(&k->lock);
        return ok;
}

void fake_kernel_stop(struct fake_kernel *k, struct fake_kernel_state *ret)
{
        if (!k)
                return;
        pthread_mutex_lock(&k->lock);
        k->quit = true;
        pthread_mutex_unlock(&k->lock);
        pthread_join(k->thread, NULL);
        /* Stores made since its last step. */
        note_writes(k);
        if (ret)
                *ret = k->st;
        pthread_cond_destroy(&k->cond);
        pthread_mutex_destroy(&k->lock);
        /* Its lease goes with it: a later read gets the file as it is. */
        if (k->lease_fd >= 0)
                close(k->lease_fd);
        close(k->inotify_fd);
        free(k);
}
