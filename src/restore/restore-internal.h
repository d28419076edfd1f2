/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What `reshaped restore` works on (cmd-restore.c: the command and the
 * assembly; restore-prepare.c: everything decided before anything is
 * written, the members, the backup's verification and the plan;
 * restore-write.c: the write-back once assembled). Not for other modules.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reshaped/backup/backup.h"
#include "reshaped/plan/geometry.h"
#include "reshaped/md/md-assemble.h"
#include "reshaped/restore/restore.h"

struct md;

struct restore_ctx {
        const char *md_name;         /* "md0" */
        char devnode[64];            /* "/dev/md0" */
        char *backup_path;
        struct md_member_super *members;
        size_t n_members;
        const struct md_member_super *freshest;
        struct backup_report rep;
        struct restore_plan plan;
        struct reshape_geometry geo; /* the reshape the superblocks record */
        /* Non-zero: md will not restart from the checkpoint (a grow's first
         * units), restore moves it here first (restore-critical.h). */
        uint64_t critical_position;
        /* A shrink's last units: the write-back goes onto the members in
         * the old layout before assembly (restore-critical.h). */
        bool write_old;
        bool ignore_token;           /* --ignore-generation-token */
        /* The superblocks record no reshape: it ended, and restore only
         * assembles the array and removes what the reshape left. */
        bool ended;
};

/* Reads the members (@paths, or those the backup's UUID names), verifies
 * the backup against them and plans the restore (or sets c->ended);
 * writes nothing. */
int restore_prepare(struct restore_ctx *c, const char *backup_option, char **paths, size_t n);

/* Writes the backup back onto the members in the old layout as
 * restore_prepare() planned (c->write_old); afterwards nothing is left to
 * write back through the array. */
int restore_write_old(struct restore_ctx *c);

/* Finishes a grow's first units as restore_prepare() planned
 * (c->critical_position set); afterwards nothing is left to write back. */
int restore_finish_critical(struct restore_ctx *c);

/* Once md_assemble_readonly() has started the array: freezes the reshape
 * with sync_max at the checkpoint, makes the array writable, writes the
 * backup back through it (md_devnode()) and empties the backup. *ret is
 * the open array, to supervise; on failure the reshape stays frozen. */
int restore_write_back(struct restore_ctx *c, struct md **ret);
