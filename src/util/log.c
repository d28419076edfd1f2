// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "reshaped/util/log.h"

static int max_level = LOG_INFO;
static const char *prefix = "reshaped";
static int use_journal = -1;

void log_set_max_level(int level)
{
        max_level = level;
}

int log_get_max_level(void)
{
        return max_level;
}

void log_set_prefix(const char *p)
{
        prefix = p;
}

/* systemd sets JOURNAL_STREAM=dev:ino for the stream it connected to
 * stderr; only when it still matches is stderr the journal. */
static int stderr_is_journal(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return 0;
        if (fstat(STDERR_FILENO, &st) < 0)
                return 0;
        return st.st_dev == (dev_t) dev && st.st_ino == (ino_t) ino;
}

int log_internal(int level, int error, const char *file, int line,
                 const char *func, const char *format, ...)
{
        int saved_errno = errno;
        char msg[2048];
        va_list ap;

        error = error < 0 ? -error : error;
        if (level > max_level)
                goto out;

        errno = error;
        va_start(ap, format);
        vsnprintf(msg, sizeof(msg), format, ap);
        va_end(ap);

        if (use_journal < 0)
                use_journal = stderr_is_journal();

        if (use_journal) {
                char line_s[32];

                snprintf(line_s, sizeof(line_s), "CODE_LINE=%d", line);
                if (error)
                        sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level,
                                        "ERRNO=%d", error, "CODE_FILE=%s", file,
                                        line_s, "CODE_FUNC=%s", func, NULL);
                else
                        sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level,
                                        "CODE_FILE=%s", file, line_s,
                                        "CODE_FUNC=%s", func, NULL);
        } else if (prefix && *prefix) {
                fprintf(stderr, "%s: %s\n", prefix, msg);
        } else {
                fprintf(stderr, "%s\n", msg);
        }
out:
        errno = saved_errno;
        return -error;
}
