/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What the VM helpers (vm-probe, vm-contract-watch, vm-pattern,
 * vm-fswriter, vm-logwrites-replay) share: md sysfs attributes, the
 * reshape's position in /proc/mdstat, strict decimal numbers, little-endian words, the pattern generator's mixer,
 * whole-buffer I/O and the monotonic clock. The helpers run static in a
 * guest without reshaped's library, and probe must stay independent of
 * reshaped's code, so this is linked into them alone. Nothing here prints:
 * each helper words its own messages.
 */

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in seconds. */
double vm_now_s(void);

/* Room for /sys/block/MD/md/NAME: md names are at most 32 bytes. */
#define VM_ATTR_PATH_BYTES 256

/* /sys/block/@md/md/@name into @path; -ENAMETOOLONG (errno set too, for
 * callers that print %m) when it does not fit. */
int vm_md_attr_path(const char *md, const char *name, char *path, size_t size);

/* Reads an open sysfs attribute from its start, without its trailing
 * newline; reading from the start also re-arms poll() on it. */
int vm_pread_attr(int fd, char *buf, size_t size);

/* Reads the attribute @name of array @md; -errno, with errno set. */
int vm_read_md_attr(const char *md, const char *name, char *buf, size_t size);

/* The reshape's live position for array @md in @mdstat_path (normally
 * /proc/mdstat: "reshape = 41.0% (107520/262080)", md.c status_resync,
 * curr_resync - recovery_active in KiB per member): 1 and *@ret_kib when
 * it shows one, 0 when it shows none (no such array, no reshape, nothing
 * readable), -errno when it cannot be opened. */
int vm_mdstat_reshape_kib(const char *mdstat_path, const char *md, uint64_t *ret_kib);

/* A decimal number that starts @s (a digit first: no sign, no space);
 * *@ret_end is where it stops. -EINVAL or -ERANGE otherwise. */
int vm_parse_leading_u64(const char *s, uint64_t *ret, const char **ret_end);

/* A decimal number and nothing else: sysfs's "max", "none" are not. */
int vm_parse_u64(const char *s, uint64_t *ret);

uint64_t vm_le64(const unsigned char *p);
uint32_t vm_le32(const unsigned char *p);
void vm_store_le64(unsigned char *p, uint64_t v);

/* splitmix64's finalizer, which both data patterns are made of. */
uint64_t vm_splitmix64(uint64_t z);

/* Whole-buffer pread()/pwrite(), retried on EINTR: -errno, -ENODATA
 * when the file ends first, -ENOSPC when a write makes no progress. */
int vm_pread_full(int fd, unsigned char *buf, size_t len, uint64_t offset_bytes);
int vm_pwrite_full(int fd, const unsigned char *buf, size_t len, uint64_t offset_bytes);
