/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The planner decides, from what was observed of the kernel and what the
 * backup file durably holds, the next step that keeps every region the
 * kernel may rewrite backed up while keeping the kernel busy. It is pure:
 * no I/O and no clock (time arrives in observations), so tests drive it
 * with tables and the supervisor runs the same code on the real kernel.
 *
 * The supervisor loops: planner_next() -> carry the action out ->
 * planner_applied() on success, until the action is PLAN_WAIT; then it
 * waits for a sync_completed notification or a timeout and feeds what it
 * read to planner_observe(). All positions are progress sectors (see
 * geometry.h) except backup and suspend ranges, which are array sectors.
 *
 * Read-ahead: the backup disk should never wait for the members. Before
 * each backup the planner asks for the window after it to be read into
 * memory (suspended first, and kept suspended until it is durable; the
 * array's content cannot change under a suspended range, whatever the
 * kernel moves), so that the next backup only writes. Windows shrink
 * towards the end: the kernel's last window runs after the last backup
 * with nothing to overlap it.
 *
 * Pacing: when the geometry says nothing is ever at risk (raid10 writes
 * its new layout at a new data offset), there is nothing to back up, but
 * the kernel is still held to windows so that its position is recorded
 * at each and a stop holds it close to where it is. The first window
 * starts at once; after that sync_max is raised by one section, from
 * wherever is further of the limit and the kernel's reported front, each
 * time the kernel reports being half way from where it was at the last
 * raise to the limit, which is where the halfway rule makes it checkpoint
 * and notify first: it never reaches the limit while the supervisor keeps
 * up. The last raise is `max`. Without halfway reports (an unpatched
 * raid10) the contract timeout switches to lock-step pacing: sync_max is
 * kept two sections ahead of the kernel's last reported position (its own
 * 10 s checkpoints), and after a silence longer than that timer, in which
 * the kernel may be parked unseen, raised by that lead, which then doubles.
 */

#include <stdbool.h>
#include <stdint.h>

#include "reshaped/plan/geometry.h"

enum plan_action_kind {
        PLAN_WAIT,          /* nothing to do until the next observation */
        PLAN_SUSPEND,       /* make suspend_lo/hi equal to .range */
        PLAN_BACKUP,        /* copy .range into .slot, durably */
        PLAN_SET_SYNC_MAX,  /* raise sync_max to .progress */
        PLAN_FORGET,        /* mark .slot empty in the backup file, durably */
        PLAN_READ_AHEAD,    /* start reading .range, the window after the next
                             * backup, into memory; it stays suspended */
        PLAN_CANCEL_READS,  /* stopping: drop every read-ahead */
        PLAN_RELEASE,       /* nothing left at risk or to pace: sync_max = max */
        PLAN_RESUME,        /* restart the reshape frozen at take-over */
        PLAN_DONE,          /* the reshape ended and everything is released */
};

struct plan_action {
        enum plan_action_kind kind;
        unsigned slot;
        struct array_range range;
        uint64_t from_progress;     /* PLAN_BACKUP: window it protects */
        uint64_t progress;          /* PLAN_BACKUP: window end; PLAN_SET_SYNC_MAX: value */
};

struct plan_slot {
        bool held;                  /* durable in the backup file */
        uint64_t from_progress, to_progress;
        struct array_range range;
};

/* A window read ahead: the data is in memory, not yet in a slot. */
struct plan_read {
        uint64_t from_progress, to_progress;
        struct array_range range;
};

struct plan_observation {
        bool notified;              /* came with a sync_completed notification */
        bool reshaping;             /* sync_action reads reshape */
        bool finished;              /* the reshape ended (reshape_position none) */
        uint64_t completed_progress;
        /* The checkpoint as the members' superblocks hold it on disk (the
         * kernel publishes sync_completed before its superblock write
         * completes, so only the disk is proof). */
        bool checkpoint_valid;
        uint64_t checkpoint_progress;
        uint64_t now_ms;            /* monotonic, from the caller */
};

struct planner {
        struct reshape_geometry geo;
        uint64_t section_progress;  /* window size, a multiple of the unit */
        struct plan_slot slot[2];
        /* Read-aheads, oldest first: with the window being written, never
         * more than two windows are in memory. */
        struct plan_read ahead[2];
        unsigned n_ahead;
        uint64_t protected_to;      /* windows up to here are durable or need none */
        uint64_t sync_max;          /* progress value in effect */
        bool released;              /* sync_max is max */
        struct array_range suspended;
        uint64_t checkpoint;        /* progress the kernel proved durable */
        uint64_t completed;         /* latest sync_completed seen */
        uint64_t first_window_min;  /* the first window reaches at least here */
        uint64_t max_range_sectors; /* a window's backup fits a slot (0: any size) */
        bool finished;
        bool frozen;                /* sync_action is frozen (set by the caller at take-over) */
        /* The kernel does not checkpoint half way to sync_max: the caller
         * polls every LOCKSTEP interval and sizes windows so that the
         * kernel's own 10 s checkpoint falls inside each one. */
        bool lockstep;
        bool halfway_seen;          /* a checkpoint short of sync_max was seen */
        /* Stopping: no new windows or raises; windows the kernel cannot
         * enter (at or beyond sync_max) are let go at once. */
        bool draining;
        uint64_t last_news_ms;      /* last notification or movement */
        uint64_t contract_timeout_ms;
        uint64_t lockstep_interval_ms;
        /* Nothing is ever at risk (geo.relocates): no backups, only paced
         * sync_max raises (see above). */
        bool pacing;
        uint64_t pace_from;         /* completed when sync_max was last raised */
        uint64_t last_raise_ms;
        uint64_t last_seen_ms;      /* the latest observation */
        unsigned silent_raises;     /* lock-step pacing: raises made on silence */
        uint64_t lockstep_silence_ms;
};

/* @checkpoint_progress: the reshape's durable checkpoint when supervision
 * starts, which is also the sync_max in effect. @front_progress: how far
 * the kernel has actually rewritten (beyond the checkpoint after an
 * unprotected start); the first window covers it. */
void planner_init(struct planner *p, const struct reshape_geometry *g,
                  uint64_t checkpoint_progress, uint64_t front_progress,
                  uint64_t section_progress, uint64_t now_ms);

/* Sets the size of windows not yet planned (rounded down to a multiple of
 * the park distance, at least one; see geometry.h), and the most array
 * sectors one window may back up or read ahead (a slot, 0: any size).
 * -E2BIG, and nothing set, for a slot smaller than
 * geometry_min_window_array_sectors(). No backup or read-ahead larger than
 * the slot is ever planned: a window the kernel's front makes larger (a
 * take-over far past the checkpoint) is refused with PLAN_WAIT, the
 * kernel held where the backup reaches. */
void planner_set_section(struct planner *p, uint64_t section_progress);
int planner_set_max_range(struct planner *p, uint64_t max_range_sectors);

/* Takes on a window the caller backed up (@backup, a PLAN_BACKUP) and
 * suspended before planning began, with sync_max at its end. */
void planner_adopt(struct planner *p, const struct plan_action *backup);

void planner_observe(struct planner *p, const struct plan_observation *o);
struct plan_action planner_next(const struct planner *p);
void planner_applied(struct planner *p, const struct plan_action *a, uint64_t now_ms);

/* Stopping (@draining): no new windows or raises, and windows the kernel
 * cannot enter are let go at once; false again on a resume. */
void planner_set_draining(struct planner *p, bool draining);
/* The caller found the reshape frozen at take-over (@frozen): the planner
 * restarts it (PLAN_RESUME) once the kernel's first limit is in place. */
void planner_set_frozen(struct planner *p, bool frozen);

/* Whether the planner forgets the other slot as soon as backup @a is
 * durable (the kernel is past it already), so that the caller may empty
 * that slot in the same commit. */
bool planner_backup_releases_other(const struct planner *p, const struct plan_action *a,
                                   uint64_t now_ms);
/* Whether the window read ahead from @from_progress is still wanted. */
bool planner_keeps_read(const struct planner *p, uint64_t from_progress);

/* What the planner holds to, for the caller's reports and decisions. */
struct plan_status {
        uint64_t checkpoint;        /* progress the kernel proved durable */
        uint64_t completed;         /* latest sync_completed seen */
        uint64_t protected_to;      /* windows up to here are durable or need none */
        uint64_t sync_max;          /* progress value in effect */
        bool finished, released, frozen, draining, lockstep, pacing;
        bool holds_backup;          /* a slot is durable in the backup file */
        uint64_t contract_timeout_ms;
};
struct plan_status planner_status(const struct planner *p);

/* How long the caller may wait for the next notification before it must
 * observe anyway (the lock-step poll interval, or what is left of the
 * contract timeout). */
uint64_t planner_wait_ms(const struct planner *p, uint64_t now_ms);

/* The hull of the array ranges the backup holds. */
struct array_range planner_held(const struct planner *p);

const char *plan_action_name(enum plan_action_kind k);
