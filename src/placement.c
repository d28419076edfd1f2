// SPDX-License-Identifier: GPL-2.0-or-later
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reshaped/log.h"
#include "reshaped/md.h"
#include "reshaped/placement.h"
#include "placement-internal.h"

int placement_set_verdict(struct placement_verdict *out, enum placement_reason reason,
                          int error, const char *format, ...)
{
        va_list ap;

        out->reason = reason;
        errno = error < 0 ? -error : error;  /* for %m */
        va_start(ap, format);
        vsnprintf(out->message, sizeof(out->message), format, ap);
        va_end(ap);
        return error;
}

const char *placement_reason_to_string(enum placement_reason reason)
{
        switch (reason) {
        case PLACEMENT_OK:               return "ok";
        case PLACEMENT_BAD_PATH:         return "bad-path";
        case PLACEMENT_CANNOT_CHECK:     return "cannot-check";
        case PLACEMENT_ON_ARRAY:         return "on-array";
        case PLACEMENT_STACKED_ON_ARRAY: return "stacked-on-array";
        case PLACEMENT_ON_MEMBER:        return "on-member";
        case PLACEMENT_VOLATILE:         return "volatile";
        case PLACEMENT_NO_SPACE:         return "no-space";
        }
        return "unknown";
}

void placement_devices_free(struct placement_devices *d)
{
        free(d->items);
        d->items = NULL;
        d->n = 0;
}

int placement_devices_add(struct placement_devices *d, dev_t devno,
                          enum placement_relation relation, const char *name, const char *chain)
{
        struct placement_device *items;
        size_t len = strlen(name), chain_len = strlen(chain);

        if (len >= sizeof(items->name) || chain_len >= sizeof(items->chain))
                return -ENAMETOOLONG;
        items = reallocarray(d->items, d->n + 1, sizeof(*items));
        if (!items)
                return -ENOMEM;
        d->items = items;
        items[d->n] = (struct placement_device) { .devno = devno, .relation = relation };
        memcpy(items[d->n].name, name, len + 1);
        memcpy(items[d->n].chain, chain, chain_len + 1);
        d->n++;
        return 0;
}

/* ---- The rules ---------------------------------------------------------- */

/* Lost at reboot, or not storage at all. "rootfs" is the initramfs a
 * system runs from before it mounts its real root. */
static const char *const volatile_fs_types[] = {
        "tmpfs", "ramfs", "rootfs", "devtmpfs", "proc", "sysfs", "hugetlbfs", "devpts",
        "mqueue", "cgroup", "cgroup2", "debugfs", "tracefs", "securityfs",
        "configfs", "bpf", "fusectl", "binfmt_misc", "rpc_pipefs", "nsfs",
};

static bool fs_type_is_volatile(const char *fs_type)
{
        for (size_t i = 0; i < sizeof(volatile_fs_types) / sizeof(volatile_fs_types[0]); i++)
                if (strcmp(fs_type, volatile_fs_types[i]) == 0)
                        return true;
        return false;
}

static bool name_has_number_after(const char *name, const char *prefix)
{
        size_t len = strlen(prefix);

        return strncmp(name, prefix, len) == 0 && isdigit((unsigned char) name[len]);
}

/* zram and brd: a disk filesystem, but in RAM. */
static bool device_is_ram_disk(const char *name)
{
        return name_has_number_after(name, "zram") || name_has_number_after(name, "ram");
}

/* The closest relation wins: the array itself, then what is built on it,
 * then what it is built from. */
static const struct placement_device *find_overlap(const struct placement_devices *targets,
                                                   const struct placement_devices *array,
                                                   const struct placement_device **target)
{
        static const enum placement_relation order[] = {
                PLACEMENT_ARRAY, PLACEMENT_STACKED, PLACEMENT_MEMBER,
        };

        for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++)
                for (size_t t = 0; t < targets->n; t++)
                        for (size_t a = 0; a < array->n; a++)
                                if (array->items[a].relation == order[o] &&
                                    array->items[a].devno == targets->items[t].devno) {
                                        *target = &targets->items[t];
                                        return &array->items[a];
                                }
        return NULL;
}

static const char *what(const struct placement_facts *f)
{
        return f->is_block_device ? "Backup device" : "Backup file";
}

/* target is how the backup reaches hit: itself, or through loop devices,
 * partitions, slaves, overlays (its chain). */
static int refuse_overlap(const struct placement_facts *f, const struct placement_device *hit,
                          const struct placement_device *target, struct placement_verdict *out)
{
        const char *on = target->chain[0] ? target->chain : hit->name;

        switch (hit->relation) {
        case PLACEMENT_ARRAY:
                if (!target->chain[0])
                        return placement_set_verdict(out, PLACEMENT_ON_ARRAY, -EBUSY,
                                                     "%s %s is on %s itself, the array being reshaped, and "
                                                     "would be lost with the data it protects; put it on "
                                                     SAFE_PLACE ".",
                                                     what(f), f->backup_path, f->md_sysname, f->md_sysname);
                return placement_set_verdict(out, PLACEMENT_ON_ARRAY, -EBUSY,
                                             "%s %s is on %s, the array being reshaped, and would be lost "
                                             "with the data it protects; put it on " SAFE_PLACE ".",
                                             what(f), f->backup_path, on, f->md_sysname);
        case PLACEMENT_STACKED:
                return placement_set_verdict(out, PLACEMENT_STACKED_ON_ARRAY, -EBUSY,
                                             "%s %s is on %s, which is built on %s, the array being "
                                             "reshaped, and would be lost with the data it protects; "
                                             "put it on " SAFE_PLACE ".",
                                             what(f), f->backup_path, on, f->md_sysname, f->md_sysname);
        case PLACEMENT_MEMBER:
                return placement_set_verdict(out, PLACEMENT_ON_MEMBER, -EBUSY,
                                             "%s %s is on %s, which is (part of) a member of %s; writing it "
                                             "would corrupt the array. Put it on " SAFE_PLACE ".",
                                             what(f), f->backup_path, on, f->md_sysname, f->md_sysname);
        case PLACEMENT_UNRELATED:
                break;
        }
        return placement_set_verdict(out, PLACEMENT_CANNOT_CHECK, -EINVAL,
                                     "Device %s has no relation to %s; this is a bug in reshaped.",
                                     hit->name, f->md_sysname);
}

static const char *format_bytes(char *buf, size_t size, uint64_t bytes)
{
        snprintf(buf, size, "%" PRIu64 " bytes (%.1f MiB)", bytes, bytes / 1048576.0);
        return buf;
}

static int check_space(const struct placement_facts *f, struct placement_verdict *out)
{
        char need_s[64], have_s[64];
        uint64_t missing_bytes;

        if (f->existing_bytes >= f->required_bytes)
                return 0;
        if (f->is_block_device)
                return placement_set_verdict(out, PLACEMENT_NO_SPACE, -ENOSPC,
                                             "Backup device %s holds %s but the backup of %s needs %s; use "
                                             "a larger device, or a file on " SAFE_PLACE ".",
                                             f->backup_path,
                                             format_bytes(have_s, sizeof(have_s), f->existing_bytes),
                                             f->md_sysname,
                                             format_bytes(need_s, sizeof(need_s), f->required_bytes),
                                             f->md_sysname);

        /* Blocks the file already has (preallocated) need no free space. */
        missing_bytes = f->required_bytes - f->existing_bytes;
        if (f->free_bytes >= missing_bytes)
                return 0;
        return placement_set_verdict(out, PLACEMENT_NO_SPACE, -ENOSPC,
                                     "Backup file %s needs %s more but its filesystem has only %s free; "
                                     "free space there or put it on a larger disk that is not part of %s.",
                                     f->backup_path, format_bytes(need_s, sizeof(need_s), missing_bytes),
                                     format_bytes(have_s, sizeof(have_s), f->free_bytes), f->md_sysname);
}

int placement_judge(const struct placement_facts *f, struct placement_verdict *out)
{
        const struct placement_device *hit, *target;
        int r;

        hit = find_overlap(f->targets, f->array, &target);
        if (hit)
                return refuse_overlap(f, hit, target, out);

        if (!f->is_block_device && f->fs_type && fs_type_is_volatile(f->fs_type))
                return placement_set_verdict(out, PLACEMENT_VOLATILE, -EMEDIUMTYPE,
                                             "Backup file %s is on %s, which does not survive a reboot; "
                                             "put it on " SAFE_PLACE ".",
                                             f->backup_path, f->fs_type, f->md_sysname);

        for (size_t i = 0; f->below && i < f->below->n; i++)
                if (fs_type_is_volatile(f->below->items[i].type))
                        return placement_set_verdict(out, PLACEMENT_VOLATILE, -EMEDIUMTYPE,
                                                     "%s %s is on %s, which does not survive a reboot; "
                                                     "put it on " SAFE_PLACE ".",
                                                     what(f), f->backup_path, f->below->items[i].chain,
                                                     f->md_sysname);

        for (size_t i = 0; i < f->targets->n; i++)
                if (device_is_ram_disk(f->targets->items[i].name))
                        return placement_set_verdict(out, PLACEMENT_VOLATILE, -EMEDIUMTYPE,
                                                     "%s %s is on %s, a RAM disk, which does not survive a "
                                                     "reboot; put it on " SAFE_PLACE ".",
                                                     what(f), f->backup_path,
                                                     f->targets->items[i].chain[0] ?
                                                     f->targets->items[i].chain : f->targets->items[i].name,
                                                     f->md_sysname);

        r = check_space(f, out);
        if (r < 0)
                return r;

        return placement_set_verdict(out, PLACEMENT_OK, 0,
                                     "%s %s is a safe place for the backup of %s.",
                                     what(f), f->backup_path, f->md_sysname);
}
