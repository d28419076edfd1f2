// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "reshaped/log.h"
#include "reshaped/md.h"
#include "reshaped/placement.h"
#include "placement-internal.h"

static const struct placement_device *devices_find_name(const struct placement_devices *d,
                                                        const char *name)
{
        for (size_t i = 0; i < d->n; i++)
                if (strcmp(d->items[i].name, name) == 0)
                        return &d->items[i];
        return NULL;
}

struct walk {
        struct placement_devices devices;
        char **paths;                    /* canonical sysfs directory of each device */
        size_t n_paths;
        struct placement_verdict *out;
};

static const char *relation_to_string(enum placement_relation relation)
{
        switch (relation) {
        case PLACEMENT_ARRAY:     return "the array";
        case PLACEMENT_STACKED:   return "built on the array";
        case PLACEMENT_MEMBER:    return "(part of) a member of the array";
        case PLACEMENT_UNRELATED: break;
        }
        return "unrelated to the array";
}

static void walk_done(struct walk *w)
{
        for (size_t i = 0; i < w->n_paths; i++)
                free(w->paths[i]);
        free(w->paths);
        placement_devices_free(&w->devices);
}

int placement_read_devno(const char *dir, dev_t *ret)
{
        char path[PATH_MAX], buf[32], extra;
        unsigned major_nr, minor_nr;
        ssize_t n;
        int fd, r = 0;

        if ((size_t) snprintf(path, sizeof(path), "%s/dev", dir) >= sizeof(path))
                return -ENAMETOOLONG;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                r = -errno;
        close(fd);
        if (r < 0)
                return r;
        buf[n] = '\0';
        if (sscanf(buf, "%u:%u %c", &major_nr, &minor_nr, &extra) != 2)
                return -EBADMSG;
        *ret = makedev(major_nr, minor_nr);
        return 0;
}

static int walk_add(struct walk *w, const char *dir, enum placement_relation relation)
{
        char *canonical, *name, **paths;
        dev_t devno;
        int r;

        canonical = realpath(dir, NULL);
        if (!canonical)
                return placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, -errno,
                                             "Cannot resolve block device directory %s: %m.", dir);
        name = strrchr(canonical, '/') + 1;
        if (devices_find_name(&w->devices, name)) {
                free(canonical);
                return 0;
        }

        r = placement_read_devno(canonical, &devno);
        if (r < 0) {
                placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, r, "Cannot read %s/dev: %m.", canonical);
                goto fail;
        }
        paths = reallocarray(w->paths, w->devices.n + 1, sizeof(*paths));
        if (!paths) {
                r = placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, -ENOMEM,
                                          "Cannot record block device %s: %m.", name);
                goto fail;
        }
        w->paths = paths;
        r = placement_devices_add(&w->devices, devno, relation, name, "");
        if (r < 0) {
                placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, r, "Cannot record block device %s: %m.",
                                      name);
                goto fail;
        }
        paths[w->n_paths++] = canonical;
        log_debug("%s (%u:%u) is %s.", name, major(devno), minor(devno),
                  relation_to_string(relation));
        return 0;
fail:
        free(canonical);
        return r;
}

/* Calls add_entry for each entry of dir, which may be missing (a fake
 * tree, or an old kernel without holders/). */
static int walk_dir(struct walk *w, const char *dir,
                    int (*add_entry)(struct walk *w, const char *dir, const struct dirent *de,
                                     enum placement_relation relation),
                    enum placement_relation relation)
{
        struct dirent *de;
        DIR *d;
        int r = 0;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT)
                        return 0;
                return placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, -errno, "Cannot open %s: %m.", dir);
        }
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                r = placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, -errno,
                                                          "Cannot list %s: %m.", dir);
                        break;
                }
                if (de->d_name[0] == '.')
                        continue;
                r = add_entry(w, dir, de, relation);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r;
}

static int add_link(struct walk *w, const char *dir, const struct dirent *de,
                    enum placement_relation relation)
{
        char path[PATH_MAX];

        if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
                return placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
                                             "Cannot follow %s/%s: %m.", dir, de->d_name);
        return walk_add(w, path, relation);
}

static int add_if_partition(struct walk *w, const char *dir, const struct dirent *de,
                            enum placement_relation relation)
{
        char path[PATH_MAX];

        if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                return 0;
        if ((size_t) snprintf(path, sizeof(path), "%s/%s/partition", dir, de->d_name) >= sizeof(path))
                return placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
                                             "Cannot inspect %s/%s: %m.", dir, de->d_name);
        if (access(path, F_OK) < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                return placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, -errno, "Cannot access %s: %m.",
                                             path);
        }
        *strrchr(path, '/') = '\0';
        return walk_add(w, path, relation);
}

/* Adds what every device from index `from` on lists in `link_dir`, and its
 * partitions, until nothing new turns up. */
static int walk_expand(struct walk *w, size_t from, const char *link_dir,
                       enum placement_relation relation)
{
        char path[PATH_MAX];
        int r;

        for (size_t i = from; i < w->devices.n; i++) {
                if ((size_t) snprintf(path, sizeof(path), "%s/%s", w->paths[i], link_dir) >= sizeof(path))
                        return placement_set_verdict(w->out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
                                                     "Cannot inspect %s/%s: %m.", w->paths[i], link_dir);
                r = walk_dir(w, path, add_link, relation);
                if (r < 0)
                        return r;
                r = walk_dir(w, w->paths[i], add_if_partition, relation);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool is_kernel_name(const char *name)
{
        return name && *name && !strchr(name, '/') &&
               strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int placement_array_devices(const char *sysfs_root, const char *md_sysname,
                            struct placement_devices *ret, struct placement_verdict *out)
{
        struct walk w = { .out = out };
        char md_dir[PATH_MAX], slaves_dir[PATH_MAX];
        size_t first_member;
        int r;

        if (!is_kernel_name(md_sysname))
                return placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, -EINVAL,
                                             "'%s' is not an md device's kernel name; give one such as md0.",
                                             md_sysname ? md_sysname : "");
        if ((size_t) snprintf(md_dir, sizeof(md_dir), "%s/block/%s", sysfs_root, md_sysname) >= sizeof(md_dir) ||
            (size_t) snprintf(slaves_dir, sizeof(slaves_dir), "%s/slaves", md_dir) >= sizeof(slaves_dir))
                return placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, -ENAMETOOLONG,
                                             "Sysfs root %s: %m.", sysfs_root);
        if (access(md_dir, F_OK) < 0) {
                if (errno == ENOENT)
                        return placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, -ENODEV,
                                                     "%s does not exist; is %s assembled? 'cat /proc/mdstat' "
                                                     "lists the running arrays.", md_dir, md_sysname);
                return placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, -errno, "Cannot access %s: %m.",
                                             md_dir);
        }

        r = walk_add(&w, md_dir, PLACEMENT_ARRAY);
        if (r < 0)
                goto finish;
        r = walk_expand(&w, 0, "holders", PLACEMENT_STACKED);
        if (r < 0)
                goto finish;
        first_member = w.devices.n;
        r = walk_dir(&w, slaves_dir, add_link, PLACEMENT_MEMBER);
        if (r < 0)
                goto finish;
        r = walk_expand(&w, first_member, "slaves", PLACEMENT_MEMBER);
        if (r < 0)
                goto finish;

        *ret = w.devices;
        w.devices = (struct placement_devices) {};
finish:
        walk_done(&w);
        return r;
}
