/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* fsync()s the directory that holds @path, making a create or rename in it
 * durable; logs and returns a negative errno on failure. */
int fsync_parent_dir(const char *path);

/* Replaces @path with @len bytes of @data: written to PATH.tmp (mode
 * @mode, never through a symlink), with @durable synced, and renamed over
 * @path (with @durable, the directory synced too), so a reader sees the
 * old content or the new, never a part. */
int fs_replace_file(const char *path, const void *data, size_t len, mode_t mode, bool durable);
