/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What a backup file's verification result means to a person: its data
 * checked out, or its header is good but nothing can check its data
 * (mdadm writes no checksums), or something is wrong with it. `inspect`
 * exits with a distinct code for each, and `status` shows the same words.
 */

#include "reshaped/backup/backup.h"

enum backup_verdict_class {
        BACKUP_CLASS_VERIFIED,
        BACKUP_CLASS_UNVERIFIABLE,
        BACKUP_CLASS_DAMAGED,
};

static inline enum backup_verdict_class backup_verdict_classify(enum backup_verify_reason r)
{
        /* backup_file_verify() reports UNVERIFIED only when nothing else
         * is wrong. */
        return r == BACKUP_VERIFY_OK ? BACKUP_CLASS_VERIFIED
               : r == BACKUP_VERIFY_UNVERIFIED ? BACKUP_CLASS_UNVERIFIABLE
               : BACKUP_CLASS_DAMAGED;
}

/* "verified", "unverifiable", "damaged": stable, for JSON. */
static inline const char *backup_verdict_class_id(enum backup_verdict_class c)
{
        return c == BACKUP_CLASS_VERIFIED ? "verified"
               : c == BACKUP_CLASS_UNVERIFIABLE ? "unverifiable" : "damaged";
}
