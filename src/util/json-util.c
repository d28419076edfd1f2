// SPDX-License-Identifier: GPL-2.0-or-later
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "reshaped/util/json-util.h"

/* Length of the valid UTF-8 sequence at @s, or 0. */
static size_t utf8_sequence(const unsigned char *s)
{
        size_t n;
        uint32_t c;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2, c = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                n = 3, c = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                n = 4, c = s[0] & 0x07;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
            (n == 4 && (c < 0x10000 || c > 0x10ffff)))
                return 0;
        return n;
}

void json_print_string(FILE *f, const char *str)
{
        const unsigned char *s = (const unsigned char *) str;

        fputc('"', f);
        while (*s) {
                size_t n = utf8_sequence(s);

                if (n == 0) {
                        fputs("\\ufffd", f);
                        s++;
                } else if (*s == '"' || *s == '\\') {
                        fprintf(f, "\\%c", *s++);
                } else if (*s == '\n') {
                        fputs("\\n", f);
                        s++;
                } else if (*s == '\t') {
                        fputs("\\t", f);
                        s++;
                } else if (*s < 0x20 || *s == 0x7f) {
                        fprintf(f, "\\u%04x", *s++);
                } else {
                        fwrite(s, 1, n, f);
                        s += n;
                }
        }
        fputc('"', f);
}
