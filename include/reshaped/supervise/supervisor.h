/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The supervisor: runs the planner's actions against a real array and its
 * backup file until the reshape ends, waiting on sync_completed
 * notifications and signals. On a signal or any error it stops safely:
 * the kernel is held at the last protected boundary, the backup stays,
 * the suspend range matches what the backup holds, and the log says what
 * happened and how to continue.
 */

#include <stdbool.h>
#include <stdint.h>

#include "reshaped/md/md.h"

struct supervisor_options {
        const char *backup_path;
        uint64_t section_min_bytes;     /* array bytes per window, bounds */
        uint64_t section_max_bytes;
        bool quiet;
        /* The reshape was asked for as it is (`reshaped start`), not as
         * the first half of mdadm's raid6 -> raid5: the level stays. */
        bool keep_level;
};

#define SUPERVISOR_SECTION_MIN_BYTES (4ULL << 20)
#define SUPERVISOR_SECTION_MAX_BYTES (64ULL << 20)

/* Defaults: window bounds above, quiet when the log level is. */
void supervisor_options_init(struct supervisor_options *o);
/* --max-window SIZE; -EINVAL (logged) for a size below the minimum. */
int supervisor_options_max_window(struct supervisor_options *o, const char *arg);

/* The array is reshaping (or frozen mid-reshape). When sync_max is a
 * number no larger than the on-disk checkpoint (as `reshaped start` leaves
 * it), supervision starts at once; otherwise the reshape is frozen,
 * protection established from the checkpoint, and it is resumed.
 * Returns 0 when the reshape finished, -EINTR when a stop signal ended it
 * with the kernel held where the backup protects it, a negative errno
 * otherwise. */
int supervisor_run(struct md *md, const struct supervisor_options *o);
