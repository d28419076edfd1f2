// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm-member-read-check MD [LENGTH_BYTES]: reads an idle array (or its
 * first LENGTH bytes) twice, from its members with reshaped's layout map
 * and parity rebuild (member-read.h), and through the md device, and
 * compares them. Prints "ok bytes=N usable=MASK" or the first difference,
 * and exits 1 on a mismatch, 2 on an error. It proves the map against the
 * real kernel for every layout and degraded state a scenario sets up.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reshaped/plan/geometry.h"
#include "reshaped/util/log.h"
#include "reshaped/md/md.h"
#include "reshaped/members/member-read.h"

#define STEP_BYTES ((uint64_t) 4 << 20)

static int check(const char *spec, uint64_t limit)
{
        struct md *md = NULL;
        struct md_geometry g;
        struct member_set *ms = NULL;
        struct member_scratch *sc = NULL;
        uint64_t usable, bytes, sectors;
        void *a = NULL, *b = NULL;
        char buf[64];
        int fd = -1, r;

        r = md_open(spec, &md);
        if (r < 0)
                return 2;
        r = md_get_geometry(md, &g);
        if (r < 0)
                goto out;
        r = md_read_attr(md, "array_size", buf, sizeof(buf));
        if (r < 0)
                goto out;
        fd = open(md_devnode(md), O_RDONLY | O_DIRECT | O_CLOEXEC);
        if (fd < 0) {
                r = log_error_errno(errno, "open %s: %m", md_devnode(md));
                goto out;
        }
        {
                off_t end = lseek(fd, 0, SEEK_END);

                if (end < 0) {
                        r = log_error_errno(errno, "lseek %s: %m", md_devnode(md));
                        goto out;
                }
                bytes = (uint64_t) end;
        }
        if (limit && limit < bytes)
                bytes = limit;
        sectors = bytes_to_sectors(bytes);
        {
                struct stripe_layout l = {
                        .level = g.level,
                        .raid_disks = g.raid_disks_old,
                        .chunk_sectors = bytes_to_sectors(g.chunk_bytes_old),
                        .algorithm = g.layout_old,
                };

                r = member_set_open_md(md, &l, sectors, &ms);
        }
        if (r < 0)
                goto out;
        r = member_set_refresh(ms, md, &usable);
        if (r < 0)
                goto out;
        r = member_scratch_new(ms, &sc);
        if (r < 0)
                goto out;
        if (posix_memalign(&a, 4096, STEP_BYTES) || posix_memalign(&b, 4096, STEP_BYTES)) {
                r = log_error_errno(ENOMEM, "Out of memory.");
                goto out;
        }
        for (uint64_t at = 0; at < bytes; at += STEP_BYTES) {
                uint64_t n = bytes - at < STEP_BYTES ? bytes - at : STEP_BYTES;
                struct array_range all = { 0, sectors };

                r = member_set_read(ms, usable, all, bytes_to_sectors(at), bytes_to_sectors(at + n), a, sc);
                if (r < 0)
                        goto out;
                if (pread(fd, b, n, (off_t) at) != (ssize_t) n) {
                        r = log_error_errno(errno ? errno : EIO, "read %s at %" PRIu64 ": %m", md_devnode(md), at);
                        goto out;
                }
                if (memcmp(a, b, n) != 0) {
                        uint64_t i = 0;

                        while (((char *) a)[i] == ((char *) b)[i])
                                i++;
                        printf("MISMATCH first_bad_offset=%" PRIu64 " usable=0x%" PRIx64 "\n", at + i, usable);
                        r = 1;
                        goto out;
                }
        }
        printf("ok bytes=%" PRIu64 " usable=0x%" PRIx64 "\n", bytes, usable);
        r = 0;
out:
        free(a);
        free(b);
        member_scratch_free(sc);
        member_set_free(ms);
        if (fd >= 0)
                close(fd);
        md_close(md);
        return r < 0 ? 2 : r;
}

int main(int argc, char **argv)
{
        if (argc < 2 || argc > 3) {
                fprintf(stderr, "usage: vm-member-read-check MD [LENGTH_BYTES]\n");
                return 2;
        }
        return check(argv[1], argc == 3 ? strtoull(argv[2], NULL, 10) : 0);
}
