/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Starting an array whose reshape is unfinished without letting the
 * reshape move: members are found and read here, handed to md through
 * sysfs (new_array, metadata_version, new_dev) and the array is run
 * read-only, frozen, then made writable. mdadm cannot do this: every
 * assembly of a reshaping array ends in Grow_continue(), which writes
 * sync_max=max and array_state=active (see tests/vm/experiments/
 * mdadm-freeze-reshape.sh).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reshaped/backup.h"

/* What a member's superblock says, read around the page cache. */
struct md_member_super {
        char *devnode;
        unsigned major, minor;        /* metadata version: 0.90, 1.0, 1.1, 1.2 */
        uint8_t uuid[16];             /* as the backup header stores it */
        uint64_t events;
        bool reshape_active;
        bool backwards;
        uint64_t reshape_position_array_sectors;
        /* The reshape as the superblock records it, in the terms a backup
         * header records it (uuid and events too); before == after when
         * no reshape is active. */
        struct backup_identity identity;
        /* Which member this is: 1.x device_uuid, 0.90 this_disk.number. */
        uint8_t member_id[16];
        /* The member's slot in the array (md's role), -1 for a spare or a
         * faulty member; where its data starts; whether the reshape also
         * moves the data (1.x new_offset), which md does without a backup. */
        int slot;
        uint64_t data_offset_dev_sectors;
        bool moves_data;
        uint64_t dev_size_bytes;      /* of the node it was read through */
        uint64_t used_bytes;          /* how much of a device the superblock says it uses */
        bool held;                    /* another device (dm multipath) holds the node */
};

/* Reads @path's superblock, trying 1.2, 1.1, 1.0 and 0.90 in turn.
 * -ENODATA (not logged) when none is there. */
int md_member_super_probe(const char *path, struct md_member_super *ret);

/* Every block device (disk or partition, not an md array) whose superblock
 * carries @uuid, via libudev. *ret is malloc'ed; free with
 * md_member_supers_free(). */
int md_member_supers_scan(const uint8_t uuid[16], struct md_member_super **ret, size_t *ret_n);
void md_member_supers_free(struct md_member_super *m, size_t n);

/* Keeps one node of each member (same array UUID and member id): the same
 * superblock seen through two nodes is one member, and md refuses the
 * second node of a device with EBUSY. Which one is kept is explained in
 * md-assemble.c. Frees the dropped entries and logs each. */
void md_member_supers_dedup(struct md_member_super *m, size_t *n);

/* The member with the highest event count: md assembles from it. */
const struct md_member_super *md_member_supers_freshest(const struct md_member_super *m, size_t n);

/* Whether /sys/block/@md_name/md shows a running array. */
int md_array_is_running(const char *md_name, bool *ret);

/* Creates @md_name if needed, gives md the members and runs the array
 * read-only (md runs an in-place reshape only so), so nothing moves. */
int md_assemble_readonly(const char *md_name, const struct md_member_super *m, size_t n);
