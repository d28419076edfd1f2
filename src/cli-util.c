// SPDX-License-Identifier: GPL-2.0-or-later
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reshaped/cli-util.h"
#include "reshaped/log.h"

int cli_parse_size(const char *s, uint64_t *ret_bytes)
{
        unsigned long long v;
        unsigned shift = 0;
        char *end;

        if (!s || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno)
                return -EINVAL;
        switch (toupper((unsigned char) *end)) {
        case '\0':
                break;
        case 'K':
                shift = 10;
                break;
        case 'M':
                shift = 20;
                break;
        case 'G':
                shift = 30;
                break;
        default:
                return -EINVAL;
        }
        if (*end && end[1] && !(toupper((unsigned char) end[1]) == 'B' && !end[2]) &&
            !(toupper((unsigned char) end[1]) == 'I' && toupper((unsigned char) end[2]) == 'B' && !end[3]))
                return -EINVAL;
        if (v > (UINT64_MAX >> shift))
                return -ERANGE;
        *ret_bytes = (uint64_t) v << shift;
        return 0;
}

int cli_block_stop_signals(sigset_t *ret_mask)
{
        sigemptyset(ret_mask);
        sigaddset(ret_mask, SIGTERM);
        sigaddset(ret_mask, SIGINT);
        sigaddset(ret_mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, ret_mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        return 0;
}

const char *cli_md_open_strerror(int r)
{
        switch (r) {
        case -ENOENT:
                return "not an md array";
        case -ENODEV:
                return "no such device";
        case -ENOTBLK:
                return "not a block device";
        default:
                return strerror(-r);
        }
}
