/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Parsing helpers shared by the subcommands. */

#include <stdint.h>

/* "65536", "64K", "1M", "2G" (binary units) -> bytes; -EINVAL otherwise. */
int cli_parse_size(const char *s, uint64_t *ret_bytes);
