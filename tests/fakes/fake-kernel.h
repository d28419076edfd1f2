/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Test helper: a thread that plays raid5's part of a same-size reshape on
 * a fake sysfs tree (fake-sysfs.h) whose members are image files with
 * 0.90 superblocks. While sync_action reads "reshape" it moves its front
 * one reshape unit at a time up to sync_max (never past it), publishes
 * sync_completed, and checkpoints as raid5 does: at the halfway points
 * towards a numeric sync_max and when it reaches it (reshape_position in
 * sysfs and in every member's superblock), every few units with
 * sync_max=max (the 10 s timer). "frozen" stops it, keeping its front in
 * memory; a restart at or past sync_max checkpoints that front and parks.
 * At the end it clears the superblocks' reshape, shows the new chunk and
 * reads idle, none, none, max.
 *
 * It also judges what it sees, as the real kernel cannot: every unit it
 * rewrites once sync_max has been a number (taken over; the final release
 * to max included) must lie, with the array's content, in a section of
 * the backup file; sync_max may not be lowered while it
 * runs (md says EBUSY) and must be a multiple of the old chunk (EINVAL).
 * The first breach is kept as a message. It notes the attributes
 * written (inotify), in order, as a trace of what was stored.
 *
 * md begins a reshape within the sync_action store; until it has begun,
 * reshape_position is under a write lease (F_SETLEASE), so a read of it
 * waits in open() until the thread has taken every store made before.
 *
 * A regular file does not notify (POLLPRI), so the supervisor sees the
 * fake only when it looks; its wait is bounded by WATCHDOG_USEC / 4
 * (report.h), which the tests set.
 */

#include <stdbool.h>
#include <stdint.h>

#include "reshaped/plan/geometry.h"

struct fake_kernel;

#define FAKE_KERNEL_MAX_MEMBERS 16

struct fake_kernel_config {
        const char *root;            /* fake sysfs root */
        const char *md;              /* "md0" */
        const char *const *members;  /* image paths, by slot (copied) */
        unsigned n_members;
        uint64_t super_offset_bytes; /* of the 0.90 superblock in each image */
        const void *super;           /* the 0.91 superblock to rewrite (4 KiB);
                                      * this_disk is disks[slot] on each */
        const struct reshape_geometry *geo;
        const char *backup_path;     /* checked against while sync_max is a number */
        const uint8_t *content;      /* the array's content (geo->array_sectors) */
        uint64_t front_progress;     /* where it starts (sync_completed) */
        uint64_t checkpoint_progress;
        /* With sync_max=max it goes no further than this (a slow kernel
         * the take-over catches somewhere below it); 0: the end. */
        uint64_t free_limit_progress;
        /* Until sync_action has read "frozen" once it does not move (a
         * reshape that has not begun when the take-over freezes it). */
        bool hold_until_frozen;
        const char *new_chunk_size;  /* chunk_size shown after the end */
        /* Not NULL: no reshape yet (reshape_position none, sync_action
         * idle). It begins, as md does, when sync_action reads "reshape":
         * chunk_size must then read @begin_expect_chunk_size (stored
         * before), and shows @begin_chunk_size ("NEW (OLD)") from then on. */
        const char *begin_chunk_size;
        const char *begin_expect_chunk_size;
};

struct fake_kernel_state {
        uint64_t front, checkpoint;
        uint64_t units_protected;    /* rewritten once taken over */
        uint64_t units_free;         /* rewritten before, with sync_max=max */
        bool begun, running, finished, parked;
        char sync_max_at_end[32];    /* what sync_max read when it ended */
        char breach[512];            /* the first breach, or "" */
        /* Attributes stored (closed after a write), in order; a store
         * repeated back to back is noted once. */
        char writes[2048];
};

struct fake_kernel *fake_kernel_start(const struct fake_kernel_config *c);
/* It moves no further than @progress (0: no limit) until told otherwise. */
void fake_kernel_stall_at(struct fake_kernel *k, uint64_t progress);
void fake_kernel_get(struct fake_kernel *k, struct fake_kernel_state *ret);
/* Waits up to @timeout_ms for @pred; returns whether it held. */
bool fake_kernel_wait(struct fake_kernel *k, bool (*pred)(const struct fake_kernel_state *, void *),
                      void *userdata, unsigned timeout_ms);
/* Stops the thread; the last state in @ret (may be NULL). */
void fake_kernel_stop(struct fake_kernel *k, struct fake_kernel_state *ret);
