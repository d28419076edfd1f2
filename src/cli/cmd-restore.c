// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * reshaped restore: brings a reshaping array back after a crash or reboot
 * with nothing unprotected. The backup is verified before anything touches
 * the array; the array is then started read-only, frozen with sync_max at
 * its on-disk checkpoint, made writable, the part of the backup beyond the
 * checkpoint is written back through the array (md maps it to the old
 * layout there), and the same process supervises the rest. What is
 * decided before anything is written lives in restore-prepare.c, the
 * write-back in restore-write.c.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reshaped/backup/backup.h"
#include "reshaped/cli/cmd.h"
#include "reshaped/plan/geometry.h"
#include "reshaped/cli/cli-util.h"
#include "reshaped/cli/cmd-supervised.h"
#include "reshaped/util/log.h"
#include "reshaped/md/md-assemble.h"
#include "reshaped/md/md.h"
#include "reshaped/restore/restore.h"
#include "reshaped/supervise/record.h"
#include "reshaped/supervise/supervise-lock.h"
#include "reshaped/supervise/supervisor.h"

#include "restore/restore-internal.h"

static const char *parse_md_name(const char *spec)
{
        const char *name = strncmp(spec, "/dev/", 5) == 0 ? spec + 5 : spec;

        if (strncmp(name, "md", 2) != 0 || !name[2] || strspn(name + 2, "0123456789") != strlen(name + 2))
                return NULL;
        return name;
}

/*
 * --dry-run: what prepare() found and what the rest of a restore would do
 * with it. The geometry comes from the superblocks, since the array is not
 * running; the same conversions as restore_write_back()'s give where the
 * reshape would continue.
 */
static int print_dry_run(const struct restore_ctx *c, bool supervise)
{
        const struct backup_identity *id = &c->freshest->identity;
        uint64_t pos = c->freshest->reshape_position_array_sectors;
        struct geometry_input in = {
                .old_level = id->after.level, .new_level = id->after.level,
                .old_raid_disks = id->before.raid_disks, .new_raid_disks = id->after.raid_disks,
                .old_chunk_bytes = id->before.chunk_bytes, .new_chunk_bytes = id->after.chunk_bytes,
                .component_kib = id->component_dev_sectors / 2,
                .backwards = c->freshest->backwards,
        };
        struct reshape_geometry g;
        const char *why = NULL;
        uint64_t progress;
        int r;

        r = geometry_init(&g, &in, &why);
        if (r < 0)
                return log_error_errno(r, "Cannot restore the reshape of %s: %s.", c->md_name, why);
        progress = geometry_align_down(&g, geometry_position_to_progress(&g, pos));

        printf("%s: dry run; nothing was written.\n", c->devnode);
        printf("backup: %s, generation %" PRIu64 ": %s\n", c->backup_path, c->rep.header.generation,
               c->rep.verdict.reason == BACKUP_VERIFY_OK
                       ? "verified (header and section checksums, array and reshape identity)"
                       : "mdadm's format, no checksums: not verified");
        printf("reshape: %s, checkpoint at array sector %" PRIu64 " (byte %" PRIu64 ")\n",
               c->freshest->backwards ? "backwards" : "forwards", pos, sectors_to_bytes(pos));
        if (c->critical_position) {
                printf("finish first units: array sectors %" PRIu64 "-%" PRIu64 " written in the new layout to every member, then every superblock records the reshape at %" PRIu64 " (md does not restart from %" PRIu64 ")\n",
                       pos, c->critical_position, c->critical_position, pos);
                pos = c->critical_position;
                progress = geometry_align_down(&g, geometry_position_to_progress(&g, pos));
        } else if (c->plan.n_ranges == 0) {
                printf("write back: nothing (the kernel was held at the checkpoint)\n");
        } else if (c->write_old) {
                printf("write back: onto the members in the old layout, whole old stripes, before the array is assembled (md would hold writes to the old stripe the checkpoint splits)\n");
        }
        for (unsigned i = 0; i < c->plan.n_ranges && !c->critical_position; i++) {
                const struct restore_range *rr = &c->plan.ranges[i];
                struct dev_range d = geometry_old_layout_dev_rows(
                        &g, (struct array_range) { rr->lo_array_sectors, rr->hi_array_sectors });

                printf("write back: array bytes %" PRIu64 "-%" PRIu64 " (sectors %" PRIu64 "-%" PRIu64
                       ") from section %u; member sectors %" PRIu64 "-%" PRIu64
                       " from the data offset, on every member\n",
                       sectors_to_bytes(rr->lo_array_sectors), sectors_to_bytes(rr->hi_array_sectors),
                       rr->lo_array_sectors, rr->hi_array_sectors, rr->slot, d.lo_dev_sectors,
                       d.hi_dev_sectors);
        }
        printf("continue: from array sector %" PRIu64 ", sync_max %" PRIu64 " (member sectors), %s\n", pos,
               progress, supervise ? "supervised to the end" : "left frozen (--no-supervise)");
        return 0;
}

/* The reshape ended before it could be cleaned up: assembled as mdadm
 * would (read-auto: writable at the first write), and what the reshape
 * left removed. */
static int finish_ended(struct restore_ctx *c, bool dry_run)
{
        char uuid[BACKUP_UUID_STRING_MAX];
        struct md *md = NULL;
        int r;

        if (dry_run) {
                printf("%s: dry run; nothing was written.\n"
                       "reshape: ended (the superblocks record none)\n"
                       "restore would: assemble the array, remove the backup %s and its record\n",
                       c->devnode, c->backup_path);
                return 0;
        }
        r = md_assemble_readonly(c->md_name, c->members, c->n_members);
        if (r < 0)
                return r;
        r = md_open(c->devnode, &md);
        if (r >= 0)
                r = md_write_attr(md, "array_state", "read-auto");
        md_close(md);
        if (r < 0)
                return log_error_errno(r, "%s: assembled read-only, but making it writable failed: %m. Run: mdadm --readwrite %s",
                                       c->md_name, c->devnode);
        record_forget_reshape(backup_uuid_format(c->freshest->uuid, uuid), c->md_name, c->backup_path,
                              c->backup_path);
        printf("%s: assembled; its reshape had ended, nothing was restored. Removed the backup %s and its record.\n",
               c->devnode, c->backup_path);
        return 0;
}

static int block_stop_signals(void)
{
        sigset_t mask;

        return cli_block_stop_signals(&mask);
}


static int run(int argc, char **argv)
{
        static const struct option options[] = {
                { "backup-file",  required_argument, NULL, 'b' },
                { "max-window",   required_argument, NULL, 'w' },
                { "no-supervise", no_argument,       NULL, 'n' },
                { "ignore-generation-token", no_argument, NULL, 'G' },
                { "dry-run",      no_argument,       NULL, 'D' },
                { "help",         no_argument,       NULL, 'h' },
                {}
        };
        struct restore_ctx c = {};
        struct supervisor_options o;
        const char *backup_option = NULL;
        struct md *md = NULL;
        bool supervise = true, dry_run = false;
        pid_t holder;
        int opt, r, lock = -1;

        supervisor_options_init(&o);
        while ((opt = getopt_long(argc, argv, "b:w:nh", options, NULL)) != -1) {
                switch (opt) {
                case 'b':
                        backup_option = optarg;
                        break;
                case 'w':
                        if (supervisor_options_max_window(&o, optarg) < 0)
                                return EXIT_USAGE;
                        break;
                case 'n':
                        supervise = false;
                        break;
                case 'G':
                        c.ignore_token = true;
                        break;
                case 'D':
                        dry_run = true;
                        break;
                case 'h':
                        cmd_print_help(&cmd_restore);
                        return EXIT_OK;
                default:
                        return EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                log_error("restore needs the array, like /dev/md0; see 'reshaped help restore'.");
                return EXIT_USAGE;
        }
        c.md_name = parse_md_name(argv[optind]);
        if (!c.md_name) {
                log_error("'%s' is not an array name like /dev/md0 (named arrays /dev/md/NAME: use the mdN they run as).",
                          argv[optind]);
                return EXIT_USAGE;
        }
        snprintf(c.devnode, sizeof(c.devnode), "/dev/%s", c.md_name);

        /* A dry run writes nothing, not even the lock: it must not make a
         * supervisor that starts meanwhile refuse. */
        if (!dry_run) {
                r = lock = supervise_lock_take(c.md_name, &holder);
                if (r < 0)
                        goto out;
        }
        r = restore_prepare(&c, backup_option, argv + optind + 1, (size_t) (argc - optind - 1));
        if (r < 0)
                goto out;
        if (c.ended) {
                r = finish_ended(&c, dry_run);
                goto out;
        }
        if (dry_run) {
                r = print_dry_run(&c, supervise);
                goto out;
        }
        /* From the assembly until the backup is emptied a signal would
         * leave a torn array running; the supervisor takes them from its
         * signalfd afterwards (a pending one stops it safely). */
        r = block_stop_signals();
        if (r < 0)
                goto out;
        if (c.critical_position)
                r = restore_finish_critical(&c);
        else if (c.write_old)
                r = restore_write_old(&c);
        if (r < 0)
                goto out;
        r = md_assemble_readonly(c.md_name, c.members, c.n_members);
        if (r < 0)
                goto out;
        r = restore_write_back(&c, &md);
        if (r < 0)
                goto out;
        if (!supervise) {
                printf("%s is assembled and its reshape frozen at the checkpoint.\n"
                       "Continue with: reshaped supervise %s --backup-file %s\n",
                       c.devnode, c.devnode, c.backup_path);
                goto out;
        }
        o.backup_path = c.backup_path;
        r = supervisor_run(md, &o);
        cmd_report_failure(md, r);
out:
        md_close(md);
        md_member_supers_free(c.members, c.n_members);
        free(c.backup_path);
        if (lock >= 0)
                close(lock);
        return cmd_supervised_exit_status(r);
}

const struct cmd cmd_restore = {
        .name = "restore",
        .summary = "bring a reshaping array back after a crash and supervise it",
        .help =
        "Usage: reshaped restore DEVICE [--backup-file FILE] [--no-supervise]\n"
        "                        [--dry-run] [--max-window SIZE] [--ignore-generation-token]\n"
        "                        [MEMBER...]\n"
        "\n"
        "Starts an array whose reshape a crash or reboot interrupted, with nothing\n"
        "unprotected at any moment, and supervises the rest of the reshape:\n"
        "\n"
        "  1. Reads the members' superblocks (MEMBERs, or every block device that\n"
        "     carries the backup's array UUID; one node per member) and verifies\n"
        "     the backup file: header and section checksums, and that it was taken\n"
        "     for the reshape the superblocks record (array UUID, level, raid disks,\n"
        "     chunk and layout before and after, component size, direction, md\n"
        "     event count), and that it is not older than the newest generation\n"
        "     the supervisor recorded in the state directory. A backup that does not\n"
        "     verify, of another reshape, or stale is refused, field by field,\n"
        "     before anything touches the array.\n"
        "  2. Checks that the backup holds every sector the kernel may have\n"
        "     rewritten beyond the on-disk checkpoint (or, holding no section, that\n"
        "     the kernel was held exactly there).\n"
        "  3. Starts the array read-only through sysfs, freezes the reshape with\n"
        "     sync_max at the checkpoint, makes the array writable and writes that\n"
        "     part of the backup back through it. (mdadm --assemble cannot be used:\n"
        "     it starts a same-size reshape with sync_max=max before any supervisor\n"
        "     could take over, even with --freeze-reshape.)\n"
        "  4. Supervises the reshape until it ends, as 'reshaped supervise' does.\n"
        "\n"
        "A reshape that had already ended (the superblocks record none) is only\n"
        "assembled, and its backup and record removed.\n"
        "\n"
        "  -b, --backup-file FILE  the backup (default: the path reshaped recorded\n"
        "                          in /var/lib/reshaped, or RESHAPED_STATE_DIR)\n"
        "  -n, --no-supervise      stop after step 3, the reshape left frozen, and\n"
        "                          print the command that continues it\n"
        "      --dry-run           do steps 1 and 2 only and print what the rest\n"
        "                          would do: the backup's verdict, the ranges it\n"
        "                          would write back (array bytes and member\n"
        "                          sectors) and where the reshape would continue;\n"
        "                          writes nothing anywhere\n"
        "  -w, --max-window SIZE   largest window while supervising (64M)\n"
        "      --ignore-generation-token\n"
        "                          restore the backup even when it is older than the\n"
        "                          newest generation the supervisor recorded (see\n"
        "                          GENERATION TOKEN in reshaped(8)); what the kernel\n"
        "                          rewrote beyond it stays torn\n"
        "\n"
        "Exit status: 0 when the reshape finished (or, with --no-supervise, the\n"
        "array is up and frozen; with --dry-run, restore would go ahead), 1 on\n"
        "failure (or refusal), 2 on usage errors.\n",
        .run = run,
};
