/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * One md array as the kernel shows it under /sys/block/mdX/md/.
 *
 * md_open() resolves "/dev/mdX", "mdX" or "/dev/md/NAME" (libudev), the
 * md_get_*() / md_set_*() calls read and write attributes as typed values
 * in the kernel's own units (named in every identifier), md_get_members()
 * lists the member devices, md_wait_sync_completed() sleeps until the
 * kernel notifies a change of sync_completed, and
 * md_read_uuid_and_events() (md-super.c) reads the array UUID and event
 * count from an in-sync member's superblock.
 *
 * One handle, several files: md.c opens it (sysfs root, name resolution)
 * and does the raw attribute I/O, md-attr.c the typed attributes,
 * md-members.c the member list, md-notify.c the notifications.
 *
 * Every failing call logs one error that names the attribute (or device)
 * and the array, e.g. "Failed to write sync_max=1024 for md0: Device or
 * resource busy", and returns a negative errno.
 *
 * Sysfs root: "/sys", unless md_set_sysfs_root() or the environment
 * variable RESHAPED_SYSFS_ROOT (the call wins) names another directory.
 * Under another root (a fake tree for tests) nothing asks udev and names
 * resolve by this layout:
 *   ROOT/block/mdX/md/ATTR            the array's attributes
 *   ROOT/block/mdX/dev                "MAJ:MIN" (optional; else devnum 0)
 *   ROOT/block/mdX/md/dev-M/block     symlink to a directory with "dev"
 *   ROOT/dev/md/NAME                  symlink whose target's last path
 *                                     component is mdX ("/dev/md/NAME")
 *   ROOT/dev/mdX, ROOT/dev/M          what md_devnode() and a member's
 *                                     devnode name (files in a fake tree)
 * "/dev/mdX" maps to ROOT/block/mdX.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct md;

/* sync_max reads "max"; reshape_position reads "none". */
#define MD_SYNC_MAX_UNLIMITED UINT64_MAX
#define MD_RESHAPE_POSITION_NONE UINT64_MAX

/* Levels are the kernel's numbers (raid5 = 5); the non-raid ones: */
#define MD_LEVEL_LINEAR    (-1)
#define MD_LEVEL_MULTIPATH (-4)
#define MD_LEVEL_FAULTY    (-5)
#define MD_LEVEL_CONTAINER (-100)     /* external metadata container */
#define MD_LEVEL_NONE      (-1000000) /* kernel's LEVEL_NONE: "level" empty */

enum md_sync_action {
        MD_SYNC_ACTION_IDLE,
        MD_SYNC_ACTION_RESYNC,
        MD_SYNC_ACTION_RECOVER,
        MD_SYNC_ACTION_CHECK,
        MD_SYNC_ACTION_REPAIR,
        MD_SYNC_ACTION_RESHAPE,
        MD_SYNC_ACTION_FROZEN,
        _MD_SYNC_ACTION_MAX,
};

enum md_array_state {
        MD_ARRAY_CLEAR,
        MD_ARRAY_INACTIVE,
        MD_ARRAY_SUSPENDED,
        MD_ARRAY_READONLY,
        MD_ARRAY_READ_AUTO,
        MD_ARRAY_CLEAN,
        MD_ARRAY_ACTIVE,
        MD_ARRAY_WRITE_PENDING,
        MD_ARRAY_ACTIVE_IDLE,
        MD_ARRAY_BROKEN,
        _MD_ARRAY_STATE_MAX,
};

enum md_reshape_direction {
        MD_RESHAPE_DIRECTION_UNKNOWN,  /* attribute absent (old kernels) */
        MD_RESHAPE_DIRECTION_FORWARDS,
        MD_RESHAPE_DIRECTION_BACKWARDS,
        _MD_RESHAPE_DIRECTION_MAX,
};

enum md_sync_completed_state {
        MD_SYNC_COMPLETED_NONE,     /* no sync thread running */
        MD_SYNC_COMPLETED_DELAYED,  /* thread waits for another array */
        MD_SYNC_COMPLETED_RUNNING,  /* the two numbers are valid */
};

/* During a raid4/5/6 reshape both numbers are per-member sectors;
 * completed counts from the end when the reshape runs backwards. */
struct md_sync_completed {
        enum md_sync_completed_state state;
        uint64_t completed_dev_sectors;
        uint64_t total_dev_sectors;
};

enum md_metadata_kind {
        MD_METADATA_NONE,      /* "none": no persistent superblock */
        MD_METADATA_NATIVE,    /* "0.90" (reads "0.91" mid-reshape), "1.2" */
        MD_METADATA_EXTERNAL,  /* "external:imsm", "external:/md127/0" */
};

struct md_metadata_version {
        enum md_metadata_kind kind;
        unsigned major, minor;  /* NATIVE only */
        char external[32];      /* EXTERNAL only: text after "external:" */
};

/* sync_speed_min / sync_speed_max: "%d (local|system)". */
struct md_sync_speed {
        unsigned kib_per_sec;
        bool local;  /* set for this array, not the system-wide default */
};

/*
 * Shape of the array. raid_disks, chunk_size and layout read "new (old)"
 * while a reshape changes them; otherwise old == new. The level has no
 * old/new pair: raid4/5/6 reshapes run at one level (mdadm converts
 * levels by takeover before or after the reshape), so sysfs shows one.
 */
struct md_geometry {
        int level;                    /* raid level number or MD_LEVEL_* */
        unsigned raid_disks_old, raid_disks_new;
        uint32_t chunk_bytes_old, chunk_bytes_new;
        uint32_t layout_old, layout_new;
        uint64_t component_kib;       /* component_size: per-member KiB */
        enum md_reshape_direction direction;
        struct md_metadata_version metadata;
        /* new_offset - offset over the members in a slot, as raid5.c's
         * min_offset_diff: the smallest move in the reshape's direction
         * (dev sectors; 0 in place). */
        int64_t offset_diff_dev_sectors;
};

/* Member state flags, one per word of a member's "state". */
enum {
        MD_MEMBER_FAULTY           = 1u << 0,
        MD_MEMBER_IN_SYNC          = 1u << 1,
        MD_MEMBER_JOURNAL          = 1u << 2,
        MD_MEMBER_WRITE_MOSTLY     = 1u << 3,
        MD_MEMBER_BLOCKED          = 1u << 4,
        MD_MEMBER_SPARE            = 1u << 5,
        MD_MEMBER_WRITE_ERROR      = 1u << 6,
        MD_MEMBER_WANT_REPLACEMENT = 1u << 7,
        MD_MEMBER_REPLACEMENT      = 1u << 8,
        MD_MEMBER_EXTERNAL_BBL     = 1u << 9,
        MD_MEMBER_FAILFAST         = 1u << 10,
        MD_MEMBER_OTHER            = 1u << 15,  /* a word newer than us */
};

#define MD_SLOT_NONE    (-1)
#define MD_SLOT_JOURNAL (-2)

struct md_member {
        char *name;                    /* kernel name: "sda1" */
        char *devnode;                 /* "/dev/sda1" */
        dev_t devnum;
        unsigned state;                /* MD_MEMBER_* */
        int slot;                      /* role, or MD_SLOT_NONE/JOURNAL */
        uint64_t data_offset_dev_sectors;
        uint64_t new_data_offset_dev_sectors; /* differs while a reshape moves the data */
        uint64_t size_kib;             /* space used on the member */
};

/* dir is copied; NULL goes back to RESHAPED_SYSFS_ROOT or "/sys". */
int md_set_sysfs_root(const char *dir);
const char *md_get_sysfs_root(void);

int md_open(const char *spec, struct md **ret);
/* Returns NULL, for md = md_close(md). */
struct md *md_close(struct md *md);

const char *md_name(const struct md *md);     /* "md0" */
const char *md_devnode(const struct md *md);  /* "/dev/md0" */
dev_t md_devnum(const struct md *md);

/* Raw attribute I/O, relative to .../md/ (so "dev-sda/state" works).
 * Reads NUL-terminate, keep the kernel's newline and return the length.
 * Writes send value plus a newline in one write(). */
int md_read_attr(struct md *md, const char *attr, char *buf, size_t size);
int md_write_attr(struct md *md, const char *attr, const char *value);

/* md-attr.c: one attribute each, parsed into the type it names. */
int md_get_sync_action(struct md *md, enum md_sync_action *ret);
int md_set_sync_action(struct md *md, enum md_sync_action action);
int md_get_sync_completed(struct md *md, struct md_sync_completed *ret);
int md_get_reshape_position(struct md *md, uint64_t *ret_array_sectors);
int md_get_sync_max(struct md *md, uint64_t *ret_dev_sectors);
/* MD_SYNC_MAX_UNLIMITED writes "max". */
int md_set_sync_max(struct md *md, uint64_t dev_sectors);
int md_set_sync_max_unlimited(struct md *md);
int md_get_sync_min(struct md *md, uint64_t *ret_dev_sectors);
int md_set_sync_min(struct md *md, uint64_t dev_sectors);
int md_get_suspend(struct md *md, uint64_t *ret_lo_array_sectors,
                   uint64_t *ret_hi_array_sectors);
/* Stores only the bounds that differ from what sysfs reads now (every
 * store drains all I/O of the array), in the order md_suspend_plan()
 * gives. */
int md_set_suspend(struct md *md, uint64_t lo_array_sectors, uint64_t hi_array_sectors);
int md_get_array_state(struct md *md, enum md_array_state *ret);
int md_get_degraded(struct md *md, unsigned *ret);
/* Sectors read and written through the array device since it started
 * (its block "stat"): what applications did, not the reshape, which md
 * does on the members. -ENOENT where there is no stat (a fake tree). */
int md_get_io_sectors(struct md *md, uint64_t *ret_sectors);
int md_get_geometry(struct md *md, struct md_geometry *ret);
/* Writes "level" (md takes the array over to that personality); EBUSY
 * while any sync or reshape runs. */
int md_set_level(struct md *md, int level);
int md_get_sync_speed_min(struct md *md, struct md_sync_speed *ret);
int md_get_sync_speed_max(struct md *md, struct md_sync_speed *ret);
/* 0 goes back to the system-wide default. */
int md_set_sync_speed_min(struct md *md, unsigned kib_per_sec);
int md_set_sync_speed_max(struct md *md, unsigned kib_per_sec);

/* md-members.c: sorted by slot (spares and journal last), then name.
 * Free with md_members_free(). */
int md_get_members(struct md *md, struct md_member **ret, size_t *ret_n);
void md_members_free(struct md_member *members, size_t n);

/*
 * md-notify.c: notifications of sync_completed. The kernel notifies after it has
 * written the superblock for a checkpoint. The value read after a wake is
 * at least that checkpoint but may already be the next one, assigned
 * before its own superblock write: that one is confirmed by the next
 * notification.
 *
 * md_sync_completed_fd() opens the attribute once (the md handle owns the
 * fd) and reads it to arm it, so it can go into the caller's poll set
 * (POLLPRI|POLLERR). md_sync_completed_consume() re-reads it from offset
 * 0, which takes the notification and re-arms it.
 * md_wait_sync_completed() polls up to timeout_ms (negative: forever) and
 * returns 1 with *ret filled after a notification, 0 on timeout (*ret
 * untouched), or a negative errno. A regular file never notifies, so on a
 * fake tree every wait times out.
 */
int md_sync_completed_fd(struct md *md);
int md_sync_completed_consume(struct md *md, struct md_sync_completed *ret);
int md_wait_sync_completed(struct md *md, int timeout_ms, struct md_sync_completed *ret);

const char *md_sync_action_to_string(enum md_sync_action a);
const char *md_array_state_to_string(enum md_array_state s);
const char *md_reshape_direction_to_string(enum md_reshape_direction d);
/* "raid5", "linear", ...; NULL for a number we have no name for. */
const char *md_level_to_string(int level);
/* mdadm's name of a raid4/5/6 layout ("left-symmetric-6"), else the number. */
const char *md_layout_name(int level, uint32_t layout, char *buf, size_t size);

/*
 * md-super.c: the array UUID exactly as mdadm copies it into a backup
 * file header (uuid_from_super: 0.90 stores set_uuid0..3 as four host-
 * endian u32, 1.x a 16-byte set_uuid), and the superblock event count.
 *
 * md_read_uuid_and_events() reads it from the first in-sync member whose
 * superblock checks out (O_DIRECT on block devices: md writes superblocks
 * around the page cache). The rest are the pure and per-device parts.
 */
#define MD_SUPER_READ_BYTES 4096

int md_read_uuid_and_events(struct md *md, uint8_t uuid[16], uint64_t *ret_events);
/* Where the superblock of a member of dev_size_bytes lives. */
int md_super_offset_bytes(unsigned major, unsigned minor, uint64_t dev_size_bytes,
                          uint64_t *ret_offset_bytes);
/* Checks magic, version, checksum (and for 1.x super_offset, which is
 * offset_bytes / 512) of MD_SUPER_READ_BYTES bytes read at offset_bytes.
 * On failure *ret_reason (if given) says what did not check out. */
int md_super_parse(const void *buf, size_t size, unsigned major, unsigned minor,
                   uint64_t offset_bytes, uint8_t uuid[16], uint64_t *ret_events,
                   const char **ret_reason);
/* Reads the superblock of a member device (or an image file) at path. */
int md_super_read_device(const char *path, unsigned major, unsigned minor,
                         uint8_t uuid[16], uint64_t *ret_events);
/* Records @position_array_sectors as the reshape position of a superblock
 * md_super_parse() took (MD_SUPER_READ_BYTES at its offset), checksum
 * included: what md's own superblock writes do for a checkpoint. */
int md_super_set_reshape_position(void *buf, unsigned major, uint64_t position_array_sectors);
/* The same on the superblock of the member at @path, written around the
 * page cache and flushed: only for members of an array that is not
 * running (md would overwrite it). */
int md_super_write_reshape_position(const char *path, unsigned major, unsigned minor,
                                    uint64_t position_array_sectors);

/*
 * md-checkpoint.c: the reshape checkpoint on disk. Reads the superblock of
 * every working member around the page cache and reports whether all of
 * them record a reshape and, if so, the least advanced reshape_position
 * among them (array sectors). md_super_reshape_position() is the pure
 * part, on MD_SUPER_READ_BYTES read at the superblock's offset.
 */
int md_read_disk_checkpoint(struct md *md, bool *ret_active, uint64_t *ret_position_array_sectors);
int md_super_reshape_position(const void *buf, unsigned major, bool *ret_active,
                              uint64_t *ret_position_array_sectors);
