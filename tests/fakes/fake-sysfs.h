/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Test helper: builds a temporary directory that looks like sysfs for one
 * md array, in the layout md.h documents for a non-default sysfs root:
 *
 *   ROOT/block/NAME/dev                 "9:0" (when devnum is given)
 *   ROOT/block/NAME/md/ATTR             every attribute md.c reads
 *   ROOT/block/NAME/md/dev-M/{state,slot,offset,size}
 *   ROOT/block/NAME/md/dev-M/block  ->  ../../../../devices/M
 *   ROOT/devices/M/dev                  the member's "MAJ:MIN"
 *   ROOT/dev/md/LINK                ->  ../NAME (when dev_md_name is given)
 *   ROOT/dev/                           for member images the test adds
 *
 * Values are written as the kernel prints them: the text plus "\n".
 * Every failure fails the running cmocka test.
 */

#include <stddef.h>

struct fake_attr {
        const char *name;   /* relative to md/, e.g. "sync_max" */
        const char *value;  /* without newline; NULL leaves it out */
};

struct fake_member {
        const char *name;    /* "sda": dir dev-sda, device devices/sda */
        const char *state;   /* "in_sync", "spare", "faulty,write_mostly" */
        const char *slot;    /* "0" or "none" */
        const char *devnum;  /* "8:0" */
};

struct fake_array {
        const char *name;          /* "md0" */
        const char *devnum;        /* "9:0"; NULL: no ROOT/block/NAME/dev */
        const char *dev_md_name;   /* "data" -> ROOT/dev/md/data; or NULL */
        /* Replace or remove defaults (a raid5 of 4 x 261120 KiB, 64 KiB
         * chunks, 0.90 metadata, idle); ends at an entry without name. */
        const struct fake_attr *attrs;
        const struct fake_member *members;
        size_t n_members;
};

/* Returns the new root directory (free it with fake_sysfs_remove()). */
char *fake_sysfs_create(const struct fake_array *a);
/* Writes value + "\n" to ROOT/block/md/md/attr; NULL removes the file. */
void fake_sysfs_set(const char *root, const char *md, const char *attr, const char *value);
/* The file's whole content (malloc'd). */
char *fake_sysfs_get(const char *root, const char *md, const char *attr);
/* ROOT/rel (malloc'd). */
char *fake_sysfs_path(const char *root, const char *rel);
/* Removes the whole tree and frees root. */
void fake_sysfs_remove(char *root);

/* The members of the default array: sda..sdd in slots 0..3, in sync. */
extern const struct fake_member fake_members4[4];

/* Runs the reshaped binary the build made (RESHAPED_TEST_BINARY) with
 * @args (NULL-terminated, at most 14); its stdout in @out, its stderr in
 * @err, both NUL-terminated. Returns its exit status. */
int fake_run_reshaped(char *out, size_t out_size, char *err, size_t err_size, const char *const *args);
