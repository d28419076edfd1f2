// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * How `reshaped status` shows what status_decide() made of an array: the
 * text an admin reads and the JSON the man page documents.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reshaped/backup/backup-verdict.h"
#include "reshaped/util/json-util.h"
#include "reshaped/report/report.h"
#include "reshaped/report/status.h"

static void print_text_backup(FILE *f, const struct status_observed *o, const struct status_view *v)
{
        const struct backup_header *h = &o->backup.header;

        fprintf(f, "  Backup:      ");
        if (v->backup == STATUS_BACKUP_NONE) {
                fprintf(f, "none recorded\n");
                return;
        }
        fprintf(f, "%s (from %s): ", o->backup_path, o->backup_source);
        switch (v->backup) {
        case STATUS_BACKUP_UNREADABLE:
                fprintf(f, "cannot be read: %s\n", strerror(-o->backup_error));
                return;
        case STATUS_BACKUP_DAMAGED:
                fprintf(f, "DAMAGED: %s (see 'reshaped inspect')\n",
                        backup_verify_strerror(o->backup.verdict.reason));
                return;
        case STATUS_BACKUP_OTHER_ARRAY:
                fprintf(f, "belongs to another array\n");
                return;
        case STATUS_BACKUP_VERIFIED:
                fprintf(f, "verified, generation %" PRIu64 ", ", h->generation);
                break;
        default:
                fprintf(f, "valid header, data not verifiable (written by mdadm), ");
                break;
        }
        fprintf(f, "%u window%s held\n", v->windows, v->windows == 1 ? "" : "s");
}

void status_print_text(FILE *f, const struct status_observed *o, const struct status_view *v)
{
        const struct md_geometry *m = &o->mdg;
        const char *level = md_level_to_string(m->level);
        char a[32], b[32], c[32];

        if (v->state == STATUS_INACTIVE) {
                fprintf(f, "%s: not running (inactive)\n  State:       INACTIVE: %s\n  Fix:         %s\n",
                        o->devnode, v->reason, v->fix);
                return;
        }
        if (v->state == STATUS_NO_RESHAPE) {
                fprintf(f, "%s: no reshape in progress (%s, %u disks, chunk %s)\n", o->devnode,
                        level ? level : "unknown level", m->raid_disks_new,
                        status_chunk_name(m->chunk_bytes_new, a, sizeof(a)));
                return;
        }
        fprintf(f, "%s: %s reshape, %s (%u disks, %s)\n", o->devnode, level ? level : "unknown level",
                v->change, m->raid_disks_new, md_reshape_direction_to_string(m->direction));
        fprintf(f, "  State:       %s: %s\n", status_state_text(v->state), v->reason);
        if (v->geometry_ok && v->progress_known) {
                fprintf(f, "  Progress:    %.1f%% (%s of %s)", v->percent,
                        report_bytes(v->done_bytes, a, sizeof(a)), report_bytes(v->total_bytes, b, sizeof(b)));
                if (v->rate_bytes_per_sec >= 0) {
                        report_duration(v->eta_sec, c, sizeof(c));
                        fprintf(f, ", %s/s, %s to go\n",
                                report_bytes((uint64_t) v->rate_bytes_per_sec, a, sizeof(a)), c);
                } else
                        fprintf(f, ", rate unknown\n");
        }
        if (v->geometry_ok) {
                fprintf(f, "  Kernel:      %s", md_sync_action_to_string(o->action));
                if (v->limit_percent >= 0)
                        fprintf(f, ", may go to %.1f%% (sync_max)", v->limit_percent);
                else
                        fprintf(f, ", sync_max is max");
                if (v->checkpoint_known)
                        fprintf(f, ", checkpoint on disk at %.1f%%\n", v->checkpoint_percent);
                else
                        fprintf(f, ", checkpoint on disk unknown (superblocks unreadable: %s)\n",
                                strerror(-o->checkpoint_error));
                if (v->protected_known)
                        fprintf(f, "  Protected:   to %.1f%% (the backup's furthest section)\n",
                                v->protected_percent);
                else
                        fprintf(f, "  Protected:   nothing backed up\n");
        }
        print_text_backup(f, o, v);
        if (o->supervisor_pid > 0)
                fprintf(f, "  Supervisor:  reshaped, pid %d%s%s%s\n", (int) o->supervisor_pid,
                        o->supervisor_unit ? " (" : "", o->supervisor_unit ? o->supervisor_unit : "",
                        o->supervisor_unit ? ")" : "");
        else if (o->mdadm_pid > 0)
                fprintf(f, "  Supervisor:  mdadm --grow, pid %d\n", (int) o->mdadm_pid);
        else
                fprintf(f, "  Supervisor:  none\n");
        if (v->fix[0])
                fprintf(f, "  Fix:         %s%s\n", v->fix,
                        v->fix_needs_file ? "  (FILE on a filesystem outside the array)" : "");
}

static void json_string_or_null(FILE *f, const char *s)
{
        if (s)
                json_print_string(f, s);
        else
                fputs("null", f);
}

static void json_u64_or_null(FILE *f, bool known, uint64_t x)
{
        if (known)
                fprintf(f, "%" PRIu64, x);
        else
                fputs("null", f);
}

static void json_percent_or_null(FILE *f, bool known, double x)
{
        if (known)
                fprintf(f, "%.1f", x);
        else
                fputs("null", f);
}

static void print_json_backup(FILE *f, const struct status_observed *o, const struct status_view *v)
{
        const struct backup_header *h = &o->backup.header;
        bool read = v->backup != STATUS_BACKUP_NONE && v->backup != STATUS_BACKUP_UNREADABLE &&
                    o->backup.header_read;

        if (v->backup == STATUS_BACKUP_NONE) {
                fputs("null", f);
                return;
        }
        fputs("{\"path\":", f);
        json_print_string(f, o->backup_path);
        fputs(",\"source\":", f);
        json_print_string(f, o->backup_source);
        fprintf(f, ",\"verdict\":\"%s\",\"reason\":", status_backup_state_id(v->backup));
        json_string_or_null(f, v->backup == STATUS_BACKUP_UNREADABLE ? NULL
                            : backup_verify_reason_id(o->backup.verdict.reason));
        fputs(",\"generation\":", f);
        json_u64_or_null(f, read && h->has_extension, h->generation);
        fputs(",\"windows\":", f);
        json_u64_or_null(f, read, v->windows);
        fputc('}', f);
}

void status_print_json(FILE *f, const struct status_observed *o, const struct status_view *v)
{
        const struct md_geometry *m = &o->mdg;
        bool reshaping = v->state != STATUS_NO_RESHAPE;
        bool geo = v->geometry_ok, prog = geo && v->progress_known;
        char uuid[BACKUP_UUID_STRING_MAX];

        fputs("{\"device\":", f);
        json_print_string(f, o->devnode);
        fputs(",\"name\":", f);
        json_print_string(f, o->name);
        fprintf(f, ",\"state\":\"%s\",\"protected\":%s,\"reason\":", status_state_id(v->state),
                status_state_ok(v->state) ? "true" : "false");
        json_print_string(f, v->reason);
        fputs(",\"fix\":", f);
        json_string_or_null(f, v->fix[0] ? v->fix : NULL);
        fprintf(f, ",\"paused\":%s", o->paused ? "true" : "false");
        fputs(",\"uuid\":", f);
        json_string_or_null(f, o->super_error == 0 ? backup_uuid_format(o->uuid, uuid) : NULL);
        fprintf(f, ",\"level\":%d,\"change\":", m->level);
        json_string_or_null(f, reshaping ? v->change : NULL);
        fprintf(f, ",\"before\":{\"raid_disks\":%u,\"chunk_bytes\":%" PRIu32 ",\"layout\":%" PRIu32 "}"
                ",\"after\":{\"raid_disks\":%u,\"chunk_bytes\":%" PRIu32 ",\"layout\":%" PRIu32 "}"
                ",\"direction\":\"%s\",\"sync_action\":\"%s\"",
                m->raid_disks_old, m->chunk_bytes_old, m->layout_old,
                m->raid_disks_new, m->chunk_bytes_new, m->layout_new,
                md_reshape_direction_to_string(m->direction), md_sync_action_to_string(o->action));
        fputs(",\"percent\":", f);
        json_percent_or_null(f, prog, v->percent);
        fputs(",\"done_bytes\":", f);
        json_u64_or_null(f, prog, v->done_bytes);
        fputs(",\"total_bytes\":", f);
        json_u64_or_null(f, prog, v->total_bytes);
        fputs(",\"rate_bytes_per_sec\":", f);
        json_u64_or_null(f, prog && v->rate_bytes_per_sec >= 0, (uint64_t) v->rate_bytes_per_sec);
        fputs(",\"eta_seconds\":", f);
        json_u64_or_null(f, prog && v->eta_sec >= 0, (uint64_t) (v->eta_sec + 0.5));
        fputs(",\"completed_progress_sectors\":", f);
        json_u64_or_null(f, prog, v->front_progress);
        fputs(",\"end_progress_sectors\":", f);
        json_u64_or_null(f, geo, v->geo.end_progress_sectors);
        fputs(",\"sync_max_progress_sectors\":", f);
        json_u64_or_null(f, reshaping && o->sync_max_progress != MD_SYNC_MAX_UNLIMITED, o->sync_max_progress);
        fputs(",\"limit_percent\":", f);
        json_percent_or_null(f, geo && v->limit_percent >= 0, v->limit_percent);
        fputs(",\"reshape_position_array_sectors\":", f);
        json_u64_or_null(f, o->position_array_sectors != MD_RESHAPE_POSITION_NONE, o->position_array_sectors);
        fputs(",\"checkpoint_array_sectors\":", f);
        json_u64_or_null(f, reshaping && o->checkpoint_error == 0 && o->checkpoint_active,
                         o->checkpoint_array_sectors);
        fputs(",\"checkpoint_percent\":", f);
        json_percent_or_null(f, geo && v->checkpoint_known, v->checkpoint_percent);
        fputs(",\"protected_through_array_sectors\":", f);
        json_u64_or_null(f, geo && v->protected_known, v->protected_array_sectors);
        fputs(",\"protected_percent\":", f);
        json_percent_or_null(f, geo && v->protected_known, v->protected_percent);
        fputs(",\"backup\":", f);
        print_json_backup(f, o, v);
        fputs(",\"supervisor\":", f);
        if (o->supervisor_pid > 0) {
                fprintf(f, "{\"pid\":%d,\"unit\":", (int) o->supervisor_pid);
                json_string_or_null(f, o->supervisor_unit);
                fputc('}', f);
        } else
                fputs("null", f);
        fputs(",\"mdadm_monitor_pid\":", f);
        json_u64_or_null(f, o->mdadm_pid > 0, (uint64_t) o->mdadm_pid);
        fputc('}', f);
}

void status_print_json_error(FILE *f, const char *device, const char *message)
{
        fputs("{\"device\":", f);
        json_print_string(f, device);
        fputs(",\"state\":\"error\",\"protected\":false,\"reason\":", f);
        json_print_string(f, message);
        fputc('}', f);
}
