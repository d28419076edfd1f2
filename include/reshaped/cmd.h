/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Subcommands. Each src/cmd-NAME.c defines one `const struct cmd cmd_NAME`
 * and main.c lists it. run() gets argv starting at the subcommand name
 * (getopt-ready) and returns the process exit status.
 */

enum {
        EXIT_OK = 0,
        EXIT_FAILURE_RUN = 1,  /* the operation failed; the message says why */
        EXIT_USAGE = 2,        /* bad command line */
};

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
extern const struct cmd cmd_recover;
