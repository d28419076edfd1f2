/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * `reshaped status`, the pure part: what src/cli/cmd-status.c observed about
 * one array (sysfs, superblocks, the record, the backup file, /proc) in;
 * a judgement, the text a person reads and the JSON object a script
 * reads out. No I/O besides writing to the given stream, no clock.
 *
 * The judgement: is the kernel allowed (sync_max) to rewrite anything
 * whose only copy is not in the backup, counting from the checkpoint on
 * disk, and does anybody keep it going. The JSON schema is documented in
 * reshaped(8), section STATUS; keep both in step.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "reshaped/backup/backup.h"
#include "reshaped/plan/geometry.h"
#include "reshaped/md/md.h"

enum status_state {
        STATUS_NO_RESHAPE,
        STATUS_PROTECTED,    /* supervised; the backup holds all the kernel may destroy */
        STATUS_NOT_AT_RISK,  /* nothing left to rewrite needs a backup */
        STATUS_TAKING_OVER,  /* supervised, protection not established yet */
        STATUS_HELD,         /* nobody supervises; the kernel stops at sync_max, safely */
        STATUS_UNPROTECTED,  /* the kernel may destroy what no backup holds */
        STATUS_UNKNOWN,      /* a geometry this tool cannot judge */
        STATUS_INACTIVE,     /* assembled, not running: sysfs shows no reshape */
        STATUS_PAUSED,       /* reshaped pause: held (or being held) at a protected boundary */
        _STATUS_STATE_MAX,
};

enum status_backup_state {
        STATUS_BACKUP_NONE,          /* no backup file recorded */
        STATUS_BACKUP_UNREADABLE,
        STATUS_BACKUP_VERIFIED,
        STATUS_BACKUP_UNVERIFIABLE,  /* mdadm's: valid header, no checksums */
        STATUS_BACKUP_DAMAGED,
        STATUS_BACKUP_OTHER_ARRAY,   /* its UUID is not the array's */
        _STATUS_BACKUP_STATE_MAX,
};

struct status_observed {
        const char *name;                  /* "md0" */
        const char *devnode;               /* "/dev/md0" */
        bool inactive;                     /* array_state inactive or clear: nothing else read */
        struct md_geometry mdg;
        uint64_t array_kib;                /* array_size; 0: md's default */
        enum md_sync_action action;
        struct md_sync_completed completed;
        uint64_t sync_max_progress;        /* MD_SYNC_MAX_UNLIMITED: "max" */
        uint64_t position_array_sectors;   /* reshape_position, read after the backup */
        bool speed_known;
        uint64_t speed_kib_per_sec;        /* sync_speed: progress KiB per second */

        int super_error;                   /* 0: uuid read from a superblock */
        uint8_t uuid[16];
        int checkpoint_error;              /* 0: checkpoint_* read from every member */
        bool checkpoint_active;
        uint64_t checkpoint_array_sectors;

        const char *backup_path;           /* NULL: none recorded */
        const char *backup_source;         /* where the path came from */
        int backup_error;                  /* 0: @backup holds the verification */
        struct backup_report backup;

        pid_t supervisor_pid;              /* 0: nobody supervises it */
        const char *supervisor_unit;       /* systemd unit, or NULL */
        pid_t mdadm_pid;                   /* mdadm --grow's monitor, or 0 */

        bool paused;                       /* the record says paused (reshaped pause) */
        bool pause_held;                   /* the supervisor confirmed its hold ... */
        uint64_t pause_held_progress;      /* ... at this sync_max */
};

struct status_view {
        enum status_state state;
        bool geometry_ok;
        struct reshape_geometry geo;
        char change[160];                  /* "chunk 64K -> 128K, disks 3 -> 4" */
        bool progress_known;
        uint64_t front_progress;           /* how far the kernel is */
        double percent;
        uint64_t done_bytes, total_bytes;  /* array bytes */
        double rate_bytes_per_sec;         /* < 0: unknown */
        double eta_sec;                    /* < 0: unknown */
        double limit_percent;              /* sync_max; < 0: "max" */
        bool checkpoint_known;
        double checkpoint_percent;
        bool protected_known;              /* the backup holds a section */
        uint64_t protected_array_sectors;  /* its far end */
        double protected_percent;
        enum status_backup_state backup;
        unsigned windows;                  /* sections the backup holds */
        char reason[320];                  /* why this state, one sentence */
        char fix[4500];                    /* the command that fixes it, or "" */
        bool fix_needs_file;               /* ... once FILE in it is replaced */
};

void status_decide(const struct status_observed *o, struct status_view *v);

/* Stable lower-case names for JSON ("protected", "unprotected", ...). */
const char *status_state_id(enum status_state s);
const char *status_backup_state_id(enum status_backup_state s);

/* The upper-case word the text output shows ("PROTECTED", ...). */
const char *status_state_text(enum status_state s);
/* A chunk size as mdadm writes it: "64K", "1M". */
const char *status_chunk_name(uint32_t bytes, char *buf, size_t size);

/* Whether the state counts as protected for the exit status. */
bool status_state_ok(enum status_state s);

/* The innermost systemd unit (.service or .scope) in the text of
 * /proc/PID/cgroup (v2 "0::", else v1 "name=systemd"); false if none. */
bool status_unit_from_cgroup(const char *cgroup_text, char *buf, size_t size);

void status_print_text(FILE *f, const struct status_observed *o, const struct status_view *v);
/* One JSON object, no newline. */
void status_print_json(FILE *f, const struct status_observed *o, const struct status_view *v);
/* The object for a name that is no array we can read. */
void status_print_json_error(FILE *f, const char *device, const char *message);
