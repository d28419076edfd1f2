/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What the parts of the supervisor share (supervisor.c: the event loop,
 * observing the kernel and running the planner's actions; supervise-backup.c:
 * the backup file and its windows; supervise-takeover.c: freezing and
 * taking over a running reshape; supervise-stop.c: stopping safely;
 * supervise-pause.c: pause and resume; supervise-prepare.c: the set-up
 * before the loop; supervise-level.c: the level change after it). Not
 * for other modules: they go through reshaped/supervise/supervisor.h.
 */

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "reshaped/supervise/array-read.h"
#include "reshaped/backup/backup.h"
#include "reshaped/cli/cli-util.h"
#include "reshaped/util/fs-util.h"
#include "reshaped/plan/geometry.h"
#include "reshaped/util/log.h"
#include "reshaped/md/md-assemble.h"
#include "reshaped/md/md.h"
#include "reshaped/members/member-read.h"
#include "reshaped/placement/placement.h"
#include "reshaped/plan/planner.h"
#include "reshaped/supervise/record.h"
#include "reshaped/report/report.h"
#include "reshaped/plan/reshape-shape.h"
#include "reshaped/supervise/supervise-lock.h"
#include "reshaped/supervise/supervisor.h"

/* A window should keep the kernel busy this long, up to the largest
 * window (--max-window, the memory bound). Each window has fixed costs:
 * two suspend stores that each drain all I/O of the array, two
 * fdatasyncs, and about log2(window / reshape unit) kernel checkpoints. On
 * disks throttled to 8 MiB/s, 4 s windows (~23 MiB) lost a quarter of the
 * time to them; so on all but very fast arrays the largest window wins. */
#define WINDOW_TARGET_MS        30000
/* While applications use the array: their writes into a held window
 * wait until the kernel is through it and the next, and md may slow the
 * reshape to speed_limit_min (1 MB/s by default) whenever they do I/O,
 * so a 30 s window would stall them for up to a minute. Measured with a
 * writer on ext4 (tests/vm/experiments/live-windows.sh): 64 MiB windows
 * (about 2.5 s of the kernel there) let its slowest operation wait 5 s,
 * 8 MiB ones 0.9 s, for a reshape 4% slower. */
#define WINDOW_BUSY_TARGET_MS   500
/* How often the array's own I/O is looked at: in use means it moved in
 * the last such interval. */
#define LOAD_SAMPLE_MS          2000
/* Without halfway updates, a window must outlast the kernel's own 10 s
 * checkpoint timer. */
#define LOCKSTEP_WINDOW_MS      15000
#define DRAIN_TIMEOUT_MS        60000
#define FREEZE_TIMEOUT_MS       30000
#define FRONT_TIMEOUT_MS        10000
/* How long a blocking read of the reshape's first block may take before
 * the kernel counts as begun (see kernel_has_begun()). */
#define BEGUN_PROBE_TIMEOUT_MS  3000
/* How long sync_action may pass through idle mid-reshape. */
#define SETTLE_TIMEOUT_MS       2000
/* How long the kernel may wait for a backup before the journal hears of
 * it: a window's backup normally keeps ahead of it. */
#define HELD_REPORT_MS          10000

/* While paused, how often the loop looks at the array (and the record). */
#define PAUSED_POLL_MS 5000

/* What one wake-up reads of the kernel: the planner's observation and the
 * supervisor's own checks are built from it, not from reads of their own. */
struct sup_snapshot {
        uint64_t now_ms;
        enum md_sync_action action;
        bool finished;              /* reshape_position reads none */
        bool completed_valid;       /* sync_completed reads a running position */
        uint64_t completed_progress;
        unsigned degraded;
        /* The on-disk checkpoint, read only while the reshape runs. */
        bool checkpoint_valid;
        uint64_t checkpoint_progress;
        /* The array's own I/O, read only when its LOAD_SAMPLE_MS sample is
         * due; an unreadable stat is a sample with io_valid false. */
        bool io_due, io_valid;
        uint64_t io_sectors;
};

struct sup {
        struct md *md;
        const struct supervisor_options *o;
        struct md_geometry mdg;
        struct reshape_geometry geo;
        struct backup_identity id;
        char uuid[BACKUP_UUID_STRING_MAX];
        struct planner plan;
        struct backup_file *bf;
        struct record_token *token;  /* the newest durable generation, for restore */
        char *rename_from;        /* new backup file, until it replaces the old one */
        struct member_set *members;  /* the old layout's members, read for backups */
        int signal_fd;
        void *bufs[2];            /* a window each: one written, one read ahead */
        struct {
                uint64_t from_progress;
                struct array_read *rd;
        } reads[2];               /* the planner's read-aheads, oldest first */
        unsigned n_reads;
        uint64_t slot_bytes;
        uint64_t slot_min_bytes;        /* the smallest the windows may be */

        uint64_t t0_ms, last_obs_ms, last_obs_completed;
        double rate_progress_per_ms;
        /* The array's own I/O (md_get_io_sectors) at the last sample (a
         * snapshot's, every LOAD_SAMPLE_MS); busy: it moved since the one
         * before. */
        uint64_t io_sectors, io_sampled_ms;
        bool io_known, busy;
        uint64_t stall_ms;
        uint64_t parked_since_ms;  /* seen parked at sync_max; 0: not */
        bool held_reported;        /* this park was reported (REPORT_MID_HELD) */
        uint64_t backed_up_bytes, backup_ms;
        bool acted;               /* actions ran since the last observation */
        bool protecting;          /* the kernel has run held within the backup */
        struct plan_action guard; /* PLAN_BACKUP: slot 0 held since the take-over */
        bool froze;               /* the take-over froze the reshape */
        bool frozen_by_other;     /* someone else froze it (mdadm --stop, an admin) */
        unsigned raises;          /* sync_max raises, the release included */
        unsigned degraded;        /* members missing, as last seen */
        int stop_signal;
        /* reshaped pause: the record says paused (request number); the
         * hold confirmed for that request; a pause signal came in. */
        bool paused, pause_confirmed, pause_check;
        uint64_t pause_request;
};

/* supervisor.c */
uint64_t sup_now_us(void);
uint64_t sup_now_ms(void);
int sup_read_geometry(struct sup *s);
int sup_disk_checkpoint(struct sup *s, uint64_t *ret_progress);
int sup_wait_sync_action(struct sup *s, enum md_sync_action want1, enum md_sync_action want2);
void sup_protection_established(struct sup *s);
int sup_run_actions(struct sup *s);
int sup_wait_and_observe(struct sup *s, uint64_t timeout_ms);

/* supervise-backup.c */
uint64_t sup_section_progress_for(const struct sup *s, uint64_t bytes);
int sup_open_backup(struct sup *s);
void sup_sync_reads(struct sup *s);
int sup_read_ahead(struct sup *s, const struct plan_action *a);
int sup_set_resume(struct sup *s, uint64_t checkpoint_progress);
int sup_do_backup(struct sup *s, const struct plan_action *a, bool release_other);

/* supervise-takeover.c */
int sup_establish(struct sup *s, uint64_t *ret_ckpt, bool *ret_frozen);

/* supervise-stop.c */
void sup_describe_kernel(struct sup *s, char *buf, size_t size);
bool sup_holds_any(const struct sup *s);
bool sup_array_stopped(struct sup *s);
/* 1 when the array was stopped under the supervisor (sup_array_stopped()
 * said so), 0 when the kernel was left held safely, -1 when the stop did
 * not complete (the message says what is left to do). */
int sup_stop_safely(struct sup *s, const char *why);

/* supervise-level.c: after a finished raid6 -> raid5 reshape, the level
 * change mdadm's monitor makes; 0 when there is none to make. */
int sup_finish_level(struct sup *s);

/* supervise-pause.c */
bool sup_pause_holding(const struct sup *s);
void sup_pause_refresh(struct sup *s);
void sup_pause_confirm(struct sup *s);
void sup_pause_take_pending(struct sup *s);

/* supervise-prepare.c */
int sup_size_slots(struct sup *s);
int sup_prepare(struct sup *s, uint64_t *ckpt, bool *frozen);
