// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The planner against tables of states, and against a simulated kernel
 * that follows raid5's rules (one unit at a time, parks at sync_max,
 * checkpoints and notifies half way to it, publishes sync_completed
 * before its superblock write lands). After every action and every kernel
 * step the simulation checks the safety invariants:
 *   - whatever the kernel has destroyed that its on-disk checkpoint still
 *     needs (a rule of its own, from old stripe addresses, not the
 *     planner's geometry_at_risk()) is inside durable backup windows;
 *   - every backup and read-ahead fits its buffer (a slot);
 *   - every durable window is inside the suspended range;
 *   - a window is forgotten only behind the on-disk checkpoint;
 *   - sync_max only rises and stays a multiple of the reshape unit.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "reshaped/plan/planner.h"

struct sim {
        struct reshape_geometry g;
        struct planner p;
        uint64_t pos;          /* kernel front, progress sectors */
        uint64_t completed;    /* curr_resync_completed */
        uint64_t disk_ckpt;    /* reshape_position on disk, as progress */
        uint64_t sync_max;
        bool unlimited;
        bool halfway;          /* the kernel honours the contract */
        bool notified;
        uint64_t now_ms;
        unsigned backups, forgets, raises, stalls;
        unsigned from_memory;  /* backups written from a read-ahead */
        uint64_t last_window;  /* progress the last backup covered */
        unsigned parked_steps; /* steps the kernel found itself at sync_max */
        uint64_t max_lag;      /* most progress a unit ended past disk_ckpt */
        uint64_t max_memory_sectors;
        uint64_t buffer_sectors;  /* a slot, a window buffer (0: unbounded) */
        /* A checkpoint whose superblock write has not landed: the kernel
         * waits for it, sync_completed already shows it. */
        bool sb_pending;
        uint64_t sb_target;
        unsigned sb_lag;          /* kernel steps until it lands */
        unsigned sb_waits;        /* kernel steps spent waiting for one */
};

static struct reshape_geometry geo(int ol, unsigned od, int nl, unsigned nd, uint64_t oc,
                                   uint64_t nc, uint64_t comp_kib, uint64_t array_kib, bool back)
{
        struct geometry_input in = { ol, nl, od, nd, oc, nc, comp_kib, array_kib, back, 0, 0, 0 };
        struct reshape_geometry g;
        const char *why;

        assert_int_equal(geometry_init(&g, &in, &why), 0);
        return g;
}

/* raid10 near-2 on 4 disks, 64K -> 128K, 32 MiB members: 131072 array
 * sectors of progress, nothing at risk. */
static struct reshape_geometry geo_raid10(void)
{
        struct geometry_input in = { 10, 10, 4, 4, 65536, 131072, 32768, 0, false, 0x102, 0x102, 0 };
        struct reshape_geometry g;
        const char *why;

        assert_int_equal(geometry_init(&g, &in, &why), 0);
        assert_true(g.relocates);
        return g;
}

static bool covered(const struct planner *p, struct array_range need)
{
        uint64_t at = need.lo_array_sectors;
        bool moved = true;

        /* Walk forward through the held windows until the need is covered. */
        while (at < need.hi_array_sectors && moved) {
                moved = false;
                for (unsigned i = 0; i < 2; i++) {
                        const struct plan_slot *s = &p->slot[i];

                        if (s->held && s->range.lo_array_sectors <= at &&
                            s->range.hi_array_sectors > at) {
                                at = s->range.hi_array_sectors;
                                moved = true;
                        }
                }
        }
        return at >= need.hi_array_sectors;
}

/* What mdadm's restore needs for a same-size forwards reshape: a held
 * section that reaches the on-disk position (Grow_restart skips sections
 * ending before it and refuses when none is left). */
static bool restorable(const struct sim *s)
{
        uint64_t position = geometry_progress_to_position(&s->g, s->disk_ckpt);

        for (unsigned i = 0; i < 2; i++)
                if (s->p.slot[i].held && s->p.slot[i].range.hi_array_sectors >= position)
                        return true;
        return false;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
        return a < b ? a : b;
}

/* The array position (reshape_position) the kernel's progress counter
 * stands for, as raid5.c keeps conf->reshape_progress: it starts at 0, or
 * at raid5_size() (whole reshape units of the smaller layout) backwards,
 * and moves by one unit of every new data disk per step. */
static uint64_t sim_position(const struct sim *s, uint64_t progress)
{
        const struct reshape_geometry *g = &s->g;
        uint64_t origin = g->end_progress_sectors * min_u64(g->old_data_disks, g->new_data_disks);

        if (!g->backwards)
                return progress * g->new_data_disks;
        return progress * g->new_data_disks >= origin ? 0 : origin - progress * g->new_data_disks;
}

/*
 * What a crash now would lose: the array sectors whose old-layout copy the
 * kernel has overwritten while the superblock on disk still says they are
 * in the old layout (a restart would read them from there). The kernel
 * has rewritten members [0, pos) forwards, [end - pos, end) backwards; an
 * old stripe k (old chunk on every member) holds array sectors
 * [k, k + 1) x old chunk x old data disks. Forwards the superblock calls
 * everything from reshape_position on old, backwards everything below it.
 */
static struct array_range destroyed(const struct sim *s)
{
        const struct reshape_geometry *g = &s->g;
        uint64_t oc = g->old_chunk_sectors, stripe = oc * g->old_data_disks;
        uint64_t end = g->end_progress_sectors, ckpt = sim_position(s, s->disk_ckpt);
        uint64_t first_stripe = g->backwards ? (end - s->pos) / oc : 0;
        uint64_t last_stripe = g->backwards ? end / oc : s->pos / oc;  /* exclusive */
        struct array_range r = { first_stripe * stripe, last_stripe * stripe };

        /* raid10 writes the new layout at a new data offset */
        if (g->relocates)
                return (struct array_range) {};
        if (!g->backwards)
                r.lo_array_sectors = r.lo_array_sectors > ckpt ? r.lo_array_sectors : ckpt;
        else
                r.hi_array_sectors = min_u64(r.hi_array_sectors, ckpt);
        r.hi_array_sectors = min_u64(r.hi_array_sectors, g->array_sectors);
        r.lo_array_sectors = min_u64(r.lo_array_sectors, r.hi_array_sectors);
        return r;
}

static void check_invariants(struct sim *s)
{
        assert_true(covered(&s->p, destroyed(s)));
        /* every window fits the buffer it is read into */
        if (s->buffer_sectors) {
                for (unsigned i = 0; i < 2; i++)
                        if (s->p.slot[i].held)
                                assert_true(array_range_sectors(s->p.slot[i].range) <= s->buffer_sectors);
                for (unsigned i = 0; i < s->p.n_ahead; i++)
                        assert_true(array_range_sectors(s->p.ahead[i].range) <= s->buffer_sectors);
        }
        if (s->g.old_data_disks == s->g.new_data_disks && !s->g.backwards &&
            s->backups > 0 && !s->p.draining && !s->p.finished)
                assert_true(restorable(s));
        for (unsigned i = 0; i < 2; i++)
                if (s->p.slot[i].held)
                        assert_true(array_range_inside(s->p.suspended, s->p.slot[i].range));
        /* what is read ahead cannot change until it is durable */
        for (unsigned i = 0; i < s->p.n_ahead; i++)
                assert_true(array_range_inside(s->p.suspended, s->p.ahead[i].range));
}

static void run_planner(struct sim *s)
{
        for (unsigned guard = 0; guard < 64; guard++) {
                struct plan_action a = planner_next(&s->p);

                switch (a.kind) {
                case PLAN_WAIT:
                case PLAN_DONE:
                        return;
                case PLAN_BACKUP:
                        assert_true(array_range_inside(s->p.suspended, a.range));
                        assert_true(a.from_progress < a.progress);
                        assert_true(array_range_sectors(a.range) > 0);
                        assert_true(!s->buffer_sectors || array_range_sectors(a.range) <= s->buffer_sectors);
                        if (array_range_sectors(a.range) > s->max_memory_sectors)
                                s->max_memory_sectors = array_range_sectors(a.range);
                        if (s->p.n_ahead && s->p.ahead[0].from_progress == a.from_progress) {
                                /* written from what was read ahead */
                                assert_true(array_range_inside(s->p.ahead[0].range, a.range));
                                s->from_memory++;
                        } else {
                                /* a fresh read besides at most one read-ahead */
                                assert_true(s->p.n_ahead <= 1);
                        }
                        s->last_window = a.progress - a.from_progress;
                        s->backups++;
                        break;
                case PLAN_READ_AHEAD:
                        assert_true(array_range_inside(s->p.suspended, a.range));
                        assert_true(array_range_sectors(a.range) > 0);
                        assert_true(a.from_progress >= s->p.protected_to);
                        assert_true(s->p.n_ahead < 2);
                        assert_true(!s->buffer_sectors || array_range_sectors(a.range) <= s->buffer_sectors);
                        if (array_range_sectors(a.range) > s->max_memory_sectors)
                                s->max_memory_sectors = array_range_sectors(a.range);
                        break;
                case PLAN_CANCEL_READS:
                        assert_true(s->p.n_ahead > 0);
                        assert_true(s->p.draining || s->p.finished);
                        break;
                case PLAN_FORGET:
                        assert_true(s->p.slot[a.slot].held);
                        assert_true(s->p.finished || s->p.slot[a.slot].to_progress <= s->disk_ckpt);
                        s->forgets++;
                        break;
                case PLAN_SET_SYNC_MAX:
                        assert_false(s->unlimited);
                        assert_true(a.progress > s->sync_max);
                        assert_int_equal((s->g.backwards ? s->g.end_progress_sectors - a.progress
                                                         : a.progress) % s->g.park_progress_sectors, 0);
                        assert_true(a.progress < s->g.end_progress_sectors);
                        s->sync_max = a.progress;
                        s->raises++;
                        break;
                case PLAN_RELEASE:
                        s->unlimited = true;
                        break;
                case PLAN_SUSPEND:
                case PLAN_RESUME:
                        break;
                }
                planner_applied(&s->p, &a, s->now_ms);
                check_invariants(s);
        }
        fail_msg("planner did not settle");
}

/* raid5.c reshape_request's test for a checkpoint before the next unit,
 * written out here from the kernel source (min_offset_diff is 0 in
 * place): 'writepos' is the furthest member address the unit may write,
 * 'readpos' the nearest it may read old data from, 'safepos' the nearest
 * old data the superblock (reshape_safe, set once its write landed) may
 * still point to. */
static bool kernel_must_checkpoint(const struct sim *s)
{
        uint64_t u = s->g.unit_progress_sectors;
        uint64_t progress = sim_position(s, s->pos), safe = sim_position(s, s->disk_ckpt);
        uint64_t writepos = progress / s->g.new_data_disks;
        uint64_t readpos = progress / s->g.old_data_disks;
        uint64_t safepos = safe / s->g.old_data_disks;

        if (!s->g.backwards) {
                writepos += u;
                readpos -= min_u64(u, readpos);
                safepos -= min_u64(u, safepos);
                return safepos < writepos && readpos > writepos;
        }
        if (writepos < u)
                return false;
        writepos -= u;
        readpos += u;
        safepos += u;
        return safepos > writepos && readpos < writepos;
}

/* A checkpoint: sync_completed moves at once, the superblock's write takes
 * 0..2 kernel steps, during which the kernel waits; then it notifies. */
static void kernel_checkpoint(struct sim *s)
{
        s->completed = s->pos;
        s->sb_pending = true;
        s->sb_target = s->pos;
        s->sb_lag = (unsigned) rand() % 3;
}

static bool sb_landed(struct sim *s)
{
        if (!s->sb_pending)
                return true;
        if (s->sb_lag) {
                s->sb_lag--;
                s->sb_waits++;
                return false;
        }
        s->sb_pending = false;
        s->disk_ckpt = s->sb_target;
        s->notified = true;
        check_invariants(s);
        return true;
}

/* One unit of kernel work, by raid5.c reshape_request's rules. */
static bool kernel_step(struct sim *s)
{
        uint64_t end = s->g.end_progress_sectors;
        uint64_t limit = s->unlimited ? end : s->sync_max;

        if (!sb_landed(s))
                return false;
        if (s->pos < end && s->pos >= limit)
                s->parked_steps++;
        if (s->pos >= end || s->pos >= limit)
                return false;
        /* Before the unit: the kernel's own safety checkpoint. Before it
         * applies (a grow's start, a shrink's end) the backup must do. */
        if (kernel_must_checkpoint(s)) {
                kernel_checkpoint(s);
                if (!sb_landed(s))
                        return false;
        }
        s->pos += s->g.unit_progress_sectors;
        if (s->pos - s->disk_ckpt > s->max_lag)
                s->max_lag = s->pos - s->disk_ckpt;
        check_invariants(s);
        /* After it: the halfway rule. */
        if (s->halfway && !s->unlimited &&
            (s->completed > limit || (s->pos - s->completed) * 2 >= limit - s->completed))
                kernel_checkpoint(s);
        return true;
}

static void observe(struct sim *s)
{
        struct plan_observation o = {
                .notified = s->notified,
                .reshaping = s->pos < s->g.end_progress_sectors,
                .finished = s->pos >= s->g.end_progress_sectors,
                .completed_progress = s->completed,
                .checkpoint_valid = true,
                .checkpoint_progress = s->disk_ckpt,
                .now_ms = s->now_ms,
        };

        s->notified = false;
        planner_observe(&s->p, &o);
}

/* Runs a whole reshape; the kernel makes 1..burst units of progress
 * between observations. Returns the number of observations. */
static unsigned simulate(struct sim *s, uint64_t section, unsigned burst, unsigned seed)
{
        unsigned rounds = 0;

        srand(seed);
        planner_init(&s->p, &s->g, s->disk_ckpt, s->pos, section, 0);
        assert_int_equal(planner_set_max_range(&s->p, s->buffer_sectors), 0);
        s->sync_max = s->p.sync_max;
        while (!s->p.finished) {
                unsigned n = 1 + (unsigned) rand() % burst, sb_waits = s->sb_waits;
                bool moved = false;

                run_planner(s);
                for (unsigned i = 0; i < n; i++)
                        moved |= kernel_step(s);
                /* waiting on its own superblock write is not a stall */
                if (!moved && s->pos < s->g.end_progress_sectors && s->sb_waits == sb_waits)
                        s->stalls++;
                s->now_ms += 100;
                if (s->pos >= s->g.end_progress_sectors) {
                        s->disk_ckpt = s->completed = s->pos;
                        s->sb_pending = false;
                }
                observe(s);
                assert_true(++rounds < 1000000);
        }
        run_planner(s);
        assert_int_equal(planner_next(&s->p).kind, PLAN_DONE);
        assert_false(s->p.slot[0].held || s->p.slot[1].held);
        assert_int_equal(s->p.n_ahead, 0);
        assert_int_equal(array_range_sectors(s->p.suspended), 0);
        return rounds;
}

/* Runs the reshape 8 times, with windows of @section progress into
 * buffers of @buffer array sectors (0: as the supervisor sizes them, the
 * section or the geometry's smallest window, whichever is larger). */
static void sim_run(struct reshape_geometry g, uint64_t section, uint64_t buffer,
                    bool expect_backups_all_way)
{
        if (!buffer) {
                buffer = section * g.old_data_disks;
                if (buffer < geometry_min_window_array_sectors(&g))
                        buffer = geometry_min_window_array_sectors(&g);
        }
        for (unsigned seed = 1; seed <= 8; seed++) {
                struct sim s = { .g = g, .halfway = true, .buffer_sectors = buffer };
                unsigned burst = seed % 2 ? 3 : 40;

                simulate(&s, section, burst, seed);
                assert_true(s.backups > 0);
                /* memory bound: a window never exceeds its buffer */
                assert_true(s.max_memory_sectors <= buffer);
                /* a halfway kernel gets short windows at the end */
                if (expect_backups_all_way) {
                        assert_true(s.backups >= g.end_progress_sectors / section);
                        assert_true(s.last_window <= section / 4);
                }
                /* every backup but the first few is written from memory */
                if (s.backups > 4)
                        assert_true(s.from_memory + 2 >= s.backups);
        }
}

static void sim_case(struct reshape_geometry g, uint64_t section, bool expect_backups_all_way)
{
        sim_run(g, section, 0, expect_backups_all_way);
}

static void test_sim_same_size_forwards(void **state)
{
        (void) state;
        /* raid5 4 x 64 MiB, 64K -> 128K, 4 MiB windows per member */
        sim_case(geo(5, 4, 5, 4, 65536, 131072, 65536, 0, false), 8192, true);
        /* window not a multiple of the unit: rounded */
        sim_case(geo(5, 4, 5, 4, 65536, 131072, 65536, 0, false), 8192 + 100, false);
        /* members not a multiple of the window: last window short */
        sim_case(geo(5, 4, 5, 4, 65536, 65536, 65000, 0, false), 8192, false);
        /* raid5 -> raid6 */
        sim_case(geo(5, 4, 6, 5, 65536, 65536, 65536, 0, false), 4096, true);
}

static void test_sim_same_size_backwards(void **state)
{
        (void) state;
        sim_case(geo(5, 4, 5, 4, 131072, 65536, 65536, 0, true), 8192, true);
}

static void test_sim_grow(void **state)
{
        struct reshape_geometry g = geo(5, 3, 5, 4, 524288, 524288, 65536, 0, false);

        (void) state;
        sim_case(g, 4096, false);
        /* only the critical section is backed up, then sync_max is released */
        struct sim s = { .g = g, .halfway = true };
        simulate(&s, 4096, 4, 7);
        assert_true(s.backups <= 2);
        assert_true(s.unlimited);
}

static void test_sim_shrink(void **state)
{
        struct reshape_geometry g = geo(5, 5, 5, 4, 524288, 524288, 65536, 65536 * 3, true);
        struct sim s = { .g = g, .halfway = true };

        (void) state;
        sim_case(g, 4096, false);
        simulate(&s, 4096, 4, 3);
        /* the start of the run needs no backup: one raise, then backups at
         * the end only */
        assert_true(s.backups >= 1 && s.backups <= 3);
}

static void test_sim_wide(void **state)
{
        const uint64_t M = 1 << 20;

        (void) state;
        /* raid5 14 -> 15 disks, 512K chunks: one park point is 84.5 MiB of
         * the array, more than a 64M window; windows of two park points
         * into buffers of one (the planner must clip them) */
        sim_run(geo(5, 14, 5, 15, 512 * 1024, 512 * 1024, 65536, 0, false), 2 * 13 * 1024,
                13 * 13 * 1024, false);
        sim_run(geo(5, 14, 5, 15, 512 * 1024, 512 * 1024, 65536, 0, false), 64 * M / 512 / 13, 0,
                false);
        /* raid6 18 -> 19 disks (16 -> 17 data), 64M chunks */
        sim_run(geo(6, 18, 6, 19, 64 * M, 64 * M, 16 * 1048576, 0, false), 131072 * 16, 0, false);
        /* shrinks: raid5 17 -> 16 disks, 512K, and raid6 18 -> 17, 4M -> 1M */
        sim_run(geo(5, 17, 5, 16, 512 * 1024, 512 * 1024, 65536, 15 * 65536, true), 2 * 16 * 1024,
                16 * 16 * 1024, false);
        sim_run(geo(6, 18, 6, 17, 4 * M, M, 262144, 15 * 262144, true), 8192 * 16, 0, false);
        /* same size, huge chunks: 16 -> 32 MiB on 6 data disks (192 MiB a
         * step), 32 -> 64 MiB on 16 data disks, both directions */
        sim_run(geo(5, 7, 5, 7, 16 * M, 32 * M, 1048576, 0, false), 2 * 65536, 6 * 65536, false);
        sim_run(geo(5, 7, 5, 7, 32 * M, 16 * M, 1048576, 0, true), 2 * 65536, 6 * 65536, false);
        sim_run(geo(6, 18, 6, 18, 32 * M, 64 * M, 4194304, 0, false), 131072, 0, false);
        sim_run(geo(5, 17, 5, 17, 64 * M, 32 * M, 4194304, 0, true), 2 * 131072, 16 * 131072, false);
}

static void test_takeover_unprotected_front(void **state)
{
        /* Taken over at checkpoint 0 with the kernel already at 10000: the
         * first window must cover everything it rewrote. */
        struct sim s = { .g = geo(5, 4, 5, 4, 65536, 131072, 65536, 0, false), .halfway = true };
        struct plan_action a;

        (void) state;
        s.pos = 10240;
        planner_init(&s.p, &s.g, 0, s.pos, 4096, 0);
        planner_set_frozen(&s.p, true);
        a = planner_next(&s.p);
        assert_int_equal(a.kind, PLAN_SUSPEND);
        planner_applied(&s.p, &a, 0);
        a = planner_next(&s.p);
        assert_int_equal(a.kind, PLAN_READ_AHEAD);
        planner_applied(&s.p, &a, 0);
        a = planner_next(&s.p);
        assert_int_equal(a.kind, PLAN_BACKUP);
        assert_int_equal(a.from_progress, 0);
        assert_true(a.progress >= 10240);
        assert_int_equal(a.range.lo_array_sectors, 0);
        assert_true(a.range.hi_array_sectors >= 10240 * 3);
        planner_applied(&s.p, &a, 0);
        /* the next window is suspended while the kernel is still held */
        a = planner_next(&s.p);
        assert_int_equal(a.kind, PLAN_SUSPEND);
        planner_applied(&s.p, &a, 0);
        assert_int_equal(planner_next(&s.p).kind, PLAN_SET_SYNC_MAX);
        /* afterwards a full simulation from there stays safe */
        s.sync_max = 0;
        while (planner_next(&s.p).kind != PLAN_WAIT)
                run_planner(&s);
        assert_false(s.p.frozen);
}

static void test_contract_fallback(void **state)
{
        struct sim s = { .g = geo(5, 4, 5, 4, 65536, 131072, 65536, 0, false), .halfway = false };
        struct plan_observation o = { .reshaping = true, .checkpoint_valid = true };

        (void) state;
        planner_init(&s.p, &s.g, 0, 0, 4096, 1000);
        s.sync_max = 0;
        run_planner(&s);
        assert_true(s.p.sync_max > 0);
        assert_int_equal(planner_wait_ms(&s.p, 1000), 30000);

        /* silence shorter than the timeout: still trusting the contract */
        o.now_ms = 1000 + 29999;
        planner_observe(&s.p, &o);
        assert_false(s.p.lockstep);
        assert_int_equal(planner_wait_ms(&s.p, o.now_ms), 1);

        /* the kernel has work and said nothing for 30 s: fall back */
        o.now_ms = 1000 + 30000;
        planner_observe(&s.p, &o);
        assert_true(s.p.lockstep);
        assert_int_equal(planner_wait_ms(&s.p, o.now_ms), s.p.lockstep_interval_ms);

        /* parked at sync_max with nothing to do is not a breach */
        planner_init(&s.p, &s.g, 0, 0, 4096, 0);
        s.sync_max = 0;
        s.backups = 0;
        run_planner(&s);
        o.completed_progress = s.p.sync_max;
        o.checkpoint_progress = s.p.sync_max;
        o.now_ms = 0;
        planner_observe(&s.p, &o);
        o.now_ms = 100000;
        planner_observe(&s.p, &o);
        assert_false(s.p.lockstep);
}

static void test_sim_lockstep_kernel_completes(void **state)
{
        /* A kernel without halfway updates that checkpoints only on its own
         * timer (every 8 units of work here, one window) still gets through,
         * safely: the supervisor sizes windows to the timer in lock-step. */
        struct sim s = { .g = geo(5, 4, 5, 4, 65536, 131072, 16384, 0, false), .halfway = false };
        unsigned steps = 0;

        (void) state;
        planner_init(&s.p, &s.g, 0, 0, 2048, 0);
        s.sync_max = 0;
        while (!s.p.finished) {
                run_planner(&s);
                if (kernel_step(&s) && ++steps % 8 == 0) {
                        s.completed = s.disk_ckpt = s.pos;
                }
                if (s.pos >= s.g.end_progress_sectors)
                        s.completed = s.disk_ckpt = s.pos;
                s.now_ms += 1000;
                observe(&s);
                assert_true(steps < 100000);
        }
        run_planner(&s);
        assert_int_equal(planner_next(&s.p).kind, PLAN_DONE);
}

/* Feeds one observation of a running reshape. */
static void observe_completed(struct planner *p, uint64_t completed, uint64_t now_ms)
{
        struct plan_observation o = { .notified = true, .reshaping = true,
                                      .completed_progress = completed,
                                      .checkpoint_valid = true, .checkpoint_progress = completed,
                                      .now_ms = now_ms };

        planner_observe(p, &o);
}

static void expect_raise(struct planner *p, uint64_t to)
{
        struct plan_action a = planner_next(p);

        assert_int_equal(a.kind, PLAN_SET_SYNC_MAX);
        assert_int_equal(a.progress, to);
        planner_applied(p, &a, 0);
        assert_int_equal(planner_next(p).kind, PLAN_WAIT);
}

static void test_pace_table(void **state)
{
        /* Windows of 8192: each raise comes at the kernel's first report
         * half way from where it was at the last raise to the limit, and
         * adds one section past the limit; never a backup or a suspend. */
        struct reshape_geometry g = geo_raid10();
        static const struct { uint64_t completed, raise_to; } t[] = {
                { 4096, 16384 },   /* half way through the first window */
                { 10240, 24576 },  /* 4096 + (16384 - 4096) / 2 */
                { 12000, 0 },      /* the kernel's 10 s checkpoint: not half way */
                { 17408, 32768 },  /* 10240 + (24576 - 10240) / 2 */
                { 0, 0 },          /* md_do_sync's 0 after a restart */
                { 32768, 40960 },  /* parked at the limit: at once */
                { 50000, 58240 },  /* restarted beyond it: from its front (50048) */
                { 54000, 0 },
                { 54120, 66432 },  /* 50000 + (58240 - 50000) / 2 */
        };
        struct planner p;
        struct plan_action a;

        (void) state;
        planner_init(&p, &g, 0, 0, 8192, 0);
        assert_true(p.pacing);
        expect_raise(&p, 8192);
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                observe_completed(&p, t[i].completed, 1000 * (i + 1));
                if (t[i].raise_to)
                        expect_raise(&p, t[i].raise_to);
                else
                        assert_int_equal(planner_next(&p).kind, PLAN_WAIT);
        }
        assert_false(p.lockstep);

        /* The last window is "max", then the end: nothing to forget. */
        observe_completed(&p, 115000, 20000);
        a = planner_next(&p);
        assert_int_equal(a.kind, PLAN_SET_SYNC_MAX);
        planner_applied(&p, &a, 20000);
        observe_completed(&p, a.progress, 21000);
        assert_int_equal(planner_next(&p).kind, PLAN_RELEASE);
        a = planner_next(&p);
        planner_applied(&p, &a, 21000);
        assert_true(p.released);
        assert_int_equal(planner_next(&p).kind, PLAN_WAIT);
        planner_observe(&p, &(struct plan_observation) { .finished = true, .now_ms = 22000 });
        assert_int_equal(planner_next(&p).kind, PLAN_DONE);

        /* Frozen at the take-over: the limit first, then the restart. */
        planner_init(&p, &g, 16384, 16384, 8192, 0);
        planner_set_frozen(&p, true);
        a = planner_next(&p);
        assert_int_equal(a.kind, PLAN_SET_SYNC_MAX);
        assert_int_equal(a.progress, 24576);
        planner_applied(&p, &a, 0);
        a = planner_next(&p);
        assert_int_equal(a.kind, PLAN_RESUME);
        planner_applied(&p, &a, 0);
        assert_int_equal(planner_next(&p).kind, PLAN_WAIT);

        /* Stopping: no more raises. */
        observe_completed(&p, 24576, 1000);
        planner_set_draining(&p, true);
        assert_int_equal(planner_next(&p).kind, PLAN_WAIT);
}

static void test_sim_paced(void **state)
{
        /* The simulated kernel with the halfway rule runs a paced raid10
         * reshape to the end: no backups, a raise per window, and the
         * kernel never waits at the limit although it may run 40 units
         * between two looks of the supervisor. */
        struct reshape_geometry g = geo_raid10();

        (void) state;
        for (unsigned seed = 1; seed <= 8; seed++) {
                struct sim s = { .g = g, .halfway = true };
                unsigned burst = seed % 2 ? 3 : 40;

                simulate(&s, 8192, burst, seed);
                assert_int_equal(s.backups, 0);
                assert_int_equal(array_range_sectors(s.p.suspended), 0);
                assert_true(s.raises >= g.end_progress_sectors / 8192 - 2);
                assert_int_equal(s.stalls, 0);
                assert_int_equal(s.parked_steps, 0);
                assert_true(s.unlimited);
                assert_false(s.p.lockstep);
        }
}

static void test_sim_offset_live(void **state)
{
        /* raid5 4 disks, 64K -> 128K, data_offset down d = 1792 sectors on
         * a running array: the kernel checkpoints as in place (the sim's
         * rule, min_offset_diff 0 until a restart), so a unit [p, p + u)
         * lands on old data a restart from the checkpoint c reads again
         * unless p + u - c <= d. Paced, the window is capped to d - 2u
         * whatever the section asked, and that holds to the end. */
        struct geometry_input in = { 5, 5, 4, 4, 65536, 131072, 130048, 0, false, 0, 0, -1792 };
        struct reshape_geometry g;
        const char *why;

        (void) state;
        assert_int_equal(geometry_init(&g, &in, &why), 0);
        assert_true(g.relocates);
        for (unsigned seed = 1; seed <= 8; seed++) {
                struct sim s = { .g = g, .halfway = true };

                simulate(&s, 65536, seed % 2 ? 3 : 40, seed);
                assert_true(s.max_lag <= 1792);
                assert_int_equal(s.p.section_progress, 1280);
                assert_int_equal(s.backups, 0);
                assert_true(s.raises >= g.end_progress_sectors / 1280 - 2);
        }
}

static void test_sim_paced_fallback(void **state)
{
        /* Stock raid10: no halfway rule; it parks at the limit unannounced
         * and checkpoints only on its own 10 s timer (here 100 units of
         * work at 100 ms each). The contract timeout switches to lock-step
         * pacing, and the reshape still ends. */
        struct sim s = { .g = geo_raid10(), .halfway = false };
        unsigned work = 0, rounds = 0;
        uint64_t lockstep_at = 0;

        (void) state;
        planner_init(&s.p, &s.g, 0, 0, 8192, 0);
        s.sync_max = 0;
        while (!s.p.finished) {
                run_planner(&s);
                if (kernel_step(&s) && ++work % 100 == 0)
                        s.completed = s.disk_ckpt = s.pos;
                if (s.pos >= s.g.end_progress_sectors)
                        s.completed = s.disk_ckpt = s.pos;
                s.now_ms += 100;
                observe(&s);
                if (s.p.lockstep && !lockstep_at)
                        lockstep_at = s.now_ms;
                assert_true(++rounds < 100000);
        }
        run_planner(&s);
        assert_int_equal(planner_next(&s.p).kind, PLAN_DONE);
        assert_int_equal(s.backups, 0);
        /* the first window (64 units) took 6.4 s, then 30 s of silence */
        assert_true(lockstep_at >= 30000 && lockstep_at <= 37000);
        assert_int_equal(planner_wait_ms(&s.p, s.now_ms), s.p.lockstep_interval_ms);
        assert_true(s.raises >= 3);
        assert_true(s.unlimited);
        /* 1024 units of work take 102.4 s; lock-step pacing may hold the
         * kernel a while, but not for long */
        assert_true(s.now_ms < 102400 + 30000 + 4 * 12000 + 10000);
}

/* An expected action. Ranges are checked for suspends, backups and
 * read-aheads, the slot for backups and forgets, the progress for
 * backups, read-aheads and raises. */
struct want {
        enum plan_action_kind kind;
        uint64_t lo, hi, progress;
        unsigned slot;
};

/* Takes the planner's next actions, checks each against @want and applies
 * it. */
static void expect_actions(struct planner *p, const struct want *want, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                struct plan_action a = planner_next(p);
                enum plan_action_kind k = want[i].kind;

                assert_int_equal(a.kind, k);
                if (k == PLAN_SUSPEND || k == PLAN_BACKUP || k == PLAN_READ_AHEAD) {
                        assert_int_equal(a.range.lo_array_sectors, want[i].lo);
                        assert_int_equal(a.range.hi_array_sectors, want[i].hi);
                }
                if (k == PLAN_BACKUP || k == PLAN_FORGET)
                        assert_int_equal(a.slot, want[i].slot);
                if (k == PLAN_BACKUP || k == PLAN_READ_AHEAD || k == PLAN_SET_SYNC_MAX)
                        assert_int_equal(a.progress, want[i].progress);
                planner_applied(p, &a, 0);
        }
}

#define EXPECT(p, ...) do { \
                const struct want w_[] = { __VA_ARGS__ }; \
                expect_actions(p, w_, sizeof(w_) / sizeof(w_[0])); \
        } while (0)

/* raid5 4 x 64 MiB, 64K -> 128K, windows of 4096 progress sectors: window
 * k is array sectors [12288k, 12288(k+1)). */
#define W(k) (12288 * (k))

/* Runs the planner from a fresh start to its first wait: window 0 durable
 * under the kernel, window 1 durable beyond it, window 2 read ahead. */
static void first_steps(struct planner *p, const struct reshape_geometry *g)
{
        planner_init(p, g, 0, 0, 4096, 0);
        EXPECT(p,
               /* window 0 is read now, window 1 ahead of its backup */
               { PLAN_SUSPEND, 0, W(2), 0, 0 },
               { PLAN_READ_AHEAD, W(1), W(2), 8192, 0 },
               { PLAN_BACKUP, 0, W(1), 4096, 0 },
               /* while the kernel still waits (a store is cheap then) the
                * suspend grows over window 2, and the limit rises */
               { PLAN_SUSPEND, 0, W(3), 0, 0 },
               { PLAN_SET_SYNC_MAX, 0, 0, 4096, 0 },
               { PLAN_READ_AHEAD, W(2), W(3), 12288, 0 },
               { PLAN_BACKUP, W(1), W(2), 8192, 1 },
               /* the kernel has not reached 4096 yet: keep the limit */
               { PLAN_WAIT, 0, 0, 0, 0 });
}

static void test_table_wide(void **state)
{
        /* raid5 14 -> 15 disks, 512K chunks, the default 64M window: the
         * kernel can be held every 13 units (13312 per member), and such a
         * window holds 13 x 13312 = 173056 array sectors (84.5 MiB). A
         * 64M slot is refused; with 84.5M slots every backup and
         * read-ahead is one park point, and fits. */
        struct reshape_geometry g = geo(5, 14, 5, 15, 512 * 1024, 512 * 1024, 1048576, 0, false);
        const uint64_t park = 13312, slot = 173056;
        struct planner p;

        (void) state;
        planner_init(&p, &g, 0, 0, (64 << 20) / 512 / 13, 0);
        assert_int_equal(p.section_progress, park);
        assert_int_equal(planner_set_max_range(&p, (64 << 20) / 512), -E2BIG);
        assert_int_equal(planner_set_max_range(&p, slot), 0);
        EXPECT(&p,
               { PLAN_SUSPEND, 0, 2 * slot, 0, 0 },
               { PLAN_READ_AHEAD, slot, 2 * slot, 2 * park, 0 },
               { PLAN_BACKUP, 0, slot, park, 0 },
               { PLAN_SUSPEND, 0, 3 * slot, 0, 0 },
               { PLAN_SET_SYNC_MAX, 0, 0, park, 0 },
               { PLAN_READ_AHEAD, 2 * slot, 3 * slot, 3 * park, 0 },
               { PLAN_BACKUP, slot, 2 * slot, 2 * park, 1 },
               { PLAN_WAIT, 0, 0, 0, 0 });

        /* a larger section is clipped to the slot, not planned past it */
        planner_init(&p, &g, 0, 0, 4 * park, 0);
        assert_int_equal(planner_set_max_range(&p, slot), 0);
        EXPECT(&p,
               { PLAN_SUSPEND, 0, 2 * slot, 0, 0 },
               { PLAN_READ_AHEAD, slot, 2 * slot, 2 * park, 0 },
               { PLAN_BACKUP, 0, slot, park, 0 });

        /* a taken-over front beyond what one slot covers: refused, the
         * kernel stays where it is */
        planner_init(&p, &g, 0, park + 1024, park, 0);
        assert_int_equal(planner_set_max_range(&p, slot), 0);
        assert_int_equal(planner_next(&p).kind, PLAN_WAIT);
}

static void test_table_huge_chunks(void **state)
{
        /* raid5 on 7 disks (6 data), chunk 16 -> 32 MiB: one unit is
         * 65536 sectors per member, 393216 array sectors (192 MiB) a
         * window at the least; the default 64M slot is refused. */
        struct reshape_geometry g = geo(5, 7, 5, 7, 16 << 20, 32 << 20, 4194304, 0, false);
        const uint64_t u = 65536, slot = 6 * u;
        struct planner p;

        (void) state;
        assert_int_equal(g.park_progress_sectors, u);
        planner_init(&p, &g, 0, 0, (64 << 20) / 512 / 6, 0);
        assert_int_equal(p.section_progress, u);
        assert_int_equal(planner_set_max_range(&p, (64 << 20) / 512), -E2BIG);
        assert_int_equal(planner_set_max_range(&p, slot), 0);
        EXPECT(&p,
               { PLAN_SUSPEND, 0, 2 * slot, 0, 0 },
               { PLAN_READ_AHEAD, slot, 2 * slot, 2 * u, 0 },
               { PLAN_BACKUP, 0, slot, u, 0 },
               { PLAN_SUSPEND, 0, 3 * slot, 0, 0 },
               { PLAN_SET_SYNC_MAX, 0, 0, u, 0 },
               { PLAN_READ_AHEAD, 2 * slot, 3 * slot, 3 * u, 0 },
               { PLAN_BACKUP, slot, 2 * slot, 2 * u, 1 },
               { PLAN_WAIT, 0, 0, 0, 0 });
}

static void test_end_sequence(void **state)
{
        struct sim s = { .g = geo(5, 4, 5, 4, 65536, 131072, 65536, 0, false), .halfway = true };
        struct plan_observation o = { .finished = true };

        (void) state;
        planner_init(&s.p, &s.g, 0, 0, 4096, 0);
        run_planner(&s);
        assert_true(s.p.slot[0].held);
        assert_int_equal(s.p.n_ahead, 1);
        planner_observe(&s.p, &o);
        /* drop the read-ahead, forget every window, then let writes through */
        EXPECT(&s.p, { PLAN_CANCEL_READS, 0, 0, 0, 0 }, { PLAN_FORGET, 0, 0, 0, 0 },
               { PLAN_FORGET, 0, 0, 0, 1 }, { PLAN_SUSPEND, 0, 0, 0, 0 }, { PLAN_DONE, 0, 0, 0, 0 });
}

static void test_table_first_steps(void **state)
{
        struct reshape_geometry g = geo(5, 4, 5, 4, 65536, 131072, 65536, 0, false);
        struct plan_observation o = { .notified = true, .reshaping = true,
                .completed_progress = 4096, .checkpoint_valid = true, .checkpoint_progress = 4096 };
        struct planner p;

        (void) state;
        first_steps(&p, &g);
        /* the kernel parks at 4096 and checkpoints there: window 0 is
         * forgotten, one suspend change drops it and covers window 3 while
         * the kernel is still parked, the limit rises over window 1, window
         * 3 is read ahead and window 2 written from memory */
        planner_observe(&p, &o);
        EXPECT(&p,
               { PLAN_FORGET, 0, 0, 0, 0 },
               { PLAN_SUSPEND, W(1), W(4), 0, 0 },
               { PLAN_SET_SYNC_MAX, 0, 0, 8192, 0 },
               { PLAN_READ_AHEAD, W(3), W(4), 16384, 0 },
               { PLAN_BACKUP, W(2), W(3), 12288, 0 },
               { PLAN_WAIT, 0, 0, 0, 0 });

        /* sync_completed alone (no on-disk checkpoint) frees nothing: the
         * kernel reached the limit, so it may go on over the durable window
         * 1, but window 0 stays held: both slots full, then wait */
        first_steps(&p, &g);
        o.checkpoint_valid = false;
        planner_observe(&p, &o);
        EXPECT(&p, { PLAN_SET_SYNC_MAX, 0, 0, 8192, 0 }, { PLAN_WAIT, 0, 0, 0, 0 });
        assert_true(p.slot[0].held && p.slot[1].held);
}

static void test_taper(void **state)
{
        /* Near the end windows halve what is left, down to an eighth of a
         * section: 32768 progress sectors left, sections of 8192. */
        struct reshape_geometry g = geo(5, 4, 5, 4, 65536, 131072, 65536, 0, false);
        uint64_t end = g.end_progress_sectors, at = end - 32768;
        static const uint64_t lengths[] = { 8192, 8192, 8192, 4096, 2048, 1024, 1024 };
        struct planner p;

        (void) state;
        planner_init(&p, &g, at, at, 8192, 0);
        p.halfway_seen = true;
        for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
                struct plan_action a = { .kind = PLAN_SUSPEND };

                /* as if every window went through at once */
                p.checkpoint = p.completed = p.sync_max = p.protected_to = at;
                p.slot[0].held = p.slot[1].held = false;
                p.n_ahead = 0;
                p.suspended = (struct array_range) {};
                while (a.kind == PLAN_SUSPEND || a.kind == PLAN_READ_AHEAD) {
                        a = planner_next(&p);
                        planner_applied(&p, &a, 0);
                }
                assert_int_equal(a.kind, PLAN_BACKUP);
                assert_int_equal(a.from_progress, at);
                assert_int_equal(a.progress - at, lengths[i]);
                at = a.progress;
        }
        assert_int_equal(at, end);
}

static void test_keep_newest(void **state)
{
        /* The kernel finishes window 0 before window 1 is backed up: window
         * 0 stays held (a crash now must find a section reaching the
         * position) until window 1 is durable, and only then goes. */
        struct reshape_geometry g = geo(5, 4, 5, 4, 65536, 131072, 65536, 0, false);
        struct plan_observation o = { .notified = true, .reshaping = true, .checkpoint_valid = true,
                                      .completed_progress = 4096, .checkpoint_progress = 4096 };
        struct planner p;

        (void) state;
        planner_init(&p, &g, 0, 0, 4096, 0);
        EXPECT(&p, { PLAN_SUSPEND, 0, W(2), 0, 0 }, { PLAN_READ_AHEAD, W(1), W(2), 8192, 0 },
               { PLAN_BACKUP, 0, W(1), 4096, 0 }, { PLAN_SUSPEND, 0, W(3), 0, 0 },
               { PLAN_SET_SYNC_MAX, 0, 0, 4096, 0 });
        planner_observe(&p, &o);
        EXPECT(&p, { PLAN_READ_AHEAD, W(2), W(3), 12288, 0 }, { PLAN_BACKUP, W(1), W(2), 8192, 1 },
               { PLAN_FORGET, 0, 0, 0, 0 }, { PLAN_SUSPEND, W(1), W(4), 0, 0 },
               { PLAN_SET_SYNC_MAX, 0, 0, 8192, 0 });

        /* stopping lets go of it and of the read-ahead: nothing stays
         * suspended */
        planner_init(&p, &g, 0, 0, 4096, 0);
        EXPECT(&p, { PLAN_SUSPEND, 0, W(2), 0, 0 }, { PLAN_READ_AHEAD, W(1), W(2), 8192, 0 },
               { PLAN_BACKUP, 0, W(1), 4096, 0 }, { PLAN_SUSPEND, 0, W(3), 0, 0 },
               { PLAN_SET_SYNC_MAX, 0, 0, 4096, 0 });
        planner_observe(&p, &o);
        planner_set_draining(&p, true);
        EXPECT(&p, { PLAN_CANCEL_READS, 0, 0, 0, 0 }, { PLAN_FORGET, 0, 0, 0, 0 },
               { PLAN_SUSPEND, 0, 0, 0, 0 }, { PLAN_WAIT, 0, 0, 0, 0 });
}

static void test_adopt_guard(void **state)
{
        /* Take-over before the first checkpoint: the supervisor backed up
         * the first unit into slot 0, let the kernel through it, and it
         * checkpointed there. The first window goes into slot 1 and starts
         * where the guard ends; the guard goes once that window is durable. */
        struct reshape_geometry g = geo(5, 4, 5, 4, 65536, 131072, 65536, 0, false);
        uint64_t u = g.unit_progress_sectors;
        struct plan_action guard = { .kind = PLAN_BACKUP, .slot = 0, .range = geometry_at_risk(&g, 0, u),
                                     .from_progress = 0, .progress = u };
        struct planner p;
        struct plan_action a;

        (void) state;
        planner_init(&p, &g, u, u, 4096, 0);
        planner_adopt(&p, &guard);
        assert_true(p.slot[0].held);
        assert_int_equal(p.sync_max, u);
        assert_int_equal(p.suspended.hi_array_sectors, 3 * u);

        EXPECT(&p,
               { PLAN_SUSPEND, 0, 3 * (u + 8192), 0, 0 },
               { PLAN_READ_AHEAD, 3 * (u + 4096), 3 * (u + 8192), u + 8192, 0 },
               { PLAN_BACKUP, 3 * u, 3 * (u + 4096), u + 4096, 1 },
               { PLAN_FORGET, 0, 0, 0, 0 });
        a = planner_next(&p);
        assert_int_equal(a.kind, PLAN_SUSPEND);
        assert_int_equal(a.range.lo_array_sectors, 3 * u);
        planner_applied(&p, &a, 0);
        a = planner_next(&p);
        assert_int_equal(a.kind, PLAN_SET_SYNC_MAX);
        assert_int_equal(a.progress, u + 4096);
}

static void test_drain(void **state)
{
        /* Stopping with window 0 under the kernel, window 1 durable beyond
         * sync_max and window 2 read ahead: the read goes, window 1 goes at
         * once (the kernel cannot enter it), nothing new is backed up or
         * raised, and window 0 goes when the kernel checkpoints at
         * sync_max; then writes are let through. */
        struct reshape_geometry g = geo(5, 4, 5, 4, 65536, 131072, 65536, 0, false);
        struct plan_observation o = { .notified = true, .reshaping = true, .checkpoint_valid = true };
        struct planner p;

        (void) state;
        first_steps(&p, &g);
        assert_int_equal(p.sync_max, 4096);

        planner_set_draining(&p, true);
        EXPECT(&p, { PLAN_CANCEL_READS, 0, 0, 0, 0 }, { PLAN_FORGET, 0, 0, 0, 1 },
               { PLAN_SUSPEND, 0, W(1), 0, 0 }, { PLAN_WAIT, 0, 0, 0, 0 });

        /* halfway: window 0 still under the kernel */
        o.completed_progress = o.checkpoint_progress = 2048;
        planner_observe(&p, &o);
        EXPECT(&p, { PLAN_WAIT, 0, 0, 0, 0 });

        /* parked at sync_max and checkpointed there */
        o.completed_progress = o.checkpoint_progress = 4096;
        planner_observe(&p, &o);
        EXPECT(&p, { PLAN_FORGET, 0, 0, 0, 0 }, { PLAN_SUSPEND, 0, 0, 0, 0 }, { PLAN_WAIT, 0, 0, 0, 0 });
        assert_int_equal(p.sync_max, 4096);
}

/* Window 0 durable in slot 0 with sync_max at its end, and window 1's
 * backup into slot 1 next, after the kernel reported @checkpoint. */
static struct plan_action second_backup(struct planner *p, const struct reshape_geometry *g,
                                        uint64_t checkpoint)
{
        struct plan_observation o = { .notified = true, .reshaping = true, .completed_progress = checkpoint,
                                      .checkpoint_valid = true, .checkpoint_progress = checkpoint };
        struct plan_action a;

        planner_init(p, g, 0, 0, 4096, 0);
        EXPECT(p, { PLAN_SUSPEND, 0, W(2), 0, 0 }, { PLAN_READ_AHEAD, W(1), W(2), 8192, 0 },
               { PLAN_BACKUP, 0, W(1), 4096, 0 }, { PLAN_SUSPEND, 0, W(3), 0, 0 },
               { PLAN_SET_SYNC_MAX, 0, 0, 4096, 0 });
        planner_observe(p, &o);
        for (a = planner_next(p); a.kind == PLAN_SUSPEND || a.kind == PLAN_READ_AHEAD; a = planner_next(p))
                planner_applied(p, &a, 0);
        assert_int_equal(a.kind, PLAN_BACKUP);
        assert_int_equal(a.slot, 1);
        assert_int_equal(a.from_progress, 4096);
        return a;
}

static void test_backup_releases_other(void **state)
{
        /* Slot 0 may be emptied by window 1's commit only once the on-disk
         * checkpoint is past window 0; the answer is what the planner then
         * does next. */
        struct reshape_geometry g = geo(5, 4, 5, 4, 65536, 131072, 65536, 0, false);
        static const struct { uint64_t checkpoint; bool releases; } t[] = {
                { 0, false },     /* the kernel has not checkpointed yet */
                { 2048, false },  /* half way: still inside window 0 */
                { 4096, true },   /* parked at sync_max, checkpointed there */
        };

        (void) state;
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                struct planner p;
                struct plan_action a = second_backup(&p, &g, t[i].checkpoint), next;

                assert_int_equal(planner_backup_releases_other(&p, &a, 0), t[i].releases);
                /* asking changes nothing */
                assert_true(planner_status(&p).holds_backup && !p.slot[1].held);
                planner_applied(&p, &a, 0);
                next = planner_next(&p);
                assert_int_equal(next.kind == PLAN_FORGET && next.slot == 0, t[i].releases);
        }
}

static void test_keeps_read(void **state)
{
        /* After the first steps window 2 (from 8192) is read ahead; window
         * 1's read went with its backup; stopping drops every read. */
        struct reshape_geometry g = geo(5, 4, 5, 4, 65536, 131072, 65536, 0, false);
        static const struct { uint64_t from; bool kept, kept_draining; } t[] = {
                { 0, false, false },
                { 4096, false, false },
                { 8192, true, false },
                { 12288, false, false },
        };
        struct planner p;

        (void) state;
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                first_steps(&p, &g);
                assert_int_equal(planner_keeps_read(&p, t[i].from), t[i].kept);
                planner_set_draining(&p, true);
                EXPECT(&p, { PLAN_CANCEL_READS, 0, 0, 0, 0 });
                assert_int_equal(planner_keeps_read(&p, t[i].from), t[i].kept_draining);
        }
}

static void test_status(void **state)
{
        /* What the supervisor reports and decides on, step by step through
         * a frozen take-over at 4096 and a stop. */
        struct reshape_geometry g = geo(5, 4, 5, 4, 65536, 131072, 65536, 0, false);
        static const struct {
                /* applied (PLAN_WAIT: an observation, at sync_max with
                 * the checkpoint short of it) */
                enum plan_action_kind kind;
                uint64_t checkpoint, completed, protected_to, sync_max;
                bool frozen, holds_backup, draining;
        } t[] = {
                { PLAN_SUSPEND, 4096, 4096, 4096, 4096, true, false, false },
                { PLAN_READ_AHEAD, 4096, 4096, 4096, 4096, true, false, false },
                { PLAN_BACKUP, 4096, 4096, 8192, 4096, true, true, false },
                { PLAN_SUSPEND, 4096, 4096, 8192, 4096, true, true, false },
                { PLAN_SET_SYNC_MAX, 4096, 4096, 8192, 8192, true, true, false },
                { PLAN_READ_AHEAD, 4096, 4096, 8192, 8192, true, true, false },
                { PLAN_BACKUP, 4096, 4096, 12288, 8192, true, true, false },
                { PLAN_RESUME, 4096, 4096, 12288, 8192, false, true, false },
                { PLAN_WAIT, 6144, 8192, 12288, 8192, false, true, false },
                { PLAN_CANCEL_READS, 6144, 8192, 12288, 8192, false, true, true },
        };
        struct planner p;

        (void) state;
        planner_init(&p, &g, 4096, 4096, 4096, 0);
        planner_set_frozen(&p, true);
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                struct plan_status ps;

                if (t[i].kind == PLAN_WAIT) {
                        assert_int_equal(planner_next(&p).kind, PLAN_WAIT);
                        planner_observe(&p, &(struct plan_observation) {
                                .notified = true, .reshaping = true, .completed_progress = 8192,
                                .checkpoint_valid = true, .checkpoint_progress = 6144, .now_ms = 1000 });
                } else {
                        struct plan_action a;

                        if (t[i].kind == PLAN_CANCEL_READS)
                                planner_set_draining(&p, true);
                        a = planner_next(&p);
                        assert_int_equal(a.kind, t[i].kind);
                        planner_applied(&p, &a, 0);
                }
                ps = planner_status(&p);
                assert_int_equal(ps.checkpoint, t[i].checkpoint);
                assert_int_equal(ps.completed, t[i].completed);
                assert_int_equal(ps.protected_to, t[i].protected_to);
                assert_int_equal(ps.sync_max, t[i].sync_max);
                assert_int_equal(ps.frozen, t[i].frozen);
                assert_int_equal(ps.holds_backup, t[i].holds_backup);
                assert_int_equal(ps.draining, t[i].draining);
                assert_false(ps.finished || ps.released || ps.lockstep || ps.pacing);
        }
        /* a resume lets the planner go on */
        planner_set_draining(&p, false);
        assert_false(planner_status(&p).draining);
        assert_int_not_equal(planner_next(&p).kind, PLAN_CANCEL_READS);
        planner_observe(&p, &(struct plan_observation) { .finished = true, .now_ms = 2000 });
        assert_true(planner_status(&p).finished);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table_first_steps),
                cmocka_unit_test(test_taper),
                cmocka_unit_test(test_table_wide),
                cmocka_unit_test(test_table_huge_chunks),
                cmocka_unit_test(test_end_sequence),
                cmocka_unit_test(test_drain),
                cmocka_unit_test(test_keep_newest),
                cmocka_unit_test(test_adopt_guard),
                cmocka_unit_test(test_backup_releases_other),
                cmocka_unit_test(test_keeps_read),
                cmocka_unit_test(test_status),
                cmocka_unit_test(test_contract_fallback),
                cmocka_unit_test(test_takeover_unprotected_front),
                cmocka_unit_test(test_sim_same_size_forwards),
                cmocka_unit_test(test_sim_same_size_backwards),
                cmocka_unit_test(test_sim_grow),
                cmocka_unit_test(test_sim_shrink),
                cmocka_unit_test(test_sim_wide),
                cmocka_unit_test(test_sim_lockstep_kernel_completes),
                cmocka_unit_test(test_pace_table),
                cmocka_unit_test(test_sim_paced),
                cmocka_unit_test(test_sim_offset_live),
                cmocka_unit_test(test_sim_paced_fallback),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
