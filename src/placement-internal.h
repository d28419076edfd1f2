/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What the parts of placement share: placement.c judges the facts (the
 * rules, the verdict, the device list), placement-array.c walks the
 * array's device graph, placement-path.c gathers the filesystems under a
 * backup path (and is placement_check()), placement-devices.c the block
 * devices under it. Not for other modules: they use reshaped/placement.h.
 */

#include <libmount/libmount.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "reshaped/placement.h"

#define SAFE_PLACE "a disk that is not part of %s (for example /var/lib/reshaped/)"

/* Fills out (message from format, %m from error) and returns error. */
int placement_set_verdict(struct placement_verdict *out, enum placement_reason reason,
                          int error, const char *format, ...)
        __attribute__((format(printf, 4, 5)));
/* -ENAMETOOLONG or -ENOMEM, unlogged. */
int placement_devices_add(struct placement_devices *d, dev_t devno,
                          enum placement_relation relation, const char *name, const char *chain);
/* dir/dev, "MAJ:MIN"; a negative errno, unlogged. */
int placement_read_devno(const char *dir, dev_t *ret);

/* What placement_check() learns about the backup path on its way down. */
struct gathered {
        char resolved[PATH_MAX];   /* where the backup is or will be */
        char probe[PATH_MAX];      /* resolved, or its directory while it does not exist */
        bool exists;
        bool is_block_device;
        char *fs_type;
        struct placement_filesystems below;
        struct placement_devices targets;
        uint64_t existing_bytes;
        uint64_t free_bytes;
        const char *backup_path;   /* as given, for messages */
        const char *md;
        const char *sysfs_root;
        struct libmnt_table *mounts;
        struct placement_verdict *out;
};

/* Writes at most PLACEMENT_CHAIN_MAX; one too long is cut short with "...". */
void placement_chain_format(char *chain, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* Adds the device devno to g->targets and follows it down; prefix says how
 * the backup reaches it ("" for right under it). */
int placement_add_device(struct gathered *g, dev_t devno, const char *prefix, unsigned depth);
/* Adds, as placement_add_device() does, the device each entry of dir is
 * (a directory with "dev"). A missing dir has none when missing_ok. */
int placement_add_devices_in(struct gathered *g, const char *dir, bool missing_ok,
                             const char *prefix, unsigned depth);
/* Refuses a place more than PLACEMENT_MAX_DEPTH steps down. */
int placement_too_deep(struct gathered *g, const char *label);
/* The filesystem holding path, and the devices under it. */
int placement_gather_filesystem(struct gathered *g, const char *path, const char *prefix,
                                unsigned depth, bool top);
