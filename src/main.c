// SPDX-License-Identifier: GPL-2.0-or-later
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "reshaped/cmd.h"
#include "reshaped/log.h"
#include "reshaped/md.h"

static const struct cmd *const commands[] = {
        &cmd_start,
        &cmd_supervise,
        &cmd_restore,
        &cmd_recover,
        &cmd_inspect,
        &cmd_status,
        /* reshaped pause / resume */
        &cmd_pause,
        &cmd_resume,
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cmd *find_command(const char *name)
{
        for (size_t i = 0; i < N_COMMANDS; i++)
                if (strcmp(commands[i]->name, name) == 0)
                        return commands[i];
        return NULL;
}

void cmd_print_help(const struct cmd *c)
{
        fputs(c->help, stdout);
}

static void print_usage(FILE *f)
{
        fprintf(f,
                "Usage: reshaped [OPTIONS] COMMAND [ARGS...]\n"
                "\n"
                "Supervise in-place Linux md raid4/5/6 reshapes so that a crash or power\n"
                "cut at any moment loses no data.\n"
                "\n"
                "Commands:\n");
        for (size_t i = 0; i < N_COMMANDS; i++)
                fprintf(f, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
        fprintf(f,
                "  %-12s %s\n"
                "\n"
                "Options:\n"
                "  -h, --help             show this help\n"
                "      --version          show the version\n"
                "  -v, --verbose          log debug messages\n"
                "  -q, --quiet            log only warnings and errors\n"
                "      --sysfs-root DIR   read md state under DIR instead of /sys\n"
                "                         (also: RESHAPED_SYSFS_ROOT)\n"
                "\n"
                "See 'reshaped help COMMAND' and reshaped(8).\n",
                "help", "show help for a command");
}

static int run_help(int argc, char **argv)
{
        const struct cmd *c;

        if (argc < 2) {
                print_usage(stdout);
                return EXIT_OK;
        }
        c = find_command(argv[1]);
        if (!c) {
                log_error("Unknown command '%s'; 'reshaped --help' lists them.", argv[1]);
                return EXIT_USAGE;
        }
        cmd_print_help(c);
        return EXIT_OK;
}

int main(int argc, char **argv)
{
        enum { OPT_VERSION = 0x100, OPT_SYSFS_ROOT };
        static const struct option options[] = {
                { "help",       no_argument,       NULL, 'h' },
                { "version",    no_argument,       NULL, OPT_VERSION },
                { "verbose",    no_argument,       NULL, 'v' },
                { "quiet",      no_argument,       NULL, 'q' },
                { "sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT },
                {}
        };
        const struct cmd *c;
        int opt;

        /* "+" stops at the subcommand, whose options are its own. */
        while ((opt = getopt_long(argc, argv, "+hvq", options, NULL)) != -1) {
                switch (opt) {
                case 'h':
                        print_usage(stdout);
                        return EXIT_OK;
                case OPT_VERSION:
                        printf("reshaped %s\n", PACKAGE_VERSION);
                        return EXIT_OK;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case 'q':
                        log_set_max_level(LOG_WARNING);
                        break;
                case OPT_SYSFS_ROOT:
                        if (md_set_sysfs_root(optarg) < 0)
                                return EXIT_FAILURE_RUN;
                        break;
                default:
                        print_usage(stderr);
                        return EXIT_USAGE;
                }
        }

        if (optind >= argc) {
                print_usage(stderr);
                return EXIT_USAGE;
        }

        argc -= optind;
        argv += optind;
        optind = 0;  /* glibc: full re-initialisation for the subcommand */

        if (strcmp(argv[0], "help") == 0)
                return run_help(argc, argv);

        c = find_command(argv[0]);
        if (!c) {
                log_error("Unknown command '%s'; 'reshaped --help' lists them.", argv[0]);
                return EXIT_USAGE;
        }
        return c->run(argc, argv);
}
