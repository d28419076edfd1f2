// SPDX-License-Identifier: GPL-2.0-or-later
#include "vm-util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double vm_now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int vm_md_attr_path(const char *md, const char *name, char *path, size_t size)
{
        int n = snprintf(path, size, "/sys/block/%s/md/%s", md, name);

        if (n < 0 || (size_t) n >= size) {
                errno = ENAMETOOLONG;
                return -ENAMETOOLONG;
        }
        return 0;
}

int vm_pread_attr(int fd, char *buf, size_t size)
{
        ssize_t n = pread(fd, buf, size - 1, 0);

        if (n < 0)
                return -errno;
        buf[n] = '\0';
        if (n > 0 && buf[n - 1] == '\n')
                buf[n - 1] = '\0';
        return 0;
}

int vm_read_md_attr(const char *md, const char *name, char *buf, size_t size)
{
        char path[VM_ATTR_PATH_BYTES];
        int fd, r;

        r = vm_md_attr_path(md, name, path, sizeof(path));
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = vm_pread_attr(fd, buf, size);
        close(fd);
        /* Callers print %m: errno stays the read's, whatever close() did. */
        if (r < 0)
                errno = -r;
        return r;
}

int vm_mdstat_reshape_kib(const char *mdstat_path, const char *md, uint64_t *ret_kib)
{
        char *line = NULL;
        size_t cap = 0;
        size_t md_len = strlen(md);
        bool in_md = false;
        FILE *f;
        int r = 0;

        f = fopen(mdstat_path, "re");
        if (!f)
                return -errno;
        while (getline(&line, &cap, f) > 0) {
                unsigned long long done_kib, total_kib;
                const char *p;

                if (!in_md) {
                        in_md = strncmp(line, md, md_len) == 0 && strncmp(line + md_len, " : ", 3) == 0;
                        continue;
                }
                /* An array's block is its indented lines; md.c ends it with
                 * a line of spaces (no bitmap) or an empty one (after the
                 * bitmap's), and the next array's starts unindented. */
                if (line[0] != ' ')
                        break;
                p = strstr(line, "reshape =");
                if (!p)
                        continue;
                p = strchr(p, '(');
                if (p && sscanf(p, "(%llu/%llu)", &done_kib, &total_kib) == 2) {
                        *ret_kib = done_kib;
                        r = 1;
                }
                break;
        }
        free(line);
        fclose(f);
        return r;
}

int vm_parse_leading_u64(const char *s, uint64_t *ret, const char **ret_end)
{
        char *end;
        unsigned long long v;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0)
                return -errno;
        *ret = v;
        *ret_end = end;
        return 0;
}

int vm_parse_u64(const char *s, uint64_t *ret)
{
        const char *end;
        uint64_t v;
        int r;

        r = vm_parse_leading_u64(s, &v, &end);
        if (r < 0)
                return r;
        if (*end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

uint64_t vm_le64(const unsigned char *p)
{
        uint64_t v = 0;

        for (int i = 7; i >= 0; i--)
                v = v << 8 | p[i];
        return v;
}

uint32_t vm_le32(const unsigned char *p)
{
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

void vm_store_le64(unsigned char *p, uint64_t v)
{
        for (unsigned i = 0; i < 8; i++)
                p[i] = (unsigned char) (v >> (8 * i));
}

uint64_t vm_splitmix64(uint64_t z)
{
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

int vm_pread_full(int fd, unsigned char *buf, size_t len, uint64_t offset_bytes)
{
        size_t done = 0;

        while (done < len) {
                ssize_t n = pread(fd, buf + done, len - done, (off_t) (offset_bytes + done));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -ENODATA;
                done += (size_t) n;
        }
        return 0;
}

int vm_pwrite_full(int fd, const unsigned char *buf, size_t len, uint64_t offset_bytes)
{
        size_t done = 0;

        while (done < len) {
                ssize_t n = pwrite(fd, buf + done, len - done, (off_t) (offset_bytes + done));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -ENOSPC;
                done += (size_t) n;
        }
        return 0;
}
