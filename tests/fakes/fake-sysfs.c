// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake-sysfs.h"

static const struct fake_attr defaults[] = {
        { "level", "raid5" },
        { "raid_disks", "4" },
        { "chunk_size", "65536" },
        { "layout", "2" },
        { "component_size", "261120" },
        { "metadata_version", "0.90" },
        { "array_state", "clean" },
        { "degraded", "0" },
        { "sync_action", "idle" },
        { "sync_completed", "none" },
        { "sync_min", "0" },
        { "sync_max", "max" },
        { "sync_speed_min", "1000 (system)" },
        { "sync_speed_max", "200000 (system)" },
        { "reshape_position", "none" },
        { "reshape_direction", "forwards" },
        { "suspend_lo", "0" },
        { "suspend_hi", "0" },
};

char *fake_sysfs_path(const char *root, const char *rel)
{
        char *p;

        assert_true(asprintf(&p, "%s/%s", root, rel) >= 0);
        return p;
}

static char *pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *pathf(const char *fmt, ...)
{
        va_list ap;
        char *p;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&p, fmt, ap);
        va_end(ap);
        assert_true(r >= 0);
        return p;
}

static void make_dir(const char *path)
{
        if (mkdir(path, 0755) < 0)
                fail_msg("mkdir %s: %s", path, strerror(errno));
}

static void write_file(const char *path, const char *value)
{
        FILE *f = fopen(path, "we");

        if (!f)
                fail_msg("create %s: %s", path, strerror(errno));
        assert_true(fprintf(f, "%s\n", value) >= 0);
        assert_int_equal(fclose(f), 0);
}

static void make_symlink(const char *target, const char *path)
{
        if (symlink(target, path) < 0)
                fail_msg("symlink %s: %s", path, strerror(errno));
}

static const char *attr_value(const struct fake_array *a, const char *name, const char *dflt)
{
        if (a->attrs)
                for (const struct fake_attr *x = a->attrs; x->name; x++)
                        if (strcmp(x->name, name) == 0)
                                return x->value;
        return dflt;
}

static int is_default(const char *name)
{
        for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
                if (strcmp(defaults[i].name, name) == 0)
                        return 1;
        return 0;
}

static void create_member(const char *root, const char *md_dir, const struct fake_member *m)
{
        char *dir = pathf("%s/dev-%s", md_dir, m->name);
        char *dev_dir = pathf("%s/devices/%s", root, m->name);
        char *target = pathf("../../../../devices/%s", m->name);
        char *p;

        make_dir(dir);
        make_dir(dev_dir);
        p = pathf("%s/dev", dev_dir);
        write_file(p, m->devnum);
        free(p);

        /* From ROOT/block/NAME/md/dev-M up four levels is ROOT, as real
         * sysfs links climb to /sys. */
        p = pathf("%s/block", dir);
        make_symlink(target, p);
        free(p);

        p = pathf("%s/state", dir);
        write_file(p, m->state);
        free(p);
        p = pathf("%s/slot", dir);
        write_file(p, m->slot);
        free(p);
        p = pathf("%s/offset", dir);
        write_file(p, "0");
        free(p);
        p = pathf("%s/new_offset", dir);
        write_file(p, "0");
        free(p);
        p = pathf("%s/size", dir);
        write_file(p, "261120");
        free(p);

        free(target);
        free(dev_dir);
        free(dir);
}

char *fake_sysfs_create(const struct fake_array *a)
{
        char template[] = "/tmp/reshaped-fake-sysfs-XXXXXX";
        char *root, *block_dir, *md_dir, *p;

        assert_non_null(mkdtemp(template));
        root = strdup(template);
        assert_non_null(root);

        p = pathf("%s/block", root);
        make_dir(p);
        free(p);
        p = pathf("%s/devices", root);
        make_dir(p);
        free(p);
        p = pathf("%s/dev", root);
        make_dir(p);
        free(p);
        p = pathf("%s/dev/md", root);
        make_dir(p);
        free(p);

        block_dir = pathf("%s/block/%s", root, a->name);
        make_dir(block_dir);
        md_dir = pathf("%s/md", block_dir);
        make_dir(md_dir);

        if (a->devnum) {
                p = pathf("%s/dev", block_dir);
                write_file(p, a->devnum);
                free(p);
        }

        for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
                const char *v = attr_value(a, defaults[i].name, defaults[i].value);

                if (!v)
                        continue;
                p = pathf("%s/%s", md_dir, defaults[i].name);
                write_file(p, v);
                free(p);
        }
        if (a->attrs)
                for (const struct fake_attr *x = a->attrs; x->name; x++) {
                        if (!x->value || is_default(x->name))
                                continue;
                        p = pathf("%s/%s", md_dir, x->name);
                        write_file(p, x->value);
                        free(p);
                }

        for (size_t i = 0; i < a->n_members; i++)
                create_member(root, md_dir, &a->members[i]);

        if (a->dev_md_name) {
                char *target = pathf("../%s", a->name);

                p = pathf("%s/dev/md/%s", root, a->dev_md_name);
                make_symlink(target, p);
                free(p);
                free(target);
        }

        free(md_dir);
        free(block_dir);
        return root;
}

void fake_sysfs_set(const char *root, const char *md, const char *attr, const char *value)
{
        char *p = pathf("%s/block/%s/md/%s", root, md, attr);

        if (value)
                write_file(p, value);
        else if (unlink(p) < 0)
                fail_msg("unlink %s: %s", p, strerror(errno));
        free(p);
}

char *fake_sysfs_get(const char *root, const char *md, const char *attr)
{
        char *p = pathf("%s/block/%s/md/%s", root, md, attr);
        char buf[4096];
        ssize_t n;
        int fd;

        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                fail_msg("open %s: %s", p, strerror(errno));
        n = read(fd, buf, sizeof(buf) - 1);
        assert_true(n >= 0);
        buf[n] = '\0';
        close(fd);
        free(p);
        p = strdup(buf);
        assert_non_null(p);
        return p;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        return remove(path) < 0 ? -1 : 0;
}

void fake_sysfs_remove(char *root)
{
        if (!root)
                return;
        if (nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
                fail_msg("remove %s: %s", root, strerror(errno));
        free(root);
}

const struct fake_member fake_members4[4] = {
        { "sda", "in_sync", "0", "8:0" },
        { "sdb", "in_sync", "1", "8:16" },
        { "sdc", "in_sync", "2", "8:32" },
        { "sdd", "in_sync", "3", "8:48" },
};

int fake_run_reshaped(char *out, size_t out_size, char *err, size_t err_size, const char *const *args)
{
        const char *bin = getenv("RESHAPED_TEST_BINARY");
        char outpath[] = "/tmp/reshaped-test-out-XXXXXX", errpath[] = "/tmp/reshaped-test-err-XXXXXX";
        const char *argv[16] = { bin };
        int fd, efd, status;
        ssize_t n;
        pid_t pid;

        assert_non_null(bin);
        for (size_t i = 0; args[i]; i++)
                argv[i + 1] = args[i];
        fd = mkstemp(outpath);
        efd = mkstemp(errpath);
        assert_true(fd >= 0 && efd >= 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (dup2(fd, STDOUT_FILENO) < 0 || dup2(efd, STDERR_FILENO) < 0)
                        _exit(127);
                execv(bin, (char *const *) argv);
                _exit(127);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        n = pread(fd, out, out_size - 1, 0);
        assert_true(n >= 0);
        out[n] = '\0';
        n = pread(efd, err, err_size - 1, 0);
        assert_true(n >= 0);
        err[n] = '\0';
        close(fd);
        close(efd);
        unlink(outpath);
        unlink(errpath);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}
