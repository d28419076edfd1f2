/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* fsync()s the directory that holds @path, making a create or rename in it
 * durable; logs and returns a negative errno on failure. */
int fsync_parent_dir(const char *path);
