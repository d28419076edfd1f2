/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

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
/* Forgets the record of the array (both links and the generation token). */
int record_remove(const char *uuid, const char *md_name);

/*
 * The generation token: the newest backup generation the supervisor has
 * made durable for the array, kept outside the backup file so that
 * restore can refuse a stale copy of it (self-consistent, but one window
 * older: every checksum passes, and the kernel has already rewritten
 * what it lacks). The supervisor writes it after a window's header is
 * durable and before sync_max passes that window, so the token never
 * names a generation the backup lacks, and the kernel never runs on a
 * window the token does not name. One small file per array UUID
 * (UUID.generation in the state directory), written in place and synced:
 * one pwrite and one fdatasync per window. record_remove() removes it.
 */
struct record_token;

/* Opens (creating it if needed) the token file of @uuid for writing. */
int record_token_open(const char *uuid, struct record_token **ret);
/* Records @generation; durable when it returns 0. */
int record_token_write(struct record_token *t, uint64_t generation);
/* Closes and frees; returns NULL. */
struct record_token *record_token_close(struct record_token *t);
/* Reads the token of @uuid: 0 with *ret_generation set; -ENOENT when
 * there is none (records of older versions); -EBADMSG when it does not
 * verify (logged, naming the file). */
int record_token_read(const char *uuid, uint64_t *ret_generation);
/* The token file's path, for messages. */
int record_token_path(const char *uuid, char *buf, size_t size);
/* Calls @fn for every record (key: an array UUID or an md name) with the
 * recorded backup path; stops at and returns @fn's first negative
 * result. A missing state directory holds no record. */
int record_foreach(int (*fn)(const char *key, const char *backup_path, void *userdata), void *userdata);

/* mdadm --grow records the backup path of a reshape it hands on as a
 * symlink /run/mdadm/backup_file-MDNAME (gone at a reboot). The link's
 * path, and its target (malloc'ed; NULL when there is none). */
void record_mdadm_link(const char *md_name, char *buf, size_t size);
char *record_mdadm_lookup(const char *md_name);

/* A reshape that ended: what mdadm's monitor would leave behind goes, as
 * it removes it (a leftover /run/mdadm link makes the next mdadm --grow
 * fail), with our record. The backup file @remove_path (NULL: keep it)
 * and mdadm's link when it points at @backup_path. Failures are logged as
 * warnings: nothing depends on them any more. */
void record_forget_reshape(const char *uuid, const char *md_name, const char *backup_path,
                           const char *remove_path);

/*
 * The pause (`reshaped pause`): a small file UUID.paused in the state
 * directory, so that it outlives the supervisor and a reboot. It holds
 * the request's number (each pause writes a new one, which the
 * supervisor names when it confirms the hold; see supervise-lock.h).
 * Records of older versions have none: not paused. record_remove()
 * removes it with the rest.
 */
/* Records the pause; durable when it returns 0. */
int record_pause_set(const char *uuid, uint64_t request);
/* 0 with *ret_request set when paused; -ENOENT when not; -EBADMSG (logged,
 * naming the file) when the file is damaged, which callers take as
 * paused: holding is the safe reading. */
int record_pause_get(const char *uuid, uint64_t *ret_request);
/* Lifts the pause; durable when it returns 0; 0 when there was none. */
int record_pause_clear(const char *uuid);
/* The pause file's path, for messages. */
int record_pause_path(const char *uuid, char *buf, size_t size);
