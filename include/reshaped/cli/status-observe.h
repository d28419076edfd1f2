/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What `reshaped status` reads about one array (src/cli/cmd-status.c), for
 * the commands that show the same judgement (`reshaped watch`). Lives
 * with the command, in the binary, not in the library: it reads /proc,
 * the superblocks and the backup file.
 *
 * status_observe() reads everything, as `status` does; its strings live
 * in *ob until status_observation_clear(). status_observe_progress()
 * re-reads only the cheap, fast-moving part (array_state, sync_action,
 * reshape_position, sync_completed, sync_speed) into an observation
 * status_observe() filled, keeping the rest of that moment.
 */

#include "reshaped/md/md.h"
#include "reshaped/report/status.h"

struct status_observation {
        struct status_observed o;
        char *backup_path;
        char *unit;
};

int status_observe(struct md *md, struct status_observation *ob);
int status_observe_progress(struct md *md, struct status_observation *ob);
void status_observation_clear(struct status_observation *ob);
