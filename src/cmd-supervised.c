// SPDX-License-Identifier: GPL-2.0-or-later
#include <stddef.h>
#include <sys/types.h>

#include "reshaped/cmd-supervised.h"
#include "reshaped/supervise-lock.h"

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
