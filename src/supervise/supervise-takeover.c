// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Freezing the kernel, and taking over a reshape that runs already:
 * whether it has begun, guarding its first unit, waiting for its front.
 */
#include "supervise/supervise-internal.h"

/* Freezes the reshape; returns its on-disk checkpoint (0 before the first). */
static int freeze(struct sup *s, uint64_t *ret_ckpt)
{
        uint64_t ckpt;
        int r;

        r = md_set_sync_action(s->md, MD_SYNC_ACTION_FROZEN);
        if (r < 0)
                return r;
        s->froze = true;
        r = sup_wait_sync_action(s, MD_SYNC_ACTION_FROZEN, MD_SYNC_ACTION_IDLE);
        if (r < 0)
                return r;
        r = sup_disk_checkpoint(s, &ckpt);
        if (r == -ENODATA)
                ckpt = 0;
        else if (r < 0)
                return r;
        *ret_ckpt = geometry_align_down(&s->geo, ckpt);
        return 0;
}

/* A blocking read of the reshape's first block, on a thread of its own:
 * it may wait until the restart, and is abandoned on a timeout. The last
 * of the two sides to let go frees it. */
struct begun_probe {
        int fd;
        off_t off;
        void *buf;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool done, abandoned;
        int error;
};

static void begun_probe_free(struct begun_probe *p)
{
        close(p->fd);
        free(p->buf);
        free(p);
}

static void *begun_probe_run(void *userdata)
{
        struct begun_probe *p = userdata;
        ssize_t n;
        bool abandoned;

        do
                n = pread(p->fd, p->buf, BACKUP_ALIGN_BYTES, p->off);
        while (n < 0 && errno == EINTR);
        pthread_mutex_lock(&p->lock);
        p->done = true;
        p->error = n == (ssize_t) BACKUP_ALIGN_BYTES ? 0 : n < 0 ? -errno : -EIO;
        abandoned = p->abandoned;
        pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);
        if (abandoned)
                begun_probe_free(p);
        return NULL;
}

/* 1 if the blocking read came back within BEGUN_PROBE_TIMEOUT_MS, 0 if not. */
static int blocking_read_returns(struct sup *s, int fd, off_t off)
{
        struct begun_probe *p;
        pthread_condattr_t ca;
        pthread_attr_t attr;
        pthread_t t;
        struct timespec deadline;
        bool done;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p || posix_memalign(&p->buf, BACKUP_ALIGN_BYTES, BACKUP_ALIGN_BYTES) != 0) {
                free(p);
                close(fd);
                return log_error_errno(ENOMEM, "Out of memory.");
        }
        p->fd = fd;
        p->off = off;
        pthread_mutex_init(&p->lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&p->cond, &ca);
        pthread_condattr_destroy(&ca);
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = -pthread_create(&t, &attr, begun_probe_run, p);
        pthread_attr_destroy(&attr);
        if (r < 0) {
                begun_probe_free(p);
                return log_error_errno(r, "Failed to start a thread: %m");
        }
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += BEGUN_PROBE_TIMEOUT_MS / 1000;
        pthread_mutex_lock(&p->lock);
        while (!p->done && pthread_cond_timedwait(&p->cond, &p->lock, &deadline) == 0)
                ;
        done = p->done;
        r = p->error;
        p->abandoned = !done;
        pthread_mutex_unlock(&p->lock);
        if (!done)
                return 0;
        begun_probe_free(p);
        if (r < 0)
                return log_error_errno(r, "%s: cannot tell whether the reshape has begun (reading %s failed: %m); the reshape stays frozen. Continue it with mdadm --grow --continue %s.",
                                       md_name(s->md), md_devnode(s->md), md_devnode(s->md));
        return 1;
}

/*
 * Whether a frozen reshape with no checkpoint yet has rewritten anything.
 * raid5 holds a request that falls between the kernel's last checkpoint
 * and its front until the next checkpoint (a REQ_NOWAIT one fails with
 * EAGAIN), so a read of the reshape's first block that returns proves the
 * kernel has not begun. A non-blocking read answers at once; its EAGAIN
 * can also mean dirty page cache over that block (a mounted filesystem's
 * superblock), and members without NOWAIT support refuse it, so those
 * are asked again with a blocking read, which either returns or waits for
 * the checkpoint that only the restart brings: not back within
 * BEGUN_PROBE_TIMEOUT_MS counts as begun (every early take-over of a
 * begun kernel waits that long, frozen). Only a read that returned may say
 * "not begun": that answer lets the first unit be backed up from the
 * members' old layout.
 */
static int kernel_has_begun(struct sup *s, bool *ret)
{
        uint64_t origin = geometry_progress_to_position(&s->geo, 0);
        struct iovec iov = { .iov_base = s->bufs[0], .iov_len = BACKUP_ALIGN_BYTES };
        off_t off = s->geo.backwards ? (off_t) (sectors_to_bytes(origin) - BACKUP_ALIGN_BYTES) : 0;
        ssize_t n;
        int fd, r, nowait_errno;

        fd = open(md_devnode(s->md), O_RDONLY | O_DIRECT | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open %s: %m", md_devnode(s->md));
        n = preadv2(fd, &iov, 1, off, RWF_NOWAIT);
        nowait_errno = errno;
        if (n >= 0) {
                close(fd);
                *ret = false;
                return 0;
        }
        if (errno != EAGAIN && errno != EOPNOTSUPP) {
                r = log_error_errno(errno, "%s: cannot tell whether the reshape has begun (a non-blocking read of %s failed: %m); the reshape stays frozen. Continue it with mdadm --grow --continue %s.",
                                    md_name(s->md), md_devnode(s->md), md_devnode(s->md));
                close(fd);
                return r;
        }
        r = blocking_read_returns(s, fd, off);
        if (r < 0)
                return r;
        *ret = r == 0;
        log_debug("%s: a non-blocking read of the reshape's first block failed (%s); a blocking one %s.",
                  md_name(s->md), strerror(nowait_errno), r ? "returned: the kernel has not begun"
                                                     : "did not return: the kernel has begun");
        return 0;
}

/* Backs up the reshape's first unit into slot 0 and keeps it suspended, so
 * that a kernel which has not begun may be let through it. */
static int guard_first_unit(struct sup *s)
{
        struct plan_action a = {
                .kind = PLAN_BACKUP,
                .slot = 0,
                .range = geometry_at_risk(&s->geo, 0, geometry_align_up(&s->geo, 1)),
                .from_progress = 0,
                .progress = geometry_align_up(&s->geo, 1),
        };
        int r;

        r = md_set_suspend(s->md, a.range.lo_array_sectors, a.range.hi_array_sectors);
        if (r < 0)
                return r;
        r = sup_do_backup(s, &a, false);
        if (r < 0)
                return r;
        s->guard = a;
        return 0;
}

/*
 * Waits for a restarted reshape to park and checkpoint its front. After a
 * restart the kernel resumes from the front it keeps in memory, not from
 * the checkpoint: raid5's first request skips to it, notifies it, and,
 * since it is at or past sync_max, writes it to the superblocks and parks.
 * (The notification before is md_do_sync's 0, which says nothing.) A
 * kernel that had not begun works up to sync_max and checkpoints there.
 * Returns 1 if the reshape ended instead.
 */
static int wait_front(struct sup *s, uint64_t limit, uint64_t *ret_front)
{
        uint64_t deadline = sup_now_ms() + FRONT_TIMEOUT_MS;
        uint64_t front = 0, ckpt = 0, pos;
        struct md_sync_completed sc;
        int r;

        for (;;) {
                r = md_get_reshape_position(s->md, &pos);
                if (r < 0)
                        return r;
                if (pos == MD_RESHAPE_POSITION_NONE)
                        return 1;
                r = md_get_sync_completed(s->md, &sc);
                if (r < 0)
                        return r;
                if (!front && sc.state == MD_SYNC_COMPLETED_RUNNING &&
                    sc.completed_dev_sectors >= limit)
                        front = sc.completed_dev_sectors;
                if (front) {
                        r = sup_disk_checkpoint(s, &ckpt);
                        if (r < 0 && r != -ENODATA)
                                return r;
                        if (r == 0 && ckpt >= front) {
                                *ret_front = ckpt;
                                return 0;
                        }
                }
                if (sup_now_ms() > deadline && s->geo.relocates) {
                        /* Nothing is at risk, so the front need not be
                         * durable: pacing goes on from the last report. */
                        log_warning("%s: the restarted reshape did not checkpoint its position in %d s (sync_completed %" PRIu64 ", on disk %" PRIu64 ", sync_max %" PRIu64 "): this raid10 lacks the halfway checkpoint of kernel/patches. Nothing is at risk; pacing goes on.",
                                    md_name(s->md), FRONT_TIMEOUT_MS / 1000,
                                    sc.completed_dev_sectors, ckpt, limit);
                        *ret_front = front > limit ? front : limit;
                        return 0;
                }
                if (sup_now_ms() > deadline)
                        return log_error_errno(ETIMEDOUT, "%s: the restarted reshape did not checkpoint its position in %d s (sync_completed %" PRIu64 ", on disk %" PRIu64 ", sync_max %" PRIu64 ").",
                                               md_name(s->md), FRONT_TIMEOUT_MS / 1000,
                                               sc.completed_dev_sectors, ckpt, limit);
                r = md_wait_sync_completed(s->md, 100, &sc);
                if (r < 0)
                        return r;
        }
}

/*
 * A grow or shrink that mdadm ran may stop anywhere; parked where an old
 * stripe is split, every read of that stripe waits for the kernel to move
 * on, and the first backup would wait for ever. Inside a stretch at risk
 * the kernel is let on to the next park point (what it rewrites meanwhile
 * is counted with the rest of the unprotected run before the take-over).
 */
static int park_aligned(struct sup *s, uint64_t *front)
{
        uint64_t next = geometry_align_up(&s->geo, *front);
        int r;

        if (next == *front || next >= s->geo.end_progress_sectors ||
            geometry_next_at_risk(&s->geo, *front) != geometry_align_down(&s->geo, *front))
                return 0;
        log_notice("%s: the kernel stopped inside an old stripe; letting it on to the stripe's end before taking over.",
                   md_name(s->md));
        r = md_set_sync_max(s->md, next);
        if (r < 0)
                return r;
        return wait_front(s, next, front);
}

/*
 * Makes sync_max a number no larger than the on-disk checkpoint, freezing
 * and restarting the reshape if it had to be lowered, and returns the
 * checkpoint, which is then the kernel's front too. A reshape mdadm
 * started runs with sync_max=max, and whatever it rewrote up to its front
 * was never protected; the restart makes the kernel checkpoint there, so
 * none of it needs a backup any more, and its size is logged. Returns 1 if
 * the reshape ended before it could be taken over.
 */
int sup_establish(struct sup *s, uint64_t *ret_ckpt, bool *ret_frozen)
{
        struct md_sync_completed sc;
        enum md_sync_action action;
        uint64_t sync_max, ckpt, front, limit, pos_start, pos_front;
        bool begun = true;
        char b1[32], distance[64];
        int r;

        r = md_get_sync_action(s->md, &action);
        if (r < 0)
                return r;
        r = md_get_sync_max(s->md, &sync_max);
        if (r < 0)
                return r;
        r = md_get_sync_completed(s->md, &sc);
        if (r < 0)
                return r;

        r = sup_disk_checkpoint(s, &ckpt);
        if (r == -ENODATA) {
                uint64_t pos;

                /* The reshape was set up but its first superblock write is
                 * not done yet: only the very start is acceptable. */
                r = md_get_reshape_position(s->md, &pos);
                if (r < 0)
                        return r;
                if (pos == MD_RESHAPE_POSITION_NONE ||
                    geometry_position_to_progress(&s->geo, pos) != 0)
                        return log_error_errno(EPROTO,
                                               "%s: no reshape recorded in the members' superblocks; is a reshape running? (sync_action=%s)",
                                               md_name(s->md), md_sync_action_to_string(action));
                ckpt = 0;
        } else if (r < 0) {
                return r;
        }

        front = sc.state == MD_SYNC_COMPLETED_RUNNING ? sc.completed_dev_sectors : ckpt;
        if (sync_max != MD_SYNC_MAX_UNLIMITED && sync_max <= ckpt && front <= ckpt) {
                *ret_ckpt = ckpt;
                *ret_frozen = action != MD_SYNC_ACTION_RESHAPE;
                return 0;
        }

        log_notice("%s: sync_max is %s, beyond the durable checkpoint; freezing the reshape to take over.",
                   md_name(s->md), sync_max == MD_SYNC_MAX_UNLIMITED ? "max" : "a number");
        r = freeze(s, &ckpt);
        if (r < 0)
                return r;
        /* A restart with sync_max at 0 makes no request, so reports nothing:
         * before the first checkpoint the limit is one unit, which a kernel
         * that had not begun may then rewrite, from a backup. A relocating
         * reshape (raid10) rewrites nothing it still needs: no backup. */
        limit = ckpt ? ckpt : geometry_align_up(&s->geo, 1);
        if (ckpt == 0 && !s->geo.relocates) {
                r = kernel_has_begun(s, &begun);
                if (r < 0)
                        return r;
                if (!begun) {
                        r = guard_first_unit(s);
                        if (r < 0)
                                return r;
                }
        }
        r = md_set_sync_min(s->md, 0);
        if (r < 0)
                return r;
        r = md_set_sync_max(s->md, limit);
        if (r < 0)
                return r;
        r = md_set_sync_action(s->md, MD_SYNC_ACTION_RESHAPE);
        if (r < 0)
                return r;
        r = wait_front(s, limit, &front);
        if (r != 0)
                return r;
        r = park_aligned(s, &front);
        if (r != 0)
                return r;

        pos_start = geometry_progress_to_position(&s->geo, 0);
        pos_front = geometry_progress_to_position(&s->geo, begun ? front : 0);
        snprintf(distance, sizeof(distance), "RESHAPE_UNPROTECTED_BYTES=%" PRIu64,
                 sectors_to_bytes(pos_start > pos_front ? pos_start - pos_front : pos_front - pos_start));
        if (s->geo.relocates)
                report_event_field(REPORT_MID_TAKEOVER, md_name(s->md), distance,
                             "%s: took over at %.1f%%; before this point the kernel reshaped %s unpaced, which put nothing at risk (the new layout goes to a new data offset). From here on it is paced in windows.",
                             md_name(s->md), 100.0 * (double) front / (double) s->geo.end_progress_sectors,
                             report_bytes(sectors_to_bytes(pos_start > pos_front ? pos_start - pos_front
                                                                                 : pos_front - pos_start),
                                          b1, sizeof(b1)));
        else
                report_event_field(REPORT_MID_TAKEOVER, md_name(s->md), distance,
                             "%s: took over at %.1f%%; before this point the kernel reshaped %s with nothing holding it back. From here on every window is backed up before the kernel may rewrite it.",
                             md_name(s->md), 100.0 * (double) front / (double) s->geo.end_progress_sectors,
                             report_bytes(sectors_to_bytes(pos_start > pos_front ? pos_start - pos_front
                                                                                 : pos_front - pos_start),
                                          b1, sizeof(b1)));
        *ret_ckpt = front;
        *ret_frozen = false;
        return 0;
}
