/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Parsing and signal helpers shared by the subcommands. */

#include <signal.h>
#include <stdint.h>

/* "65536", "64K", "1M", "2G" (binary units) -> bytes; -EINVAL otherwise. */
int cli_parse_size(const char *s, uint64_t *ret_bytes);

/* Blocks SIGTERM, SIGINT and SIGHUP, the signals that ask a command to
 * stop safely, and gives their set (for a signalfd); logs on failure. */
int cli_block_stop_signals(sigset_t *ret_mask);

/* What md_open()'s error means for a name given on the command line. */
const char *cli_md_open_strerror(int r);
