// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reshaped/cli/cmd.h"
#include "reshaped/cli/cmd-supervised.h"
#include "reshaped/util/log.h"
#include "reshaped/md/md.h"
#include "reshaped/supervise/record.h"
#include "reshaped/supervise/supervisor.h"

static int run(int argc, char **argv)
{
        static const struct option options[] = {
                CMD_SUPERVISOR_LONG_OPTIONS,
                { "help",        no_argument,       NULL, 'h' },
                {}
        };
        struct supervisor_options o;
        char *found = NULL;
        struct md *md = NULL;
        int opt, r, lock;

        supervisor_options_init(&o);
        while ((opt = cmd_supervisor_getopt(argc, argv, CMD_SUPERVISOR_SHORT_OPTIONS "h", options, &o)) != -1) {
                switch (opt) {
                case 'h':
                        cmd_print_help(&cmd_supervise);
                        return EXIT_OK;
                default:
                        return EXIT_USAGE;
                }
        }
        if (optind + 1 != argc) {
                log_error("supervise needs exactly one array, like /dev/md0; see 'reshaped help supervise'.");
                return EXIT_USAGE;
        }

        r = cmd_open_locked(argv[optind], &md, &lock);
        if (r < 0)
                return EXIT_FAILURE_RUN;
        if (!o.backup_path) {
                found = record_mdadm_lookup(md_name(md));
                if (!found && record_lookup(md_name(md), &found) < 0)
                        found = NULL;
                /* Without one, the supervisor refuses a reshape that needs a
                 * backup (one that moves the data needs none). */
                o.backup_path = found;
                if (found)
                        log_info("%s: using backup file %s.", md_name(md), found);
        }

        r = supervisor_run(md, &o);
        cmd_report_failure(md, r);
        md_close(md);
        close(lock);
        free(found);
        return cmd_supervised_exit_status(r);
}

const struct cmd cmd_supervise = {
        .name = "supervise",
        .summary = "protect a running reshape until it ends",
        .help =
        "Usage: reshaped supervise DEVICE [--backup-file FILE] [--max-window SIZE]\n"
        "\n"
        "Takes over a raid4/5/6 reshape that is already running (for example the\n"
        "one mdadm --grow hands to mdadm-grow-continue@mdX.service) and protects it\n"
        "until it ends: each window of the array is copied into FILE, durably,\n"
        "before the kernel may rewrite it, with writes to it suspended meanwhile.\n"
        "If the kernel ran unprotected before (mdadm leaves sync_max at max), the\n"
        "reshape is frozen, everything it rewrote since its last checkpoint is\n"
        "backed up first, and the distance is logged.\n"
        "\n"
        "A reshape that moves the data to a new data offset (raid10 near layouts,\n"
        "or raid4/5/6 with 1.1/1.2 metadata that mdadm --grow without a backup\n"
        "file or 'reshaped start' without one moved) puts nothing at risk: it\n"
        "needs no backup file and is paced, one window of sync_max at a time.\n"
        "\n"
        "  -b, --backup-file FILE  where to keep the backup (default: mdadm's\n"
        "                          /run/mdadm/backup_file-mdX, else the path\n"
        "                          reshaped recorded in /var/lib/reshaped;\n"
        "                          not used when the data moves)\n"
        "  -w, --max-window SIZE   largest window, held in locked memory (64M)\n"
        "\n"
        "On SIGTERM or SIGINT it lets the kernel reach the end of what is backed\n"
        "up, releases everything and exits; run it again to continue.\n"
        "Only one reshaped supervises an array at a time: while one runs, another\n"
        "'supervise', 'start' or 'restore' of the same array refuses and names\n"
        "its pid (and systemd unit).\n"
        "Exit status: 0 when the reshape finished, 1 on failure, 2 on usage errors.\n",
        .run = run,
};
