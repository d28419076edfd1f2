/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Logging for the daemon and the CLI. Messages go to stderr for a person
 * at a terminal and straight to journald (with priority and errno fields)
 * when stderr is the journal stream systemd gave us.
 *
 * The *_errno variants take a positive or negative errno, make "%m" print
 * it, and return it negated, so error paths read
 *     return log_error_errno(r, "Failed to read %s: %m", path);
 */

#include <syslog.h>

void log_set_max_level(int level);
int log_get_max_level(void);

/* Prefix human messages with the program name (default) or not. */
void log_set_prefix(const char *prefix);

int log_internal(int level, int error, const char *file, int line,
                 const char *func, const char *format, ...)
        __attribute__((format(printf, 6, 7)));

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), __FILE__, __LINE__, __func__, __VA_ARGS__)

#define log_debug(...)   log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   log_full_errno(LOG_ERR, 0, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, (e), __VA_ARGS__)
