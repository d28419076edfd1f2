// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reshaped/cli-util.h"
#include "reshaped/backup.h"
#include "reshaped/cmd.h"
#include "reshaped/log.h"
#include "reshaped/md.h"
#include "reshaped/placement.h"
#include "reshaped/supervisor.h"

/* md's layout numbers (raid5.h ALGORITHM_*), by mdadm's names. */
static const struct { const char *name; unsigned value; bool raid6_only; } layouts[] = {
        { "left-asymmetric", 0, false },
        { "right-asymmetric", 1, false },
        { "left-symmetric", 2, false },
        { "right-symmetric", 3, false },
        { "parity-first", 4, false },
        { "parity-last", 5, false },
        { "ddf-zero-restart", 8, true },
        { "ddf-N-restart", 9, true },
        { "ddf-N-continue", 10, true },
        { "left-asymmetric-6", 16, true },
        { "right-asymmetric-6", 17, true },
        { "left-symmetric-6", 18, true },
        { "right-symmetric-6", 19, true },
        { "parity-first-6", 20, true },
};

static int parse_layout(const char *s, int level, unsigned *ret)
{
        for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
                if (strcmp(s, layouts[i].name) != 0)
                        continue;
                if (layouts[i].raid6_only && level != 6)
                        return log_error_errno(EINVAL, "Layout %s exists only for raid6.", s);
                *ret = layouts[i].value;
                return 0;
        }
        return log_error_errno(EINVAL, "Unknown layout '%s'; raid4/5 layouts are left-asymmetric, right-asymmetric, left-symmetric, right-symmetric, parity-first and parity-last.", s);
}

/* Checks that the array can start a reshape we can supervise. */
static int check_array(struct md *md, const struct md_geometry *g)
{
        enum md_sync_action action;
        uint64_t pos;
        unsigned degraded;
        int r;

        if (g->level != 4 && g->level != 5 && g->level != 6)
                return log_error_errno(EINVAL, "%s is not raid4, raid5 or raid6.", md_name(md));
        if (g->metadata.kind != MD_METADATA_NATIVE)
                return log_error_errno(EOPNOTSUPP, "%s has no native (0.90 or 1.x) metadata.", md_name(md));
        r = md_get_reshape_position(md, &pos);
        if (r < 0)
                return r;
        if (pos != MD_RESHAPE_POSITION_NONE)
                return log_error_errno(EBUSY, "%s is already reshaping; use 'reshaped supervise %s --backup-file FILE'.",
                                       md_name(md), md_devnode(md));
        r = md_get_sync_action(md, &action);
        if (r < 0)
                return r;
        if (action != MD_SYNC_ACTION_IDLE && action != MD_SYNC_ACTION_FROZEN)
                return log_error_errno(EBUSY, "%s is busy with %s; wait until sync_action reads idle.",
                                       md_name(md), md_sync_action_to_string(action));
        r = md_get_degraded(md, &degraded);
        if (r < 0)
                return r;
        if (degraded)
                return log_error_errno(EINVAL, "%s is degraded; recover it (mdadm --add) before reshaping.", md_name(md));
        return 0;
}

/* Undo a setup that the kernel refused, so the array is as it was. */
static void roll_back(struct md *md, const struct md_geometry *g)
{
        char v[32];

        snprintf(v, sizeof(v), "%u", g->chunk_bytes_old);
        (void) md_write_attr(md, "chunk_size", v);
        snprintf(v, sizeof(v), "%u", g->layout_old);
        (void) md_write_attr(md, "layout", v);
        (void) md_set_sync_max_unlimited(md);
        (void) md_set_sync_action(md, MD_SYNC_ACTION_IDLE);
}

/*
 * Sets the new geometry and starts the reshape with sync_max at 0, so the
 * kernel rewrites nothing until the supervisor has backed up the first
 * window: there is no unprotected moment.
 */
static int setup_reshape(struct md *md, const struct md_geometry *g, uint64_t chunk, bool set_chunk,
                         unsigned layout, bool set_layout)
{
        enum md_array_state state;
        char v[32];
        int r;

        r = md_get_array_state(md, &state);
        if (r < 0)
                return r;
        /* Debian assembles read-auto (start_ro); a reshape would not move. */
        if (state == MD_ARRAY_READ_AUTO) {
                r = md_write_attr(md, "array_state", "active");
                if (r < 0)
                        return r;
        }
        r = md_set_sync_action(md, MD_SYNC_ACTION_FROZEN);
        if (r < 0)
                return r;
        if (set_chunk) {
                snprintf(v, sizeof(v), "%" PRIu64, chunk);
                r = md_write_attr(md, "chunk_size", v);
                if (r < 0)
                        goto fail;
        }
        if (set_layout) {
                snprintf(v, sizeof(v), "%u", layout);
                r = md_write_attr(md, "layout", v);
                if (r < 0)
                        goto fail;
        }
        r = md_set_sync_min(md, 0);
        if (r < 0)
                goto fail;
        r = md_set_sync_max(md, 0);
        if (r < 0)
                goto fail;
        r = md_set_sync_action(md, MD_SYNC_ACTION_RESHAPE);
        if (r < 0)
                goto fail;
        return 0;
fail:
        roll_back(md, g);
        return log_error_errno(r, "%s: the kernel refused the new geometry; the array is unchanged.", md_name(md));
}

static int run(int argc, char **argv)
{
        static const struct option options[] = {
                { "backup-file",  required_argument, NULL, 'b' },
                { "chunk",        required_argument, NULL, 'c' },
                { "layout",       required_argument, NULL, 'l' },
                { "level",        required_argument, NULL, 'L' },
                { "raid-devices", required_argument, NULL, 'n' },
                { "max-window",   required_argument, NULL, 'w' },
                { "help",         no_argument,       NULL, 'h' },
                {}
        };
        struct supervisor_options o;
        const char *layout_name = NULL;
        uint64_t chunk = 0;
        bool set_chunk = false, set_layout = false, level_change = false;
        struct placement_verdict v;
        struct md_geometry g;
        struct md *md = NULL;
        unsigned layout = 0;
        int opt, r, ret = EXIT_FAILURE_RUN;

        supervisor_options_init(&o);
        while ((opt = getopt_long(argc, argv, "b:c:l:L:n:w:h", options, NULL)) != -1) {
                switch (opt) {
                case 'b':
                        o.backup_path = optarg;
                        break;
                case 'c':
                        if (cli_parse_size(optarg, &chunk) < 0 || chunk < 4096 || (chunk & (chunk - 1))) {
                                log_error("--chunk: '%s' is not a power of two of at least 4K (like 128K).", optarg);
                                return EXIT_USAGE;
                        }
                        set_chunk = true;
                        break;
                case 'l':
                        layout_name = optarg;
                        set_layout = true;
                        break;
                case 'L':
                case 'n':
                        level_change = true;
                        break;
                case 'w':
                        if (supervisor_options_max_window(&o, optarg) < 0)
                                return EXIT_USAGE;
                        break;
                case 'h':
                        cmd_print_help(&cmd_start);
                        return EXIT_OK;
                default:
                        return EXIT_USAGE;
                }
        }
        if (level_change) {
                log_error("Level and device-count changes need spares added and a takeover first, which mdadm does: "
                          "run 'mdadm --grow DEVICE --level=N --raid-devices=N --backup-file FILE'; with reshaped's "
                          "drop-in installed its hand-off runs 'reshaped supervise'.");
                return EXIT_USAGE;
        }
        if (optind + 1 != argc || !o.backup_path || (!set_chunk && !set_layout)) {
                log_error("start needs an array, --backup-file FILE and --chunk or --layout; see 'reshaped help start'.");
                return EXIT_USAGE;
        }

        r = md_open(argv[optind], &md);
        if (r < 0)
                return EXIT_FAILURE_RUN;
        r = md_get_geometry(md, &g);
        if (r < 0)
                goto out;
        r = check_array(md, &g);
        if (r < 0)
                goto out;
        if (set_layout && parse_layout(layout_name, g.level, &layout) < 0) {
                ret = EXIT_USAGE;
                goto out;
        }
        if ((!set_chunk || chunk == g.chunk_bytes_new) && (!set_layout || layout == g.layout_new)) {
                log_error("%s already has that chunk size and layout; nothing to do.", md_name(md));
                ret = EXIT_USAGE;
                goto out;
        }
        /* raid5.c check_reshape: the array must be a whole number of new chunks. */
        if (set_chunk && (g.component_kib * 1024) % chunk != 0) {
                log_error("%s: the member size (%" PRIu64 " KiB) is not a multiple of the new chunk (%" PRIu64
                          " KiB), which md refuses. Shrink what is on the array, then the members, first: "
                          "mdadm --grow %s --size=%" PRIu64 "K",
                          md_name(md), g.component_kib, chunk / 1024, md_devnode(md),
                          g.component_kib / (chunk / 1024) * (chunk / 1024));
                ret = EXIT_USAGE;
                goto out;
        }
        /* A backup that could not be kept must be refused before the array
         * changes at all. */
        r = placement_check(o.backup_path, md_name(md), backup_file_size_bytes(o.section_max_bytes), &v);
        if (r < 0) {
                log_error("%s", v.message);
                goto out;
        }
        r = setup_reshape(md, &g, chunk, set_chunk, layout, set_layout);
        if (r < 0)
                goto out;
        log_info("%s: reshape set up with sync_max=0; nothing is rewritten before the first backup.", md_name(md));
        r = supervisor_run(md, &o);
        ret = r < 0 ? EXIT_FAILURE_RUN : EXIT_OK;
out:
        md_close(md);
        return ret;
}

const struct cmd cmd_start = {
        .name = "start",
        .summary = "start a protected same-size reshape and supervise it",
        .help =
        "Usage: reshaped start DEVICE --backup-file FILE (--chunk SIZE | --layout NAME)\n"
        "\n"
        "Starts an in-place reshape of a raid4/5/6 array with native (0.90, 1.x)\n"
        "metadata through sysfs, with sync_max set to 0 before the reshape begins,\n"
        "so the kernel rewrites nothing that is not already backed up; then\n"
        "supervises it to the end like 'reshaped supervise'.\n"
        "\n"
        "  -b, --backup-file FILE  backup file, on a disk outside the array\n"
        "  -c, --chunk SIZE        new chunk size (power of two, like 128K)\n"
        "  -l, --layout NAME       new layout (left-symmetric, right-asymmetric, ...)\n"
        "  -w, --max-window SIZE   largest window, held in locked memory (64M)\n"
        "\n"
        "Level and device-count changes are left to 'mdadm --grow --backup-file',\n"
        "whose hand-off runs 'reshaped supervise' once the drop-in is installed.\n",
        .run = run,
};
