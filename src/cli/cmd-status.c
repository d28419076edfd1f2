// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `reshaped status`: gathers what src/report/status.c judges, from sysfs, the
 * superblocks, reshaped's record, mdadm's /run record, the backup file
 * and /proc. Works with no daemon running; nothing is written.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reshaped/backup/backup-verdict.h"
#include "reshaped/backup/backup.h"
#include "reshaped/cli/cmd.h"
#include "reshaped/cli/cli-util.h"
#include "reshaped/util/log.h"
#include "reshaped/md/md.h"
#include "reshaped/supervise/record.h"
#include "reshaped/report/status.h"
#include "reshaped/supervise/supervise-lock.h"
#include "reshaped/cli/status-observe.h"

/* Documented in `reshaped help status` and reshaped(8). */
enum {
        STATUS_EXIT_OK = EXIT_OK,
        STATUS_EXIT_NOT_PROTECTED = 1,
        STATUS_EXIT_ERROR = 2,
};

/* Failures of what status merely reports on (a superblock it may not
 * read, a missing backup file) belong in its report, not on stderr as
 * errors of the command; -v shows them. */
static int quiet_begin(void)
{
        int level = log_get_max_level();

        if (level < LOG_DEBUG)
                log_set_max_level(LOG_CRIT);
        return level;
}

static void quiet_end(int level)
{
        log_set_max_level(level);
}

/* Where the backup is: reshaped's record (by name, then by UUID), else
 * the link mdadm --grow leaves in /run. */
static char *find_backup(const struct status_observed *o, const char **ret_source)
{
        char uuid[BACKUP_UUID_STRING_MAX];
        char *path = NULL;

        if (record_lookup(o->name, &path) == 0 ||
            (o->super_error == 0 && record_lookup(backup_uuid_format(o->uuid, uuid), &path) == 0)) {
                *ret_source = "reshaped's record";
                return path;
        }
        path = record_mdadm_lookup(o->name);
        *ret_source = "mdadm's record";
        return path;
}

/*
 * A process running @program whose command line has one of @verbs and,
 * after it, names the array: reshaped supervise, start or restore; mdadm
 * --grow (its monitor keeps that command line). Stands in for the lock
 * file under /run/reshaped/ that will name reshaped's holder.
 */
static pid_t find_process(const char *md_name, const char *program, const char *const *verbs)
{
        char path[64], buf[4096], dev[64];
        struct dirent *de;
        pid_t found = 0;
        DIR *d;

        snprintf(dev, sizeof(dev), "/dev/%s", md_name);
        d = opendir("/proc");
        if (!d)
                return 0;
        while (!found && (de = readdir(d))) {
                int pid = isdigit((unsigned char) de->d_name[0]) ? atoi(de->d_name) : 0;
                const char *arg, *base, *end;
                bool verb = false;
                ssize_t n;
                FILE *f;

                if (pid <= 0 || pid == getpid())
                        continue;
                snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
                f = fopen(path, "re");
                if (!f)
                        continue;
                n = (ssize_t) fread(buf, 1, sizeof(buf) - 1, f);
                fclose(f);
                if (n <= 0)
                        continue;
                buf[n] = '\0';
                end = buf + n;
                base = strrchr(buf, '/');
                if (strcmp(base ? base + 1 : buf, program) != 0)
                        continue;
                for (arg = buf + strlen(buf) + 1; arg < end; arg += strlen(arg) + 1) {
                        char real[PATH_MAX];

                        for (size_t i = 0; !verb && verbs[i]; i++)
                                verb = strcmp(arg, verbs[i]) == 0;
                        if (verb && (strcmp(arg, md_name) == 0 || strcmp(arg, dev) == 0 ||
                                     (strncmp(arg, "/dev/md/", 8) == 0 && realpath(arg, real) &&
                                      strcmp(real, dev) == 0))) {
                                found = pid;
                                break;
                        }
                }
        }
        closedir(d);
        return found;
}

/* The systemd unit of @pid, from its cgroup. */
static char *unit_of(pid_t pid)
{
        char path[64], text[8192];
        char *unit = NULL;
        size_t n;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return NULL;
        n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        text[n] = '\0';
        if (status_unit_from_cgroup(text, path, sizeof(path)))
                unit = strdup(path);
        return unit;
}

/* The supervisor rewrites the header and refills released slots while we
 * read: a section that fails its CRC may just have been replaced. Read
 * again before calling the file damaged. */
static int verify_backup(const char *path, struct backup_report *rep)
{
        int r = 0;

        for (unsigned attempt = 0; attempt < 3; attempt++) {
                r = backup_file_verify(path, NULL, 0, rep);
                if (r < 0 || backup_verdict_classify(rep->verdict.reason) != BACKUP_CLASS_DAMAGED)
                        break;
        }
        return r;
}

static int read_speed(struct md *md, struct status_observed *o)
{
        char buf[64];
        char *end;
        int r;

        r = md_read_attr(md, "sync_speed", buf, sizeof(buf));
        if (r < 0)
                return r;
        if (strncmp(buf, "none", 4) == 0)
                return 0;
        errno = 0;
        o->speed_kib_per_sec = strtoull(buf, &end, 10);
        if (errno || end == buf || (*end && *end != '\n'))
                return log_error_errno(EINVAL, "Unexpected sync_speed of %s: \"%s\"", md_name(md), buf);
        o->speed_known = true;
        return 0;
}

/* The order matters: sync_max before the backup header (the supervisor
 * backs up before it raises the limit), the checkpoint after it (it
 * releases a window only once the checkpoint on disk has passed it), and
 * the kernel's front last, so that it is never behind the checkpoint
 * shown. Reading the backup takes a while: when sync_max moved meanwhile,
 * everything is read again, so that what is shown is one moment. */
static int observe_reshape(struct md *md, struct status_observation *ob)
{
        struct status_observed *o = &ob->o;
        uint64_t sync_max_after;
        int r, q;

        q = quiet_begin();
        o->super_error = md_read_uuid_and_events(md, o->uuid, &(uint64_t) { 0 });
        ob->backup_path = find_backup(o, &o->backup_source);
        o->backup_path = ob->backup_path;
        quiet_end(q);

        for (unsigned attempt = 0;; attempt++) {
                r = md_get_sync_max(md, &o->sync_max_progress);
                if (r < 0)
                        return r;
                q = quiet_begin();
                if (o->backup_path)
                        o->backup_error = verify_backup(o->backup_path, &o->backup);
                o->checkpoint_error = md_read_disk_checkpoint(md, &o->checkpoint_active,
                                                              &o->checkpoint_array_sectors);
                quiet_end(q);
                r = md_get_reshape_position(md, &o->position_array_sectors);
                if (r < 0)
                        return r;
                r = md_get_sync_completed(md, &o->completed);
                if (r < 0)
                        return r;
                r = md_get_sync_max(md, &sync_max_after);
                if (r < 0)
                        return r;
                if (sync_max_after == o->sync_max_progress || attempt == 2)
                        break;
        }
        return read_speed(md, o);
}

/* The pause record, and the running supervisor's confirmation of it. */
static void observe_pause(struct status_observed *o)
{
        char uuid[BACKUP_UUID_STRING_MAX];
        struct supervise_held h;
        uint64_t request = 0;
        int r, q;

        if (o->super_error != 0)
                return;
        q = quiet_begin();
        r = record_pause_get(backup_uuid_format(o->uuid, uuid), &request);
        o->paused = r == 0 || r == -EBADMSG;
        if (o->paused && o->supervisor_pid > 0 && supervise_held_read(o->name, &h) == 0 &&
            h.request == request && h.pid == o->supervisor_pid && !h.final_window) {
                o->pause_held = true;
                o->pause_held_progress = h.progress_sectors;
        }
        quiet_end(q);
}

int status_observe(struct md *md, struct status_observation *ob)
{
        struct status_observed *o = &ob->o;
        enum md_array_state st;
        char buf[64];
        int r;

        *ob = (struct status_observation) {};
        o->name = md_name(md);
        o->devnode = md_devnode(md);
        r = md_get_array_state(md, &st);
        if (r < 0)
                return r;
        if (st == MD_ARRAY_INACTIVE || st == MD_ARRAY_CLEAR) {
                o->inactive = true;
                return 0;
        }
        r = md_get_geometry(md, &o->mdg);
        if (r < 0)
                return r;
        r = md_read_attr(md, "array_size", buf, sizeof(buf));
        if (r < 0)
                return r;
        if (strncmp(buf, "default", 7) != 0)
                o->array_kib = strtoull(buf, NULL, 10);
        r = md_get_sync_action(md, &o->action);
        if (r < 0)
                return r;
        r = md_get_reshape_position(md, &o->position_array_sectors);
        if (r < 0)
                return r;
        if (o->action != MD_SYNC_ACTION_RESHAPE && o->position_array_sectors == MD_RESHAPE_POSITION_NONE)
                return 0;
        r = observe_reshape(md, ob);
        if (r < 0)
                return r;

        o->supervisor_pid = find_process(o->name, "reshaped",
                                         (const char *const[]) { "supervise", "start", "restore", NULL });
        if (o->supervisor_pid > 0)
                o->supervisor_unit = ob->unit = unit_of(o->supervisor_pid);
        else
                o->mdadm_pid = find_process(o->name, "mdadm", (const char *const[]) { "--grow", "-G", NULL });
        observe_pause(o);
        return 0;
}

int status_observe_progress(struct md *md, struct status_observation *ob)
{
        struct status_observed *o = &ob->o;
        enum md_array_state st;
        int r;

        r = md_get_array_state(md, &st);
        if (r < 0)
                return r;
        o->inactive = st == MD_ARRAY_INACTIVE || st == MD_ARRAY_CLEAR;
        if (o->inactive)
                return 0;
        r = md_get_sync_action(md, &o->action);
        if (r < 0)
                return r;
        r = md_get_reshape_position(md, &o->position_array_sectors);
        if (r < 0)
                return r;
        r = md_get_sync_completed(md, &o->completed);
        if (r < 0)
                return r;
        o->speed_known = false;
        return read_speed(md, o);
}

void status_observation_clear(struct status_observation *ob)
{
        free(ob->backup_path);
        free(ob->unit);
        *ob = (struct status_observation) {};
}

/* Reports one array; returns its exit status. @listing: an array found
 * in sysfs, shown only when it reshapes. */
static int status_one(const char *spec, bool json, bool listing, bool *first)
{
        struct status_observation ob = {};
        struct status_view v;
        struct md *md = NULL;
        char msg[512] = "";
        int r, q, ret = STATUS_EXIT_OK;

        q = quiet_begin();
        r = md_open(spec, &md);
        quiet_end(q);
        if (r < 0) {
                if (listing && r == -ENOENT)
                        return STATUS_EXIT_OK;
                snprintf(msg, sizeof(msg), "%s: %s; give an md array such as /dev/md0 (see /proc/mdstat)",
                         spec, cli_md_open_strerror(spec, r));
        } else {
                r = status_observe(md, &ob);
                if (r < 0)
                        snprintf(msg, sizeof(msg), "%s: cannot read its state from sysfs: %s",
                                 md_devnode(md), strerror(-r));
                else
                        status_decide(&ob.o, &v);
        }
        if (msg[0] || !listing || (v.state != STATUS_NO_RESHAPE && v.state != STATUS_INACTIVE)) {
                if (json && !*first)
                        fputs(",\n", stdout);
                *first = false;
                if (msg[0]) {
                        log_error("%s.", msg);
                        if (json)
                                status_print_json_error(stdout, md ? md_devnode(md) : spec, msg);
                        ret = STATUS_EXIT_ERROR;
                } else {
                        if (json)
                                status_print_json(stdout, &ob.o, &v);
                        else
                                status_print_text(stdout, &ob.o, &v);
                        ret = status_state_ok(v.state) ? STATUS_EXIT_OK : STATUS_EXIT_NOT_PROTECTED;
                }
        }
        status_observation_clear(&ob);
        md_close(md);
        return ret;
}

static int is_md_dir(const struct dirent *de)
{
        return strncmp(de->d_name, "md", 2) == 0;
}

/* Every md array under sysfs with a reshape in progress, in name order. */
static int status_all(bool json, bool *first, int *worst)
{
        char dir[PATH_MAX];
        struct dirent **list = NULL;
        int n;

        snprintf(dir, sizeof(dir), "%s/block", md_get_sysfs_root());
        n = scandir(dir, &list, is_md_dir, versionsort);
        if (n < 0)
                return log_error_errno(errno, "Failed to list %s: %m", dir);
        for (int i = 0; i < n; i++) {
                int r = status_one(list[i]->d_name, json, true, first);

                if (r > *worst)
                        *worst = r;
                free(list[i]);
        }
        free(list);
        if (*first && !json)
                printf("No md array is reshaping.\n");
        return 0;
}

static int run_status(int argc, char **argv)
{
        enum { OPT_JSON = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, OPT_JSON },
                {}
        };
        bool json = false, first = true;
        int opt, worst = STATUS_EXIT_OK;

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
                switch (opt) {
                case 'h':
                        cmd_print_help(&cmd_status);
                        return EXIT_OK;
                case OPT_JSON:
                        json = true;
                        break;
                default:
                        fprintf(stderr, "See 'reshaped help status'.\n");
                        return EXIT_USAGE;
                }
        }

        if (json)
                fputs("[\n", stdout);
        if (optind == argc) {
                if (status_all(json, &first, &worst) < 0)
                        worst = STATUS_EXIT_ERROR;
        } else
                for (int i = optind; i < argc; i++) {
                        int r = status_one(argv[i], json, false, &first);

                        if (r > worst)
                                worst = r;
                }
        if (json)
                fputs(first ? "]\n" : "\n]\n", stdout);
        if (fflush(stdout) != 0) {
                log_error_errno(errno, "Failed to write the status: %m");
                return STATUS_EXIT_ERROR;
        }
        return worst;
}

const struct cmd cmd_status = {
        .name = "status",
        .summary = "show whether running reshapes are protected",
        .help =
        "Usage: reshaped status [--json] [DEVICE...]\n"
        "\n"
        "For every md array with a reshape in progress (or each DEVICE named),\n"
        "whether it is protected, and by whom: the change, progress, rate and time\n"
        "to go (md's sync_speed), how far the kernel may go (sync_max) and how far\n"
        "the backup reaches, the backup file (from reshaped's record in\n"
        "/var/lib/reshaped or mdadm's in /run/mdadm; verified or not), and the\n"
        "reshaped process supervising it (or mdadm --grow's monitor). A reshape the\n"
        "kernel may carry past what the backup holds, with nobody supervising it,\n"
        "is UNPROTECTED, and the command that protects it is shown. Needs no\n"
        "running daemon; writes nothing. Reading the superblocks and the backup\n"
        "needs root.\n"
        "\n"
        "Options:\n"
        "  --json       print a JSON array, one object per array (schema in reshaped(8))\n"
        "  -h, --help   show this help\n"
        "\n"
        "Exit status:\n"
        "  0  every array shown is protected, not at risk, or not reshaping\n"
        "  1  some array is unprotected, held (nobody supervises it), paused\n"
        "     (reshaped pause), being taken over, inactive (named only), or in\n"
        "     a state this tool cannot judge\n"
        "  2  an error: a DEVICE that does not exist or is not an md array, state\n"
        "     that cannot be read, or a bad command line\n",
        .run = run_status,
};
