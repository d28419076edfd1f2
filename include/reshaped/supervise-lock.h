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

#include <sys/types.h>

/* Takes the lock of array @md_name ("md0"). Returns the lock's file
 * descriptor (close it to release; it is close-on-exec); -EBUSY, logged
 * with the holder's pid and systemd unit, when another process holds it,
 * with *ret_holder its pid (0 if it has not written it yet). */
int supervise_lock_take(const char *md_name, pid_t *ret_holder);
