// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reshaped/log.h"
#include "reshaped/md-parse.h"
#include "reshaped/md.h"
#include "md-internal.h"

/* A directory name (at most NAME_MAX) and the longest attribute. */
#define MEMBER_ATTR_MAX (NAME_MAX + 16)

static bool startswith(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

void md_members_free(struct md_member *members, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(members[i].name);
                free(members[i].devnode);
        }
        free(members);
}

static int member_devnode(struct md *md, struct md_member *m)
{
        struct udev_device *d;
        const char *node;

        if (!md->udev) {
                m->devnode = md_path_join(md_get_sysfs_root(), "dev", m->name);
                return m->devnode ? 0 : -ENOMEM;
        }
        d = udev_device_new_from_devnum(md->udev, 'b', m->devnum);
        node = d ? udev_device_get_devnode(d) : NULL;
        m->devnode = node ? strdup(node) : md_path_join("/dev", m->name, NULL);
        if (d)
                udev_device_unref(d);
        return m->devnode ? 0 : -ENOMEM;
}

/* What md_read_attr() calls the attribute attr of member directory dir. */
static const char *member_attr(char path[static MEMBER_ATTR_MAX], const char *dir, const char *attr)
{
        snprintf(path, MEMBER_ATTR_MAX, "%s/%s", dir, attr);
        return path;
}

/* dir is "dev-sda": its "block" link names the member device. */
static int read_member(struct md *md, const char *dir, struct md_member *m)
{
        char path[MEMBER_ATTR_MAX], *target;
        int r;

        r = md_readlinkat_malloc(md->dir_fd, member_attr(path, dir, "block"), &target);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s/block of %s: %m", dir, md->name);
        r = md_link_basename(target, &m->name);
        free(target);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s/block of %s: %m", dir, md->name);

        r = MD_GET_PARSED(md, member_attr(path, dir, "block/dev"), md_parse_devnum, &m->devnum);
        if (r < 0)
                return r;
        r = MD_GET_PARSED(md, member_attr(path, dir, "state"), md_parse_member_state, &m->state);
        if (r < 0)
                return r;
        r = MD_GET_PARSED(md, member_attr(path, dir, "slot"), md_parse_slot, &m->slot);
        if (r < 0)
                return r;
        r = MD_GET_PARSED(md, member_attr(path, dir, "offset"), md_parse_u64,
                          &m->data_offset_dev_sectors);
        if (r < 0)
                return r;
        r = MD_GET_PARSED(md, member_attr(path, dir, "new_offset"), md_parse_u64,
                          &m->new_data_offset_dev_sectors);
        if (r < 0)
                return r;
        r = MD_GET_PARSED(md, member_attr(path, dir, "size"), md_parse_u64, &m->size_kib);
        if (r < 0)
                return r;

        r = member_devnode(md, m);
        if (r < 0)
                return log_error_errno(r, "Out of memory.");
        return 0;
}

static int member_cmp(const void *a, const void *b)
{
        const struct md_member *x = a, *y = b;

        if ((x->slot >= 0) != (y->slot >= 0))
                return x->slot >= 0 ? -1 : 1;
        if (x->slot >= 0 && x->slot != y->slot)
                return x->slot < y->slot ? -1 : 1;
        return strcmp(x->name, y->name);
}

int md_get_members(struct md *md, struct md_member **ret, size_t *ret_n)
{
        struct md_member *members = NULL;
        size_t n = 0;
        struct dirent *de;
        DIR *d;
        int fd, r = 0;

        fd = openat(md->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to list members of %s: %m", md->name);
        d = fdopendir(fd);
        if (!d) {
                r = log_error_errno(errno, "Failed to list members of %s: %m", md->name);
                close(fd);
                return r;
        }

        for (errno = 0; (de = readdir(d)); errno = 0) {
                struct md_member *grown;

                if (!startswith(de->d_name, "dev-"))
                        continue;
                grown = reallocarray(members, n + 1, sizeof(*members));
                if (!grown) {
                        r = log_error_errno(ENOMEM, "Out of memory.");
                        goto fail;
                }
                members = grown;
                members[n] = (struct md_member) {};
                n++;
                r = read_member(md, de->d_name, &members[n - 1]);
                if (r < 0)
                        goto fail;
        }
        if (errno != 0) {
                r = log_error_errno(errno, "Failed to list members of %s: %m", md->name);
                goto fail;
        }
        closedir(d);

        if (n > 0)
                qsort(members, n, sizeof(*members), member_cmp);
        *ret = members;
        *ret_n = n;
        return 0;

fail:
        closedir(d);
        md_members_free(members, n);
        return r;
}
