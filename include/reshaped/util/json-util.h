/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Writing JSON by hand: strings, escaped, with bytes that are not UTF-8
 * (file names may hold any) replaced by U+FFFD. */

#include <stdio.h>

void json_print_string(FILE *f, const char *s);
