// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The supervisor's set-up before its loop: signals, the backup's place
 * and size, and protection established over the running kernel.
 */
#include "supervise/supervise-internal.h"

static int setup_signals(struct sup *s)
{
        sigset_t mask;
        int r;

        r = cli_block_stop_signals(&mask);
        if (r < 0)
                return r;
        /* Blocked since the lock was taken (supervise-lock.h). */
        sigaddset(&mask, SUPERVISE_PAUSE_SIGNAL);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block the pause signal: %m");
        s->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (s->signal_fd < 0)
                return log_error_errno(errno, "Failed to create a signalfd: %m");
        return 0;
}

/*
 * A relocating reshape (raid10, or raid4/5/6 moving data_offset) is paced
 * without a backup: no file, no placement check, no window buffer; and
 * with no writes ever suspended, no memory to lock.
 */
static int prepare_paced(struct sup *s)
{
        int r;

        if (s->o->backup_path)
                log_notice("%s: this reshape writes its new layout at a new data offset and needs no backup; %s is not used.",
                           md_name(s->md), s->o->backup_path);
        r = setup_signals(s);
        if (r < 0)
                return r;
        /* Armed before anything changes, so no notification is missed. */
        r = md_sync_completed_fd(s->md);
        return r < 0 ? r : 0;
}

static uint64_t align_up_bytes(uint64_t bytes)
{
        return (bytes + BACKUP_ALIGN_BYTES - 1) / BACKUP_ALIGN_BYTES * BACKUP_ALIGN_BYTES;
}

/*
 * A slot (and each of the two window buffers) holds --max-window, or more
 * when the geometry needs more: the kernel can be held only at park
 * points, and the window between two of them must fit whole (a 14 -> 15
 * disk grow with 512 KiB chunks needs 84.5 MiB). Both buffers are locked
 * in memory, so they may take at most half of it. Two slots never need to
 * hold more than the reshape ever puts at risk (a small array, a grow's
 * first units); slot_min_bytes is what is left when space is short.
 */
int sup_size_slots(struct sup *s)
{
        uint64_t need = align_up_bytes(sectors_to_bytes(geometry_min_window_array_sectors(&s->geo)));
        uint64_t want = align_up_bytes(s->o->section_max_bytes);
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        uint64_t memory = pages > 0 && page > 0 ? (uint64_t) pages * (uint64_t) page : 0;
        char b1[32], b2[32], b3[32];

        reshape_shape_slots(&s->geo, s->o->section_max_bytes, SUPERVISOR_SECTION_MIN_BYTES,
                            &s->slot_bytes, &s->slot_min_bytes);
        if (memory && 2 * need > memory / 2)
                return log_error_errno(E2BIG, "%s: this reshape (%u -> %u data disks, chunk %u -> %u KiB) can be held only at steps of %s of the array, and needs two window buffers that size locked in memory, more than half of the %s this machine has; it cannot be supervised here.",
                                       md_name(s->md), s->geo.old_data_disks, s->geo.new_data_disks,
                                       s->mdg.chunk_bytes_old / 1024, s->mdg.chunk_bytes_new / 1024,
                                       report_bytes(need, b1, sizeof(b1)), report_bytes(memory, b2, sizeof(b2)));
        if (memory && 2 * s->slot_bytes > memory / 2)
                return log_error_errno(E2BIG, "--max-window %s: two window buffers that size would lock more than half of the %s of memory; pass --max-window %" PRIu64 "M or less.",
                                       report_bytes(want, b1, sizeof(b1)), report_bytes(memory, b2, sizeof(b2)),
                                       (memory / 4) >> 20);
        if (need > want)
                log_notice("%s: windows are %s, more than --max-window %s: this reshape (%u -> %u data disks, chunk %u -> %u KiB) can be held only at steps that size; %s of memory is locked for the two window buffers.",
                           md_name(s->md), report_bytes(need, b1, sizeof(b1)), report_bytes(want, b2, sizeof(b2)),
                           s->geo.old_data_disks, s->geo.new_data_disks,
                           s->mdg.chunk_bytes_old / 1024, s->mdg.chunk_bytes_new / 1024,
                           report_bytes(2 * need, b3, sizeof(b3)));
        return 0;
}

/* Judged before the array is touched, so a refusal leaves it as it was. A
 * file already there is replaced by a second one beside it (sup_open_backup()),
 * so its blocks are not free for the new one. Where the windows do not fit,
 * smaller ones may. */
static int place_backup(struct sup *s)
{
        struct placement_verdict v;
        struct stat st;
        /* Placement counts a file's own blocks as room for it; these stay
         * taken until the new file replaces it. */
        uint64_t kept = stat(s->o->backup_path, &st) == 0 && S_ISREG(st.st_mode)
                                ? (uint64_t) st.st_blocks * 512 : 0;
        char b1[32], b2[32];
        int r;

        for (;;) {
                uint64_t need = backup_file_size_bytes(s->slot_bytes) + kept;

                r = placement_check(s->o->backup_path, md_name(s->md), need, &v);
                if (r != -ENOSPC || s->slot_bytes <= s->slot_min_bytes)
                        break;
                log_notice("%s: no room at %s for windows of %s; trying %s.", md_name(s->md),
                           s->o->backup_path, report_bytes(s->slot_bytes, b1, sizeof(b1)),
                           report_bytes(s->slot_min_bytes, b2, sizeof(b2)));
                s->slot_bytes = s->slot_min_bytes;
        }
        if (r < 0)
                return log_error_errno(r, "%s", v.message);
        return 0;
}

/* Returns 1 if no reshape runs, or it ended before it could be taken over. */
int sup_prepare(struct sup *s, uint64_t *ckpt, bool *frozen)
{
        uint64_t pos;
        int r;

        /* mdadm's hand-off of a small reshape can start us after its end. */
        r = md_get_reshape_position(s->md, &pos);
        if (r < 0)
                return r;
        if (pos == MD_RESHAPE_POSITION_NONE) {
                uint64_t lo, hi;

                /* A supervisor stopped or killed with windows held leaves
                 * writes to them suspended; once the reshape is over
                 * nothing needs them, and they would hang for good. */
                r = md_get_suspend(s->md, &lo, &hi);
                if (r < 0)
                        return r;
                if (hi > lo) {
                        log_notice("%s: the reshape is over; letting go of the writes to array sectors %" PRIu64 "-%" PRIu64 " still suspended.",
                                   md_name(s->md), lo, hi);
                        r = md_set_suspend(s->md, 0, 0);
                        if (r < 0)
                                return r;
                }
                r = md_read_uuid_and_events(s->md, s->id.uuid, &s->id.events);
                if (r < 0)
                        return r;
                backup_uuid_format(s->id.uuid, s->uuid);
                return 1;
        }
        r = sup_read_geometry(s);
        if (r < 0)
                return r;
        backup_uuid_format(s->id.uuid, s->uuid);
        report_identity(s->uuid, s->geo.relocates ? NULL : s->o->backup_path);
        r = md_get_degraded(s->md, &s->degraded);
        if (r < 0)
                return r;

        r = sup_size_slots(s);
        if (r < 0)
                return r;
        if (s->geo.relocates) {
                r = prepare_paced(s);
                if (r < 0)
                        return r;
                return sup_establish(s, ckpt, frozen);
        }
        if (!s->o->backup_path)
                return log_error_errno(EINVAL, "No backup file for %s: pass --backup-file FILE (mdadm's record /run/mdadm/backup_file-%s and reshaped's own record are both missing).",
                                       md_name(s->md), md_name(s->md));

        {
                struct stripe_layout old = {
                        .level = s->mdg.level,
                        .raid_disks = s->mdg.raid_disks_old,
                        .chunk_sectors = bytes_to_sectors(s->mdg.chunk_bytes_old),
                        .algorithm = s->mdg.layout_old,
                };

                r = member_set_open_md(s->md, &old, s->geo.array_sectors, &s->members);
                if (r < 0)
                        return r;
        }

        r = place_backup(s);
        if (r < 0)
                return r;

        for (unsigned b = 0; b < 2; b++) {
                if (posix_memalign(&s->bufs[b], BACKUP_ALIGN_BYTES, s->slot_bytes) != 0) {
                        s->bufs[b] = NULL;
                        return log_error_errno(ENOMEM, "Failed to allocate a %" PRIu64 "-byte window buffer.",
                                               s->slot_bytes);
                }
                /* Touch it so mlockall() pins real pages. */
                memset(s->bufs[b], 0, s->slot_bytes);
        }
        r = sup_open_backup(s);
        if (r < 0)
                return r;
        r = record_save(s->uuid, md_name(s->md), s->o->backup_path);
        if (r < 0)
                return r;
        /* With writes suspended, a page fault that needs writeback to the
         * array would deadlock us. */
        if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
                return log_error_errno(errno, "Failed to lock memory (mlockall): %m");
        r = setup_signals(s);
        if (r < 0)
                return r;

        /* Armed before anything changes, so no notification is missed. */
        r = md_sync_completed_fd(s->md);
        if (r < 0)
                return r;
        r = sup_establish(s, ckpt, frozen);
        if (r != 0)
                return r;
        return sup_set_resume(s, *ckpt);
}
