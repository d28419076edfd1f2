/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The reads that backup-file.c (the live file) and backup-verify.c
 * (checking a file offline) share: O_DIRECT when the filesystem takes it,
 * buffered I/O when it refuses. Not for other modules.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads and zero-fills go in pieces of this size. */
#define IO_CHUNK_BYTES ((size_t) 1 << 20)

/* Whether buffer, offset and length all suit O_DIRECT. */
bool backup_io_aligned(const void *p, uint64_t off, size_t n);
/* open() (a negative errno, unlogged), then O_DIRECT if it is taken. */
int backup_io_open(const char *path, int flags, mode_t mode, bool *direct);
/* Turns O_DIRECT off on fd; logs on failure. */
int backup_io_drop_direct(int fd, const char *path, bool *direct);
/* Reads up to n bytes, fewer only at end of file; returns the count. */
ssize_t backup_io_pread(int fd, const char *path, bool *direct, void *buf, size_t n,
                        uint64_t off);
/* The size of the regular file fd; anything else is refused. */
int backup_io_file_size(int fd, const char *path, uint64_t *ret);
/* Reads the header area (BACKUP_HEADER_AREA_BYTES, zeroed first); returns
 * the bytes read (< 512: truncated). */
ssize_t backup_io_read_header_area(int fd, const char *path, bool *direct, uint8_t *area);
