/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * One supervisor per array: `start`, `supervise` and `restore` each take an
 * exclusive flock(2) on RUN_DIR/MDNAME.lock (RUN_DIR: /run/reshaped, or
 * RESHAPED_RUN_DIR) before they touch the array, and hold it for the life
 * of the process; the command runs the supervisor in the same process, so
 * the lock is taken once and never again below. The kernel drops the lock
 * when the holder dies, however it dies, so a lock file left by a killed
 * daemon blocks nothing. The holder's pid is written into the file only so
 * that a refusal can name it.
 */

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

/* Takes the lock of array @md_name ("md0"). Returns the lock's file
 * descriptor (close it to release; it is close-on-exec); -EBUSY, logged
 * with the holder's pid and systemd unit, when another process holds it,
 * with *ret_holder its pid (0 if it has not written it yet). */
int supervise_lock_take(const char *md_name, pid_t *ret_holder);

/* `reshaped pause` and `resume` send this to the holder after they
 * changed the pause record. supervise_lock_take() blocks it before it
 * writes the pid, so that it never kills a holder not yet listening; the
 * supervisor reads it from its signalfd. */
#define SUPERVISE_PAUSE_SIGNAL SIGUSR1

#include <stdint.h>

/* Who holds the lock of @md_name now: 1 with *ret_pid (0 if it has not
 * written it yet) when a process does, 0 when nobody does. */
int supervise_lock_holder(const char *md_name, pid_t *ret_pid);

/*
 * The supervisor's answer to a pause (reshaped pause waits for it):
 * RUN_DIR/MDNAME.held says which pause request it holds for, its pid,
 * and where the kernel is held (sync_max in progress sectors, the array
 * sector it stands for). Removed when it goes on. In /run: it means
 * nothing once that process is gone.
 */
struct supervise_held {
        uint64_t request;
        pid_t pid;
        uint64_t progress_sectors;
        uint64_t position_array_sectors;
        /* The kernel is in its last window with sync_max at max: it cannot
         * be held without freezing; it finishes on its own. */
        bool final_window;
};

int supervise_held_write(const char *md_name, const struct supervise_held *h);
/* 0 with *ret set; -ENOENT when there is none. */
int supervise_held_read(const char *md_name, struct supervise_held *ret);
void supervise_held_remove(const char *md_name);
