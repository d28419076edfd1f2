/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <errno.h>

/*
 * Subcommands. Each src/cmd-NAME.c defines one `const struct cmd cmd_NAME`
 * and main.c lists it. run() gets argv starting at the subcommand name
 * (getopt-ready) and returns the process exit status.
 */

enum {
        EXIT_OK = 0,
        EXIT_FAILURE_RUN = 1,  /* the operation failed; the message says why */
        EXIT_USAGE = 2,        /* bad command line */
        EXIT_STOPPED = 3,      /* stopped on request (SIGTERM); the reshape is held safely */
};

/* The exit status of a command that ran the supervisor, from its result:
 * -EINTR is a stop on request (supervisor_run()). */
static inline int cmd_supervised_exit_status(int r)
{
        return r == -EINTR ? EXIT_STOPPED : r < 0 ? EXIT_FAILURE_RUN : EXIT_OK;
}

struct cmd {
        const char *name;
        const char *summary;   /* one line for `reshaped --help` */
        const char *help;      /* full text for `reshaped help NAME` */
        int (*run)(int argc, char **argv);
};

/* Prints the command's help text to stdout. */
void cmd_print_help(const struct cmd *c);

extern const struct cmd cmd_inspect;
extern const struct cmd cmd_start;
extern const struct cmd cmd_supervise;
extern const struct cmd cmd_restore;
extern const struct cmd cmd_status;
extern const struct cmd cmd_recover;
extern const struct cmd cmd_pause;
extern const struct cmd cmd_resume;
