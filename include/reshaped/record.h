/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Where the backup of a running reshape lives, recorded on disk so that it
 * survives a reboot (mdadm keeps it only in /run). One symlink per array
 * UUID in the state directory (/var/lib/reshaped, or RESHAPED_STATE_DIR),
 * plus one per md name for lookups by device.
 */

/* Records @backup_path for the array; durable when it returns 0. */
int record_save(const char *uuid, const char *md_name, const char *backup_path);
/* Finds the recorded backup path by UUID or md name; -ENOENT if none.
 * *ret is malloc'ed. */
int record_lookup(const char *uuid_or_name, char **ret);
/* Forgets the record of the array (both links). */
int record_remove(const char *uuid, const char *md_name);
/* Calls @fn for every record (key: an array UUID or an md name) with the
 * recorded backup path; stops at and returns @fn's first negative
 * result. A missing state directory holds no record. */
int record_foreach(int (*fn)(const char *key, const char *backup_path, void *userdata), void *userdata);
