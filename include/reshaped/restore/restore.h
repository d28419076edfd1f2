/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What `reshaped restore` writes back after a crash, decided from the
 * backup header and the reshape position the members' superblocks hold.
 * Pure: no I/O.
 *
 * Below the position (forwards; above it backwards) the array is in the
 * new layout and durable; the kernel may have rewritten, and torn, only
 * what lies beyond it, and only up to its sync_max, which reshaped never
 * raised past what the backup held durably. So the backup must hold every
 * sector from the position on, without a gap, up to the end of its
 * furthest section, and exactly that stretch is written back. Parts of a
 * section on the done side of the position are never written: the array
 * may have taken newer writes there since. A backup with no section is
 * good only when its resume position equals the superblocks' (a clean stop
 * or no window yet: the kernel was held exactly there), which is also the
 * one case in which `mdadm --assemble --invalid-backup` loses nothing.
 * Past a grow's first units and before a shrink's last ones raid5 guards
 * the position by itself (it checkpoints before it overwrites old data
 * its metadata still needs), and there no backup is needed at all.
 */

#include <stdbool.h>
#include <stdint.h>

#include "reshaped/backup/backup.h"

enum restore_verdict {
        RESTORE_OK = 0,
        RESTORE_NO_RESUME,       /* no section and no resume position (mdadm's file) */
        RESTORE_RESUME_ELSEWHERE,/* no section, resume position differs */
        RESTORE_BEHIND,          /* the array's reshape is past every section */
        RESTORE_GAP,             /* sectors next to the position are in no section */
        _RESTORE_VERDICT_MAX,
};

struct restore_range {
        unsigned slot;
        uint64_t lo_array_sectors;   /* inclusive */
        uint64_t hi_array_sectors;   /* exclusive */
};

struct restore_plan {
        enum restore_verdict verdict;
        unsigned n_ranges;           /* 0 with RESTORE_OK: nothing to write back */
        struct restore_range ranges[BACKUP_SLOTS];
        /* RESTORE_OK only because the kernel guards the position itself
         * (the backup on its own would not do). */
        bool kernel_guarded;
};

/* @position_array_sectors: the freshest superblocks' reshape_position;
 * @backwards: the reshape runs from the end (position falls);
 * @kernel_guards: raid5 protects what lies beyond the position by itself
 * (geometry_kernel_guards()). */
void restore_plan_make(const struct backup_header *h, bool backwards,
                       uint64_t position_array_sectors, bool kernel_guards,
                       struct restore_plan *out);

/* True exactly when the backup holds no section and its resume position is
 * the superblocks' position: mdadm's --invalid-backup is then safe. */
bool restore_invalid_backup_safe(const struct backup_header *h,
                                 uint64_t position_array_sectors);

const char *restore_verdict_strerror(enum restore_verdict v);

/* One field in which a backup's identity differs from the reshape the
 * members' superblocks record. */
struct restore_mismatch {
        const char *field;           /* "chunk size after the reshape" */
        char backup[40], array[40];  /* the two values, formatted */
};
#define RESTORE_MISMATCH_MAX 12

/* Every field in which the identity recorded in @h differs from @sb (the
 * freshest superblock's): the array UUID, then level, raid disks, chunk
 * and layout before and after, component size, direction, and an event
 * count newer than the superblocks'. A header without the extension
 * records only the UUID. Returns how many it wrote to @out. */
unsigned restore_identity_diff(const struct backup_header *h, const struct backup_identity *sb,
                               struct restore_mismatch out[RESTORE_MISMATCH_MAX]);
