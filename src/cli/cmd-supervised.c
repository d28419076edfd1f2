// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "reshaped/cli/cmd-supervised.h"
#include "reshaped/report/report.h"
#include "reshaped/supervise/supervise-lock.h"

int cmd_supervisor_getopt(int argc, char **argv, const char *optstring,
                          const struct option *longopts, struct supervisor_options *o)
{
        int opt;

        while ((opt = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
                switch (opt) {
                case 'b':
                        o->backup_path = optarg;
                        break;
                case 'w':
                        if (supervisor_options_max_window(o, optarg) < 0)
                                return '?';
                        break;
                default:
                        return opt;
                }
        }
        return -1;
}

int cmd_open_locked(const char *spec, struct md **ret_md, int *ret_lock)
{
        struct md *md;
        pid_t holder;
        int r, lock;

        r = md_open(spec, &md);
        if (r < 0)
                return r;
        lock = supervise_lock_take(md_name(md), &holder);
        if (lock < 0) {
                md_close(md);
                return lock;
        }
        *ret_md = md;
        *ret_lock = lock;
        return 0;
}

void cmd_report_failure(struct md *md, int r)
{
        uint64_t pos, sync_max;
        const char *state;
        char buf[96];

        if (r >= 0 || r == -EINTR)
                return;
        if (md_get_reshape_position(md, &pos) < 0 || md_get_sync_max(md, &sync_max) < 0)
                state = "its state cannot be read";
        else if (pos == MD_RESHAPE_POSITION_NONE)
                state = "no reshape runs";
        else if (sync_max == MD_SYNC_MAX_UNLIMITED)
                state = "the reshape runs with sync_max=max: UNPROTECTED (mdadm's own monitor, if mdadm fell back to it, does not hold it to a backup either)";
        else {
                snprintf(buf, sizeof(buf), "the kernel is held at sync_max=%" PRIu64, sync_max);
                state = buf;
        }
        report_event(REPORT_MID_FAILED, md_name(md),
                     "%s: reshaped failed (%s) and does not supervise the reshape; %s. The messages before this one say why; 'reshaped status %s' shows whether anything protects it now.",
                     md_name(md), strerror(-r), state, md_devnode(md));
}
