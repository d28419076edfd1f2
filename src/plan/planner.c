// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>

#include "reshaped/plan/planner.h"

/* Raid5 checkpoints at least every 10 s during a reshape, so silence three
 * times that long with work ahead of the kernel means no halfway updates. */
#define CONTRACT_TIMEOUT_MS   30000
#define LOCKSTEP_INTERVAL_MS  1000
/* Longer than the kernel's own 10 s reshape checkpoint timer: a kernel that
 * says nothing for this long while it has work is parked at the limit. */
#define LOCKSTEP_SILENCE_MS   12000
/* Caps the doubling of the lock-step pacing lead. */
#define LOCKSTEP_MAX_DOUBLINGS 16
/* Tapered windows at the end are no smaller than this part of a section:
 * every window costs a few fixed stores and syncs. */
#define TAPER_MIN_DIVISOR     8

static uint64_t min_u64(uint64_t a, uint64_t b)
{
        return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
        return a > b ? a : b;
}

static bool range_empty(struct array_range r)
{
        return r.hi_array_sectors <= r.lo_array_sectors;
}

static struct array_range range_hull(struct array_range a, struct array_range b)
{
        if (range_empty(a))
                return b;
        if (range_empty(b))
                return a;
        return (struct array_range) {
                min_u64(a.lo_array_sectors, b.lo_array_sectors),
                max_u64(a.hi_array_sectors, b.hi_array_sectors),
        };
}

static bool range_equal(struct array_range a, struct array_range b)
{
        if (range_empty(a) && range_empty(b))
                return true;
        return a.lo_array_sectors == b.lo_array_sectors &&
               a.hi_array_sectors == b.hi_array_sectors;
}

void planner_set_section(struct planner *p, uint64_t section_progress)
{
        uint64_t a = p->geo.park_progress_sectors;

        p->section_progress = max_u64(section_progress - section_progress % a, a);
        if (p->geo.pace_max_progress_sectors && p->section_progress > p->geo.pace_max_progress_sectors)
                p->section_progress = p->geo.pace_max_progress_sectors;
}

int planner_set_max_range(struct planner *p, uint64_t max_range_sectors)
{
        if (max_range_sectors && max_range_sectors < geometry_min_window_array_sectors(&p->geo))
                return -E2BIG;
        p->max_range_sectors = max_range_sectors;
        return 0;
}

/* Whether @r fits a slot: a window that does not is never planned (its
 * read would overrun the buffer), whatever the caller sized. */
static bool fits(const struct planner *p, struct array_range r)
{
        return !p->max_range_sectors || array_range_sectors(r) <= p->max_range_sectors;
}

void planner_init(struct planner *p, const struct reshape_geometry *g,
                  uint64_t checkpoint_progress, uint64_t front_progress,
                  uint64_t section_progress, uint64_t now_ms)
{
        memset(p, 0, sizeof(*p));
        p->geo = *g;
        planner_set_section(p, section_progress);
        p->protected_to = geometry_align_down(g, checkpoint_progress);
        p->sync_max = p->protected_to;
        p->checkpoint = p->protected_to;
        p->completed = max_u64(front_progress, checkpoint_progress);
        p->first_window_min = geometry_align_up(g, p->completed);
        p->last_news_ms = now_ms;
        p->contract_timeout_ms = CONTRACT_TIMEOUT_MS;
        p->lockstep_interval_ms = LOCKSTEP_INTERVAL_MS;
        p->lockstep_silence_ms = LOCKSTEP_SILENCE_MS;
        p->pacing = g->relocates;
        p->pace_from = p->sync_max;
        p->last_raise_ms = p->last_seen_ms = now_ms;
}

void planner_adopt(struct planner *p, const struct plan_action *backup)
{
        planner_applied(p, backup, p->last_news_ms);
        p->suspended = range_hull(p->suspended, backup->range);
        p->sync_max = max_u64(p->sync_max, backup->progress);
}

void planner_observe(struct planner *p, const struct plan_observation *o)
{
        bool news = o->notified;

        if (o->finished) {
                p->finished = true;
                return;
        }
        if (o->completed_progress != p->completed)
                news = true;
        p->completed = o->completed_progress;
        if (o->checkpoint_valid && o->checkpoint_progress > p->checkpoint) {
                /* Short of the limit: a halfway checkpoint (or the
                 * kernel's timer, which the contract timeout tells apart). */
                if (o->checkpoint_progress < p->sync_max)
                        p->halfway_seen = true;
                p->checkpoint = o->checkpoint_progress;
                news = true;
        }
        if (news)
                p->last_news_ms = o->now_ms;
        p->last_seen_ms = o->now_ms;

        /* The contract: with work ahead of it, the kernel checkpoints and
         * notifies at least half way to sync_max. */
        if (!p->lockstep && !p->frozen && !p->released && o->reshaping &&
            p->sync_max > p->completed &&
            o->now_ms - p->last_news_ms >= p->contract_timeout_ms)
                p->lockstep = true;
}

struct array_range planner_held(const struct planner *p)
{
        struct array_range r = {};

        for (unsigned i = 0; i < 2; i++)
                if (p->slot[i].held)
                        r = range_hull(r, p->slot[i].range);
        return r;
}

static int free_slot(const struct planner *p)
{
        for (unsigned i = 0; i < 2; i++)
                if (!p->slot[i].held)
                        return (int) i;
        return -1;
}

/*
 * The array range a window [from, to) must add to the backup. While the
 * kernel is inside it, its on-disk checkpoint can lag as far back as the
 * start of the oldest window still held, so the risk is counted from
 * there, less what the held windows already cover (they are adjacent:
 * above them forwards, below them backwards).
 */
static struct array_range window_range(const struct planner *p, uint64_t base,
                                       uint64_t to, struct array_range held)
{
        struct array_range r = geometry_at_risk(&p->geo, base, to);

        if (range_empty(held))
                return r;
        if (!p->geo.backwards)
                r.lo_array_sectors = max_u64(r.lo_array_sectors, held.hi_array_sectors);
        else
                r.hi_array_sectors = min_u64(r.hi_array_sectors, held.lo_array_sectors);
        if (r.lo_array_sectors > r.hi_array_sectors)
                r.lo_array_sectors = r.hi_array_sectors;
        return r;
}

/* A window's length from @from: the section, but half of what is left
 * near the end. The kernel rewrites the last window after its backup with
 * nothing to overlap, so that one should be small; halving gets there in
 * a few windows. Only for a kernel seen to checkpoint half way: without,
 * every window must outlast its checkpoint timer. */
static uint64_t window_progress(const struct planner *p, uint64_t from)
{
        uint64_t a = p->geo.park_progress_sectors;
        uint64_t least = max_u64(p->section_progress / TAPER_MIN_DIVISOR / a * a, a);
        uint64_t half = (p->geo.end_progress_sectors - from) / 2 / a * a;

        if (!p->halfway_seen || p->lockstep)
                return p->section_progress;
        return min_u64(p->section_progress, max_u64(half, least));
}

/* The next window to back up, or a sync_max raise across a stretch that
 * needs no backup. Returns PLAN_WAIT when nothing is due. @any_slot: as if
 * a slot were free (the window after the next, to read ahead). */
static struct plan_action next_window(const struct planner *p, struct array_range held,
                                      bool any_slot)
{
        const struct reshape_geometry *g = &p->geo;
        uint64_t end = g->end_progress_sectors;
        uint64_t from = p->protected_to, to, risk, base = from;
        struct array_range range;
        int slot = any_slot ? 0 : free_slot(p);

        if (p->released || p->draining || from >= end || slot < 0)
                return (struct plan_action) { .kind = PLAN_WAIT };

        risk = geometry_next_at_risk(g, from);
        if (risk >= end)
                return (struct plan_action) { .kind = PLAN_RELEASE };
        if (risk > from)
                return (struct plan_action) { .kind = PLAN_SET_SYNC_MAX, .progress = risk };

        for (unsigned i = 0; i < 2; i++)
                if (p->slot[i].held)
                        base = min_u64(base, p->slot[i].from_progress);
        /* After a stretch that needed no backup, nothing bounds how far the
         * checkpoint lags; the kernel parks at sync_max and checkpoints
         * there, so wait for that. */
        if (range_empty(held) && p->checkpoint < from)
                return (struct plan_action) { .kind = PLAN_WAIT };
        base = min_u64(base, p->checkpoint);

        /* A window read ahead keeps the extent it was read with. */
        if (p->n_ahead && p->ahead[0].from_progress == from) {
                range = window_range(p, base, p->ahead[0].to_progress, held);
                if (!fits(p, range))
                        return (struct plan_action) { .kind = PLAN_WAIT };
                return (struct plan_action) {
                        .kind = range_empty(range) ? PLAN_SET_SYNC_MAX : PLAN_BACKUP,
                        .slot = (unsigned) slot,
                        .range = range,
                        .from_progress = from,
                        .progress = p->ahead[0].to_progress,
                };
        }

        /* Windows end where the kernel starts to guard itself (a grow's
         * critical section); the stretch after needs none. */
        to = min_u64(max_u64(from + window_progress(p, from), p->first_window_min), end);
        to = min_u64(to, max_u64(geometry_risk_end(g, from), p->first_window_min));
        range = window_range(p, base, to, held);
        /* Shrink the window until its backup fits a slot, but never below
         * the kernel's front (the caller sized the slots for that). */
        while (p->max_range_sectors && array_range_sectors(range) > p->max_range_sectors &&
               to - g->park_progress_sectors > from &&
               to - g->park_progress_sectors >= p->first_window_min) {
                to = geometry_align_down(g, to - 1);
                range = window_range(p, base, to, held);
        }
        /* Everything the kernel may overwrite on the way has been moved
         * already (late in a grow's critical section). */
        if (range_empty(range))
                return (struct plan_action) { .kind = PLAN_SET_SYNC_MAX, .progress = to };
        /* Only the kernel's front can make it: refuse, the kernel stays
         * parked where the backup reaches. */
        if (!fits(p, range))
                return (struct plan_action) { .kind = PLAN_WAIT };
        return (struct plan_action) {
                .kind = PLAN_BACKUP,
                .slot = (unsigned) slot,
                .range = range,
                .from_progress = from,
                .progress = to,
        };
}

/*
 * A window is forgotten only once the on-disk checkpoint is past it, and
 * before its writes are let through again. The newest one is kept even
 * then, until a newer window is durable: mdadm's restore refuses a
 * same-size reshape whose backup holds no section reaching the on-disk
 * position, so after a crash at a window boundary it must find this one
 * (its writes stay suspended, so its content is still the array's).
 * Stopping lets go of everything the kernel is past or cannot enter.
 */
static bool forgettable(const struct planner *p, unsigned i)
{
        const struct plan_slot *s = &p->slot[i], *other = &p->slot[!i];

        if (!s->held)
                return false;
        if (s->to_progress <= p->checkpoint)
                return p->draining || (other->held && other->to_progress > s->to_progress);
        return p->draining && !p->released && s->from_progress >= p->sync_max;
}

/* Lock-step pacing: nothing was heard since the last raise for longer
 * than the kernel's checkpoint timer. */
static bool pace_silent(const struct planner *p)
{
        return p->lockstep &&
               p->last_seen_ms >= max_u64(p->last_news_ms, p->last_raise_ms) + p->lockstep_silence_ms;
}

/* How far ahead of the kernel's last report a lock-step limit stays: two
 * sections (more than its 10 s timer lets it run unreported), doubled for
 * each raise made on silence alone. The doubling is kept after news: a
 * kernel let go after parking reports at once (its timer has run out) and
 * then parks unseen again as soon as it outruns the lead. */
static uint64_t lockstep_lead(const struct planner *p)
{
        unsigned k = p->silent_raises < LOCKSTEP_MAX_DOUBLINGS ? p->silent_raises
                                                               : LOCKSTEP_MAX_DOUBLINGS;

        return (2 * p->section_progress) << k;
}

/* The next sync_max when pacing, or 0 when none is due. */
static uint64_t pace_target(const struct planner *p)
{
        uint64_t front = geometry_align_up(&p->geo, p->completed);
        uint64_t base = max_u64(p->sync_max, front);

        if (p->lockstep) {
                if (pace_silent(p))
                        return base + lockstep_lead(p);
                return front + lockstep_lead(p) > p->sync_max ? front + lockstep_lead(p) : 0;
        }
        /* The first window, and a kernel at or past the limit (it parked,
         * or restarted beyond it). */
        if (p->sync_max == p->pace_from || p->completed >= p->sync_max)
                return base + p->section_progress;
        /* A report from before the last raise (the 0 md_do_sync notifies
         * when it restarts) says nothing about this window. */
        if (p->completed < p->pace_from)
                return 0;
        if ((p->completed - p->pace_from) * 2 >= p->sync_max - p->pace_from)
                return base + p->section_progress;
        return 0;
}

static struct plan_action pace_next(const struct planner *p)
{
        uint64_t to = p->released || p->draining ? 0 : pace_target(p);

        if (to >= p->geo.end_progress_sectors)
                return (struct plan_action) { .kind = PLAN_RELEASE };
        if (to)
                return (struct plan_action) { .kind = PLAN_SET_SYNC_MAX, .progress = to };
        if (p->frozen)
                return (struct plan_action) { .kind = PLAN_RESUME };
        return (struct plan_action) { .kind = PLAN_WAIT };
}

/* The read-ahead due before backup @w: the window after it, unless that
 * needs no backup, is read ahead already, or two windows would then be in
 * memory besides @w's own. PLAN_WAIT when none is. */
static struct plan_action read_ahead_due(const struct planner *p, const struct plan_action *w)
{
        bool w_ahead = p->n_ahead && p->ahead[0].from_progress == w->from_progress;
        struct planner q = *p;
        struct plan_action c;

        if (p->n_ahead > (w_ahead ? 1u : 0u))
                return (struct plan_action) { .kind = PLAN_WAIT };
        planner_applied(&q, w, q.last_seen_ms);
        c = next_window(&q, planner_held(&q), true);
        if (c.kind != PLAN_BACKUP)
                return (struct plan_action) { .kind = PLAN_WAIT };
        c.kind = PLAN_READ_AHEAD;
        c.slot = 0;
        return c;
}

struct plan_action planner_next(const struct planner *p)
{
        struct array_range held, want;
        struct plan_action w, ra = { .kind = PLAN_WAIT };

        if (p->n_ahead && (p->finished || p->draining))
                return (struct plan_action) { .kind = PLAN_CANCEL_READS };
        if (p->finished) {
                for (unsigned i = 0; i < 2; i++)
                        if (p->slot[i].held)
                                return (struct plan_action) { .kind = PLAN_FORGET, .slot = i };
                if (!range_empty(p->suspended))
                        return (struct plan_action) { .kind = PLAN_SUSPEND };
                return (struct plan_action) { .kind = PLAN_DONE };
        }
        if (p->pacing)
                return pace_next(p);

        for (unsigned i = 0; i < 2; i++)
                if (forgettable(p, i))
                        return (struct plan_action) { .kind = PLAN_FORGET, .slot = i };

        held = want = planner_held(p);
        for (unsigned i = 0; i < p->n_ahead; i++)
                want = range_hull(want, p->ahead[i].range);
        w = next_window(p, held, false);
        if (w.kind == PLAN_BACKUP) {
                want = range_hull(want, w.range);
                ra = read_ahead_due(p, &w);
                if (ra.kind == PLAN_READ_AHEAD)
                        want = range_hull(want, ra.range);
        }

        /* Durable windows the kernel may not enter yet come first: that is
         * what keeps it busy. But raise only once the kernel has reached the
         * limit: it checkpoints exactly there, which frees the oldest slot
         * at once and leaves the next backup a whole window of kernel time.
         * A limit raised earlier moves the kernel's next halfway checkpoint
         * far past the oldest window's end, and the refill waits for it.
         * Without halfway checkpoints (lock-step) nothing is gained by
         * waiting. A suspend change due then is made first: every store
         * quiesces the array, which costs nothing while the kernel is
         * parked and drains its whole pipeline once it runs. */
        if (!p->released && !p->draining && p->protected_to > p->sync_max &&
            (p->lockstep || p->checkpoint >= p->sync_max || p->completed >= p->sync_max)) {
                if (p->completed >= p->sync_max && !range_equal(want, p->suspended))
                        return (struct plan_action) { .kind = PLAN_SUSPEND, .range = want };
                /* At the end "max" rather than a number: the kernel never
                 * waits on a limit it cannot pass. */
                if (p->protected_to >= p->geo.end_progress_sectors)
                        return (struct plan_action) { .kind = PLAN_RELEASE };
                return (struct plan_action) {
                        .kind = PLAN_SET_SYNC_MAX,
                        .progress = p->protected_to,
                };
        }

        /* One suspend change both lets go of forgotten windows and covers
         * the next one. A backup is taken only inside the suspended range. */
        if (!range_equal(want, p->suspended))
                return (struct plan_action) { .kind = PLAN_SUSPEND, .range = want };

        /* Reads for the window after start before this one is written. */
        if (ra.kind == PLAN_READ_AHEAD)
                return ra;
        if (w.kind != PLAN_WAIT)
                return w;

        if (p->frozen)
                return (struct plan_action) { .kind = PLAN_RESUME };
        return (struct plan_action) { .kind = PLAN_WAIT };
}

/* A pacing raise starts the next window at the kernel's reported front. */
static void pace_raised(struct planner *p, uint64_t now_ms)
{
        if (!p->pacing)
                return;
        if (pace_silent(p))
                p->silent_raises++;
        p->pace_from = p->completed;
        p->last_raise_ms = now_ms;
}

void planner_applied(struct planner *p, const struct plan_action *a, uint64_t now_ms)
{
        switch (a->kind) {
        case PLAN_SUSPEND:
                p->suspended = a->range;
                break;
        case PLAN_BACKUP:
                p->slot[a->slot] = (struct plan_slot) {
                        .held = true,
                        .from_progress = a->from_progress,
                        .to_progress = a->progress,
                        .range = a->range,
                };
                p->protected_to = a->progress;
                break;
        case PLAN_READ_AHEAD:
                if (p->n_ahead < 2)
                        p->ahead[p->n_ahead++] = (struct plan_read) {
                                .from_progress = a->from_progress,
                                .to_progress = a->progress,
                                .range = a->range,
                        };
                break;
        case PLAN_CANCEL_READS:
                p->n_ahead = 0;
                break;
        case PLAN_SET_SYNC_MAX:
                pace_raised(p, now_ms);
                p->sync_max = a->progress;
                p->protected_to = max_u64(p->protected_to, a->progress);
                break;
        case PLAN_FORGET:
                p->slot[a->slot].held = false;
                break;
        case PLAN_RELEASE:
                pace_raised(p, now_ms);
                p->released = true;
                p->protected_to = p->geo.end_progress_sectors;
                p->sync_max = p->geo.end_progress_sectors;
                break;
        case PLAN_RESUME:
                p->frozen = false;
                p->last_news_ms = now_ms;
                break;
        case PLAN_WAIT:
        case PLAN_DONE:
                break;
        }
        /* A read-ahead is done with once its window is protected. */
        while (p->n_ahead && p->ahead[0].to_progress <= p->protected_to) {
                p->ahead[0] = p->ahead[1];
                p->n_ahead--;
        }
}

void planner_set_draining(struct planner *p, bool draining)
{
        p->draining = draining;
}

void planner_set_frozen(struct planner *p, bool frozen)
{
        p->frozen = frozen;
}

bool planner_backup_releases_other(const struct planner *p, const struct plan_action *a,
                                   uint64_t now_ms)
{
        struct planner q = *p;
        struct plan_action next;

        planner_applied(&q, a, now_ms);
        next = planner_next(&q);
        return next.kind == PLAN_FORGET && next.slot != a->slot;
}

bool planner_keeps_read(const struct planner *p, uint64_t from_progress)
{
        for (unsigned k = 0; k < p->n_ahead; k++)
                if (p->ahead[k].from_progress == from_progress)
                        return true;
        return false;
}

struct plan_status planner_status(const struct planner *p)
{
        return (struct plan_status) {
                .checkpoint = p->checkpoint,
                .completed = p->completed,
                .protected_to = p->protected_to,
                .sync_max = p->sync_max,
                .finished = p->finished,
                .released = p->released,
                .frozen = p->frozen,
                .draining = p->draining,
                .lockstep = p->lockstep,
                .pacing = p->pacing,
                .holds_backup = p->slot[0].held || p->slot[1].held,
                .contract_timeout_ms = p->contract_timeout_ms,
        };
}

uint64_t planner_wait_ms(const struct planner *p, uint64_t now_ms)
{
        uint64_t since, limit;

        if (p->lockstep)
                return p->lockstep_interval_ms;
        since = now_ms - p->last_news_ms;
        limit = p->contract_timeout_ms;
        return since >= limit ? 0 : limit - since;
}

const char *plan_action_name(enum plan_action_kind k)
{
        static const char *const names[] = {
                [PLAN_WAIT] = "wait",
                [PLAN_SUSPEND] = "suspend",
                [PLAN_BACKUP] = "backup",
                [PLAN_SET_SYNC_MAX] = "set-sync-max",
                [PLAN_FORGET] = "forget",
                [PLAN_READ_AHEAD] = "read-ahead",
                [PLAN_CANCEL_READS] = "cancel-reads",
                [PLAN_RELEASE] = "release",
                [PLAN_RESUME] = "resume",
                [PLAN_DONE] = "done",
        };

        return (unsigned) k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}
