// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * reshaped recover: the boot path (reshaped-recover.service). For every
 * array reshaped recorded whose members' superblocks still show the
 * reshape, it stops the inactive array mdadm --incremental left holding
 * the members (mdadm refuses to start a reshape that needs a backup) and
 * runs `reshaped restore` for it, one process per array: verify the
 * backup, write back, supervise to the end. Nothing here touches an array
 * before restore has verified its backup, beyond unbinding members from
 * an array that never ran.
 *
 * With --leave-to-mdadm MD it only answers, for mdadm-last-resort@.service
 * (ExecCondition), whether mdadm may start the inactive array MD: its
 * `mdadm --run` starts a reshaping array read-auto without any backup.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reshaped/backup/backup.h"
#include "reshaped/cli/cmd.h"
#include "reshaped/util/log.h"
#include "reshaped/md/md-assemble.h"
#include "reshaped/md/md.h"
#include "reshaped/supervise/record.h"

struct recorded {
        char *key;          /* UUID as backup_uuid_format() writes it, or "mdN" */
        char *backup_path;
};

struct records {
        struct recorded *v;
        size_t n;
};

static int collect(const char *key, const char *backup_path, void *userdata)
{
        struct records *rs = userdata;
        struct recorded *nv = realloc(rs->v, (rs->n + 1) * sizeof(*nv));

        if (!nv)
                return log_error_errno(ENOMEM, "Out of memory.");
        rs->v = nv;
        nv[rs->n].key = strdup(key);
        nv[rs->n].backup_path = strdup(backup_path);
        if (!nv[rs->n].key || !nv[rs->n].backup_path) {
                free(nv[rs->n].key);
                free(nv[rs->n].backup_path);
                return log_error_errno(ENOMEM, "Out of memory.");
        }
        rs->n++;
        return 0;
}

static void records_free(struct records *rs)
{
        for (size_t i = 0; i < rs->n; i++) {
                free(rs->v[i].key);
                free(rs->v[i].backup_path);
        }
        free(rs->v);
}

/* The inverse of backup_uuid_format(): 32 hex digits, ':' after every 8. */
static int parse_uuid(const char *s, uint8_t uuid[16])
{
        if (strlen(s) != BACKUP_UUID_STRING_MAX - 1)
                return -EINVAL;
        for (unsigned i = 0; i < 16; i++) {
                const char *p = s + 2 * i + i / 4;
                unsigned v;

                if (i > 0 && i % 4 == 0 && p[-1] != ':')
                        return -EINVAL;
                if (sscanf(p, "%2x", &v) != 1 || !strchr("0123456789abcdef", p[0]) ||
                    !strchr("0123456789abcdef", p[1]))
                        return -EINVAL;
                uuid[i] = (uint8_t) v;
        }
        return 0;
}

static bool is_md_name(const char *s)
{
        return strncmp(s, "md", 2) == 0 && s[2] && strspn(s + 2, "0123456789") == strlen(s + 2);
}

/* The md name recorded with the same backup path as @uuid's record. */
static const char *recorded_name(const struct records *rs, const struct recorded *u)
{
        for (size_t i = 0; i < rs->n; i++)
                if (is_md_name(rs->v[i].key) && strcmp(rs->v[i].backup_path, u->backup_path) == 0)
                        return rs->v[i].key;
        return NULL;
}

static int write_sysfs(const char *path, const char *value)
{
        int fd, r = 0;

        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, value, strlen(value)) != (ssize_t) strlen(value))
                r = errno ? -errno : -EIO;
        close(fd);
        return r;
}

/*
 * mdadm --incremental binds each member to an array as it appears and,
 * once all are there, refuses to run one whose reshape needs a backup,
 * leaving it inactive with the members held. Restore assembles the array
 * itself, so such an array is stopped; one that runs was started by
 * someone else, and restoring under it would be wrong.
 */
static int release_members(const char *md_name, const struct md_member_super *m, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const char *base = strrchr(m[i].devnode, '/');
                char path[PATH_MAX];
                struct dirent *de;
                DIR *d;
                int r = 0;

                base = base ? base + 1 : m[i].devnode;
                snprintf(path, sizeof(path), "%s/class/block/%s/holders", md_get_sysfs_root(), base);
                d = opendir(path);
                if (!d)
                        continue;
                while (r >= 0 && (de = readdir(d))) {
                        bool running;

                        if (!is_md_name(de->d_name))
                                continue;
                        r = md_array_is_running(de->d_name, &running);
                        if (r < 0)
                                break;
                        if (running) {
                                r = log_error_errno(EBUSY, "%s: %s already runs from %s (someone started it before reshaped could restore it: mdadm --run or mdadm --assemble?). Nothing was changed; if its reshape has not moved since, 'reshaped supervise /dev/%s --backup-file BACKUP' protects the rest.",
                                                    md_name, de->d_name, m[i].devnode, de->d_name);
                                break;
                        }
                        snprintf(path, sizeof(path), "%s/block/%s/md/array_state", md_get_sysfs_root(),
                                 de->d_name);
                        r = write_sysfs(path, "clear");
                        if (r < 0) {
                                log_error_errno(r, "%s: failed to stop the inactive %s that holds %s (writing clear to %s): %m",
                                                md_name, de->d_name, m[i].devnode, path);
                                break;
                        }
                        log_info("%s: stopped the inactive %s that held %s (mdadm --incremental assembles a reshaping array but does not start it).",
                                 md_name, de->d_name, m[i].devnode);
                }
                closedir(d);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* What is to be done for the recorded array @u: 1 when restore should run
 * for it as @ret_name, 0 when nothing (logged), negative on failure. */
static int examine(const struct records *rs, const struct recorded *u, const uint8_t uuid[16],
                   const char **ret_name)
{
        const char *name = recorded_name(rs, u);
        const struct md_member_super *f;
        struct md_member_super *m = NULL;
        size_t n = 0;
        int r;

        r = md_member_supers_scan(uuid, &m, &n);
        if (r < 0)
                return r;
        if (n == 0) {
                log_info("array %s: recorded (backup %s), but no block device carries its superblock; nothing to do.",
                         u->key, u->backup_path);
                r = 0;
                goto out;
        }
        f = md_member_supers_freshest(m, n);
        if (!f->reshape_active) {
                bool ours = backup_file_is_of_array(u->backup_path, f->uuid);

                log_notice("array %s: its superblocks (%s) record no reshape: it ended; forgetting the record%s of backup %s.",
                           u->key, f->devnode, ours ? " and removing the file" : "", u->backup_path);
                record_forget_reshape(u->key, name ? name : u->key, u->backup_path, ours ? u->backup_path : NULL);
                r = 0;
                goto out;
        }
        if (!name) {
                r = log_error_errno(ENOENT, "array %s: reshaping, but no md name recorded with backup %s; restore it by hand: reshaped restore /dev/mdN --backup-file %s",
                                    u->key, u->backup_path, u->backup_path);
                goto out;
        }
        log_info("%s: array %s was reshaping at array sector %" PRIu64 " (%s); restoring it from %s.", name, u->key,
                 f->reshape_position_array_sectors, f->devnode, u->backup_path);
        r = release_members(name, m, n);
        if (r < 0)
                goto out;
        *ret_name = name;
        r = 1;
out:
        md_member_supers_free(m, n);
        return r;
}

static pid_t children[64];
static size_t n_children;

/* A stop request to recover is one to every restore it runs. */
static void forward_signal(int sig)
{
        for (size_t i = 0; i < n_children; i++)
                (void) kill(children[i], sig);
}

static int spawn_restore(const char *name, const char *backup_path, const char *max_window)
{
        char dev[64];
        char *argv[8];
        int argc = 0;
        pid_t pid;

        if (n_children == sizeof(children) / sizeof(children[0]))
                return log_error_errno(E2BIG, "%s: more than %zu arrays to recover at once; restore it by hand.",
                                       name, n_children);
        snprintf(dev, sizeof(dev), "/dev/%s", name);
        argv[argc++] = (char *) "restore";
        argv[argc++] = dev;
        argv[argc++] = (char *) "--backup-file";
        argv[argc++] = (char *) backup_path;
        if (max_window) {
                argv[argc++] = (char *) "--max-window";
                argv[argc++] = (char *) max_window;
        }
        argv[argc] = NULL;
        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "%s: failed to fork the restore: %m", name);
        if (pid == 0) {
                signal(SIGTERM, SIG_DFL);
                signal(SIGINT, SIG_DFL);
                optind = 0;
                _exit(cmd_restore.run(argc, argv));
        }
        children[n_children++] = pid;
        return 0;
}

static int recover_all(const char *max_window)
{
        struct records rs = {};
        struct sigaction sa = { .sa_handler = forward_signal };
        int failed = 0, r;

        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
                return log_error_errno(errno, "Failed to install the signal handlers: %m");
        r = record_foreach(collect, &rs);
        if (r < 0)
                goto out;
        for (size_t i = 0; i < rs.n; i++) {
                const char *name = NULL;
                uint8_t uuid[16];

                if (parse_uuid(rs.v[i].key, uuid) < 0)
                        continue;
                r = examine(&rs, &rs.v[i], uuid, &name);
                if (r > 0)
                        r = spawn_restore(name, rs.v[i].backup_path, max_window);
                if (r < 0)
                        failed++;
        }
        if (n_children == 0 && failed == 0)
                log_info("No recorded reshape to recover.");
        for (size_t i = 0; i < n_children; i++) {
                int status;

                while (waitpid(children[i], &status, 0) < 0)
                        if (errno != EINTR) {
                                status = -1;
                                break;
                        }
                if (status != 0)
                        failed++;
        }
        r = failed ? -EIO : 0;
out:
        records_free(&rs);
        return r;
}

/* 1 when @md_name's members record an unfinished reshape of an array
 * reshaped recorded, 0 otherwise (also when that cannot be told). */
static int claimed(const char *md_name)
{
        char path[PATH_MAX], uuid[BACKUP_UUID_STRING_MAX];
        struct dirent *de;
        int found = 0;
        DIR *d;

        snprintf(path, sizeof(path), "%s/block/%s/slaves", md_get_sysfs_root(), md_name);
        d = opendir(path);
        if (!d)
                return 0;
        while (!found && (de = readdir(d))) {
                struct md_member_super m;
                char dev[PATH_MAX], *backup = NULL;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(dev, sizeof(dev), "/dev/%s", de->d_name);
                if (md_member_super_probe(dev, &m) < 0)
                        continue;
                if (m.reshape_active && record_lookup(backup_uuid_format(m.uuid, uuid), &backup) == 0) {
                        log_notice("%s: reshaped recovers array %s (backup %s, reshape unfinished on %s): mdadm must not start it.",
                                   md_name, uuid, backup, dev);
                        found = 1;
                }
                free(backup);
                free(m.devnode);
        }
        closedir(d);
        return found;
}

static int run(int argc, char **argv)
{
        static const struct option options[] = {
                { "leave-to-mdadm", required_argument, NULL, 'l' },
                { "max-window",     required_argument, NULL, 'w' },
                { "help",           no_argument,       NULL, 'h' },
                {}
        };
        const char *leave = NULL, *max_window = NULL;
        int opt;

        while ((opt = getopt_long(argc, argv, "l:w:h", options, NULL)) != -1) {
                switch (opt) {
                case 'l':
                        leave = strncmp(optarg, "/dev/", 5) == 0 ? optarg + 5 : optarg;
                        break;
                case 'w':
                        max_window = optarg;
                        break;
                case 'h':
                        cmd_print_help(&cmd_recover);
                        return EXIT_OK;
                default:
                        return EXIT_USAGE;
                }
        }
        if (optind != argc) {
                log_error("recover takes no arguments; see 'reshaped help recover'.");
                return EXIT_USAGE;
        }
        if (leave) {
                if (!is_md_name(leave)) {
                        log_error("'%s' is not an array name like md0.", leave);
                        return EXIT_USAGE;
                }
                return claimed(leave) ? EXIT_FAILURE_RUN : EXIT_OK;
        }
        return recover_all(max_window) < 0 ? EXIT_FAILURE_RUN : EXIT_OK;
}

const struct cmd cmd_recover = {
        .name = "recover",
        .summary = "at boot: restore and supervise every recorded, unfinished reshape",
        .help =
        "Usage: reshaped recover [--max-window SIZE]\n"
        "       reshaped recover --leave-to-mdadm MD\n"
        "\n"
        "Run at boot by reshaped-recover.service. For every array recorded in\n"
        "/var/lib/reshaped (or RESHAPED_STATE_DIR) whose members' superblocks still\n"
        "show a reshape, stops the inactive array mdadm --incremental assembled\n"
        "from its members (mdadm does not start a reshape that needs a backup) and\n"
        "runs 'reshaped restore /dev/mdN --backup-file FILE' for it, one process\n"
        "per array: the backup is verified before anything is written, then\n"
        "written back and the reshape supervised to its end. A record whose\n"
        "array's superblocks show no reshape any more is removed.\n"
        "\n"
        "  -w, --max-window SIZE    passed to restore\n"
        "  -l, --leave-to-mdadm MD  only answer whether mdadm may start the\n"
        "                           inactive array MD: exit 1 when its members\n"
        "                           show an unfinished reshape reshaped recorded\n"
        "                           (mdadm-last-resort@.service's ExecCondition),\n"
        "                           0 otherwise\n"
        "\n"
        "Exit status: 0 when every recovered reshape finished (or there was none),\n"
        "1 when one failed, 2 on usage errors.\n",
        .run = run,
};
