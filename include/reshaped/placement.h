/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Where a backup file may live. A backup is useless, or worse, when it sits
 * on the array it protects or on anything built on it (partitions, dm, LVM,
 * crypt), on a member of the array, on a filesystem that a reboot empties
 * (tmpfs, ramfs, zram ...), or where there is no room for it.
 *
 * placement_check() gathers the facts (libmount for the filesystem that
 * holds the path, the sysfs holders/slaves graph of the array) and hands
 * them to placement_judge(), which is pure so the rules are tested with
 * tables. The devices under the path are followed all the way down:
 * a partition to its disk, dm and md to their slaves/, a loop device to
 * the filesystem holding its backing file, overlayfs to its upper
 * directory, each again (nested loops), PLACEMENT_MAX_DEPTH steps at most. Both return 0 when the place is fine, or a negative errno with a
 * verdict whose message says what is wrong and what to do; neither logs
 * it. The path may name a file that does not exist yet (its directory is
 * judged) or a block device (judged as itself, its size as the space).
 *
 * By file: placement.c judges (placement_judge()), placement-array.c walks
 * the array's device graph, placement-path.c gathers the filesystems under
 * a path and placement-devices.c the block devices under it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* With the errno returned alongside. */
enum placement_reason {
        PLACEMENT_OK,                /* 0 */
        PLACEMENT_BAD_PATH,          /* missing directory, a directory, a fifo ...: the errno */
        PLACEMENT_CANNOT_CHECK,      /* sysfs or the mount table unreadable, no such array,
                                      * a loop device's backing file deleted or out of reach */
        PLACEMENT_ON_ARRAY,          /* -EBUSY: the array itself */
        PLACEMENT_STACKED_ON_ARRAY,  /* -EBUSY: partition, dm, LVM ... built on the array */
        PLACEMENT_ON_MEMBER,         /* -EBUSY: a member, a device under one, a partition of one */
        PLACEMENT_VOLATILE,          /* -EMEDIUMTYPE: tmpfs, ramfs, proc ..., zram, brd */
        PLACEMENT_NO_SPACE,          /* -ENOSPC */
};

struct placement_verdict {
        enum placement_reason reason;
        char message[1024];
};

enum placement_relation {
        PLACEMENT_UNRELATED,
        PLACEMENT_ARRAY,
        PLACEMENT_STACKED,
        PLACEMENT_MEMBER,
};

#define PLACEMENT_MAX_DEPTH 16
#define PLACEMENT_CHAIN_MAX 768

struct placement_device {
        dev_t devno;
        enum placement_relation relation;
        char name[64];               /* kernel name ("md0p1", "dm-0"), "" if unknown */
        /* How the backup reaches a device through others, ending with it:
         * "loop0, whose backing file /srv/img lies on md0p2, a partition of
         * md0"; "" for a device right under the backup (and the array's). */
        char chain[PLACEMENT_CHAIN_MAX];
};

struct placement_devices {
        struct placement_device *items;
        size_t n;
};

void placement_devices_free(struct placement_devices *d);

/* A filesystem further down: holding a loop device's backing file, or an
 * overlay's upper directory. */
struct placement_filesystem {
        char type[32];                     /* "tmpfs" */
        char chain[PLACEMENT_CHAIN_MAX];   /* "loop0, whose backing file /run/img lies on tmpfs" */
};

struct placement_filesystems {
        struct placement_filesystem *items;
        size_t n;
};

/* Facts about one backup path, as placement_check() gathers them. */
struct placement_facts {
        const char *backup_path;                /* as the user gave it */
        const char *md_sysname;                 /* "md0" */
        bool is_block_device;                   /* the path is a block device node */
        const char *fs_type;                    /* filesystem holding the file; NULL for a block device */
        const struct placement_filesystems *below; /* filesystems further down; NULL: none */
        const struct placement_devices *targets; /* block devices the backup's bytes land on */
        const struct placement_devices *array;  /* placement_array_devices() */
        uint64_t existing_bytes;                /* allocated in an existing file, or the block device's size */
        uint64_t free_bytes;                    /* statvfs f_bavail * f_frsize */
        uint64_t required_bytes;
};

int placement_judge(const struct placement_facts *facts, struct placement_verdict *out);

/*
 * The array, every device built on it (holders/ and partitions, recursively)
 * and every device under it (slaves/ recursively, and their partitions).
 * The walk starts at SYSFS_ROOT/block/MD_SYSNAME and follows the holders/
 * and slaves/ symlinks; a device is a directory with a "dev" file
 * ("MAJ:MIN"), a partition a subdirectory that also has a "partition" file.
 * On error, out says why.
 */
int placement_array_devices(const char *sysfs_root, const char *md_sysname,
                            struct placement_devices *ret, struct placement_verdict *out);

/*
 * md_sysname is the kernel name ("md0"). The sysfs root is md's
 * (md_get_sysfs_root()), so a fake tree can stand in for the holders graph,
 * the links SYSFS_ROOT/dev/block/MAJ:MIN that name devices, and loop/backing_file;
 * the backup path (and the paths a fake tree names) are always real.
 */
int placement_check(const char *backup_path, const char *md_sysname,
                    uint64_t required_bytes, struct placement_verdict *out);

const char *placement_reason_to_string(enum placement_reason reason);

/* For tests: read mounts from this mountinfo file instead of
 * /proc/self/mountinfo; NULL goes back to the real one. */
int placement_set_mount_table(const char *mountinfo_path);
