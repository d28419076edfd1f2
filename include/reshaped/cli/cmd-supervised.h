/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What the commands that set up the supervisor on a running array share
 * (start and supervise): the options that shape it and the opening of the
 * array under its supervise lock.
 */

#include <getopt.h>

#include "reshaped/md/md.h"
#include "reshaped/supervise/supervisor.h"

/* The getopt string and long options of -b/--backup-file FILE and
 * -w/--max-window SIZE, for a command's own to begin with. */
#define CMD_SUPERVISOR_SHORT_OPTIONS "b:w:"
#define CMD_SUPERVISOR_LONG_OPTIONS                                        \
        { "backup-file", required_argument, NULL, 'b' },                  \
        { "max-window",  required_argument, NULL, 'w' }

/* getopt_long() that applies those two options to o itself: returns the
 * next of the command's own options, '?' for a usage error (getopt's, or
 * a bad SIZE, logged), -1 at the end. */
int cmd_supervisor_getopt(int argc, char **argv, const char *optstring,
                          const struct option *longopts, struct supervisor_options *o);

/* Opens the array spec names and takes its supervise lock, held until
 * *ret_lock is closed. On failure (logged) nothing is left open. */
int cmd_open_locked(const char *spec, struct md **ret_md, int *ret_lock);

/* After supervisor_run() failed with @r (not a stop on request): one
 * journal entry at error priority (REPORT_MID_FAILED) that says the
 * reshape is not supervised by reshaped and in what state the kernel is,
 * read back: held within the backup, or running unprotected. */
void cmd_report_failure(struct md *md, int r);
