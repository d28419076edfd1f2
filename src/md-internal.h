/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What the parts of one md handle share (md.c: the handle and raw
 * attribute I/O; md-attr.c: typed attributes; md-members.c: the member
 * list; md-notify.c: sync_completed notifications). Not for other modules:
 * they go through reshaped/md.h.
 */

#include <stddef.h>
#include <sys/types.h>

/* Every attribute we parse is one short line. */
#define ATTR_BUF_SIZE 256

struct md {
        char *name;             /* kernel name, "md0" */
        char *devnode;
        dev_t devnum;
        int dir_fd;             /* the array's md/ directory */
        int sync_completed_fd;  /* -1 until md_sync_completed_fd() */
        struct udev *udev;      /* NULL under a fake sysfs root */
};

/* "a/b/c", or "a/b" for c == NULL; NULL when out of memory. */
char *md_path_join(const char *a, const char *b, const char *c);
/* The last component of a symlink target, newly allocated. */
int md_link_basename(const char *target, char **ret);
int md_readlinkat_malloc(int dir_fd, const char *path, char **ret);
/* Reads a small file whole from offset 0; returns the length. */
int md_read_small_fd(int fd, char *buf, size_t size);
/* Logs a value that md cannot parse (r < 0); passes other results through. */
int md_parsed(struct md *md, const char *attr, const char *value, int r);
/* md_read_attr(), but an absent attribute returns -ENOENT, unlogged. */
int md_read_attr_if_present(struct md *md, const char *attr, char *buf, size_t size);

/*
 * The typed reader: reads attr (a path below md/, "dev-sda/state" too) and
 * parses it with parse, an md_parse_*() whose result type the compiler
 * checks against ret. md_read_attr() logs a failed read, md_parsed() a
 * value that does not parse.
 */
#define MD_GET_PARSED(md, attr, parse, ret) ({                                  \
        const char *a_ = (attr);                                                \
        char buf_[ATTR_BUF_SIZE];                                               \
        int r_ = md_read_attr((md), a_, buf_, sizeof(buf_));                    \
        r_ < 0 ? r_ : md_parsed((md), a_, buf_, parse(buf_, (ret)));            \
})
