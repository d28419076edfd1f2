// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "reshaped/backup/backup-verdict.h"
#include "reshaped/backup/backup.h"
#include "reshaped/cli/cmd.h"
#include "reshaped/util/json-util.h"
#include "reshaped/util/log.h"

enum section_status {
        SECTION_EMPTY,
        SECTION_OK,
        SECTION_BAD,
        SECTION_BEYOND_EOF,
        SECTION_UNVERIFIED,
};

static const char *const section_status_id[] = {
        [SECTION_EMPTY] = "empty",
        [SECTION_OK] = "ok",
        [SECTION_BAD] = "bad",
        [SECTION_BEYOND_EOF] = "beyond-eof",
        [SECTION_UNVERIFIED] = "unverified",
};

static enum section_status section_status(const struct backup_report *rep, unsigned slot)
{
        const struct backup_header *h = &rep->header;

        if (h->sections[slot].length_sectors == 0)
                return SECTION_EMPTY;
        if (!rep->sections[slot].crc_computed)
                return SECTION_BEYOND_EOF;
        if (!h->has_extension)
                return SECTION_UNVERIFIED;
        return backup_section_crc_matches(h, slot, rep->sections[slot].crc32c) ? SECTION_OK : SECTION_BAD;
}

static void format_utc(uint64_t seconds, char *buf, size_t size)
{
        time_t t = (time_t) seconds;
        struct tm tm;

        if (seconds > INT64_MAX || !gmtime_r(&t, &tm) ||
            strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buf, size, "invalid");
}

static void format_local(uint64_t seconds, char *buf, size_t size)
{
        time_t t = (time_t) seconds;
        struct tm tm;

        if (seconds > INT64_MAX || !localtime_r(&t, &tm) ||
            strftime(buf, size, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                snprintf(buf, size, "invalid");
}

static void print_geometry(const struct backup_geometry *g)
{
        printf("raid%" PRId32 ", %" PRIu32 " disks, chunk %" PRIu32 " KiB, layout %" PRIu32,
               g->level, g->raid_disks, g->chunk_bytes / 1024, g->layout);
}

static void print_section_human(const struct backup_report *rep, unsigned slot)
{
        const struct backup_section *s = &rep->header.sections[slot];
        enum section_status st = section_status(rep, slot);

        printf("Section %u:    ", slot);
        if (st == SECTION_EMPTY) {
                printf("empty\n");
                return;
        }
        printf("array sectors %" PRIu64 "+%" PRIu64 " (%" PRIu64 " bytes at array byte %" PRIu64 ")\n",
               s->array_start_sectors, s->length_sectors, s->length_sectors * 512,
               s->array_start_sectors * 512);
        printf("              ");
        if (rep->header.has_extension)
                printf("CRC32C stored 0x%08" PRIx32 ", ", s->data_crc32c);
        switch (st) {
        case SECTION_BEYOND_EOF:
                printf("data lies beyond the end of the file: BAD\n");
                break;
        case SECTION_UNVERIFIED:
                printf("CRC32C 0x%08" PRIx32 " (nothing stored to compare): unverified\n",
                       rep->sections[slot].crc32c);
                break;
        default:
                printf("computed 0x%08" PRIx32 ": %s\n", rep->sections[slot].crc32c,
                       st == SECTION_OK ? "OK" : "BAD");
                break;
        }
}

static void print_extension_human(const struct backup_header *h)
{
        const struct backup_identity *id = &h->identity;

        if (!h->has_extension) {
                printf("Extension:    none: %s\n", backup_verify_strerror(BACKUP_VERIFY_UNVERIFIED));
                return;
        }
        printf("Extension:    reshaped integrity extension v%u, generation %" PRIu64
               ", header CRC32C 0x%08" PRIx32 "\n", BACKUP_EXT_VERSION, h->generation,
               h->header_crc32c);
        printf("Array:        md events %" PRIu64 ", component %" PRIu64 " sectors, reshape runs %s\n",
               id->events, id->component_dev_sectors, id->backwards ? "backwards" : "forwards");
        printf("Before:       ");
        print_geometry(&id->before);
        printf("\nAfter:        ");
        print_geometry(&id->after);
        printf("\nSlot size:    %" PRIu64 " bytes each\n", h->max_section_bytes);
}

static void print_human(const char *path, const struct backup_report *rep)
{
        const struct backup_header *h = &rep->header;
        const struct backup_verify *v = &rep->verdict;
        char uuid[BACKUP_UUID_STRING_MAX], when[64];

        printf("Backup file:  %s\n", path);
        printf("Size:         %" PRIu64 " bytes\n", rep->file_bytes);
        if (rep->header_read) {
                format_local(h->mtime, when, sizeof(when));
                if (rep->header_verdict.reason != BACKUP_VERIFY_OK &&
                    rep->header_verdict.reason != BACKUP_VERIFY_UNVERIFIED)
                        printf("Header:       DAMAGED (%s); fields shown as read\n",
                               backup_verify_strerror(rep->header_verdict.reason));
                printf("Format:       md_backup_data-%u (%s)\n", h->format,
                       h->format == 2 ? "two sections" : "one section");
                printf("Array UUID:   %s\n", backup_uuid_format(h->identity.uuid, uuid));
                printf("Updated:      %s (mtime %" PRIu64 ")\n", when, h->mtime);
                printf("Data start:   sector %" PRIu64, h->devstart_sectors);
                if (h->format == 2)
                        printf(", slot 1 at +%" PRIu64 " sectors", h->devstart2_sectors);
                printf("\n");
                for (unsigned i = 0; i < h->format; i++)
                        print_section_human(rep, i);
                print_extension_human(h);
        }
        switch (backup_verdict_classify(v->reason)) {
        case BACKUP_CLASS_VERIFIED:
                printf("Verdict:      VERIFIED: %s\n", backup_verify_strerror(v->reason));
                break;
        case BACKUP_CLASS_UNVERIFIABLE:
                printf("Verdict:      VALID HEADER, DATA NOT VERIFIABLE: written by mdadm, which\n"
                       "              stores no checksums; mdadm --assemble --backup-file can use it,\n"
                       "              but nothing can tell whether its data is intact\n");
                break;
        case BACKUP_CLASS_DAMAGED:
                if (v->section >= 0)
                        printf("Verdict:      DAMAGED: section %d: %s\n", v->section,
                               backup_verify_strerror(v->reason));
                else
                        printf("Verdict:      DAMAGED: %s\n", backup_verify_strerror(v->reason));
                break;
        }
}

static void print_json_geometry(const char *name, const struct backup_geometry *g)
{
        printf("\"%s\":{\"level\":%" PRId32 ",\"raid_disks\":%" PRIu32 ",\"chunk_bytes\":%" PRIu32
               ",\"layout\":%" PRIu32 "}", name, g->level, g->raid_disks, g->chunk_bytes, g->layout);
}

static void print_json_section(const struct backup_report *rep, unsigned slot)
{
        const struct backup_section *s = &rep->header.sections[slot];
        enum section_status st = section_status(rep, slot);

        printf("{\"slot\":%u,\"array_start_sectors\":%" PRIu64 ",\"length_sectors\":%" PRIu64
               ",\"length_bytes\":%" PRIu64 ",", slot, s->array_start_sectors, s->length_sectors,
               s->length_sectors * 512);
        if (rep->header.has_extension && st != SECTION_EMPTY)
                printf("\"crc_stored\":\"0x%08" PRIx32 "\",", s->data_crc32c);
        else
                printf("\"crc_stored\":null,");
        if (rep->sections[slot].crc_computed)
                printf("\"crc_computed\":\"0x%08" PRIx32 "\",", rep->sections[slot].crc32c);
        else
                printf("\"crc_computed\":null,");
        printf("\"status\":\"%s\"}", section_status_id[st]);
}

static void print_json_extension(const struct backup_header *h)
{
        const struct backup_identity *id = &h->identity;

        if (!h->has_extension) {
                printf("null");
                return;
        }
        printf("{\"version\":%u,\"generation\":%" PRIu64 ",\"header_crc32c\":\"0x%08" PRIx32 "\","
               "\"events\":%" PRIu64 ",\"component_dev_sectors\":%" PRIu64 ",\"direction\":\"%s\","
               "\"max_section_bytes\":%" PRIu64 ",", BACKUP_EXT_VERSION, h->generation,
               h->header_crc32c, id->events, id->component_dev_sectors,
               id->backwards ? "backwards" : "forwards", h->max_section_bytes);
        print_json_geometry("before", &id->before);
        putchar(',');
        print_json_geometry("after", &id->after);
        putchar('}');
}

static void print_json_header(const struct backup_report *rep)
{
        const struct backup_header *h = &rep->header;
        char uuid[BACKUP_UUID_STRING_MAX], when[64];

        if (!rep->header_read) {
                printf("null");
                return;
        }
        format_utc(h->mtime, when, sizeof(when));
        printf("{\"magic\":\"md_backup_data-%u\",\"format\":%u,\"uuid\":\"%s\",\"mtime\":%" PRIu64
               ",\"mtime_utc\":\"%s\",\"devstart_sectors\":%" PRIu64 ",\"devstart2_sectors\":%" PRIu64
               ",\"sections\":[", h->format, h->format, backup_uuid_format(h->identity.uuid, uuid),
               h->mtime, when, h->devstart_sectors, h->devstart2_sectors);
        for (unsigned i = 0; i < h->format; i++) {
                if (i > 0)
                        putchar(',');
                print_json_section(rep, i);
        }
        printf("],\"extension\":");
        print_json_extension(h);
        putchar('}');
}

static void print_json(const char *path, const struct backup_report *rep)
{
        const struct backup_verify *v = &rep->verdict;

        printf("{\"file\":");
        json_print_string(stdout, path);
        printf(",\"size_bytes\":%" PRIu64 ",\"header\":", rep->file_bytes);
        print_json_header(rep);
        printf(",\"verdict\":{\"ok\":%s,\"class\":\"%s\",\"reason\":\"%s\",\"message\":",
               v->reason == BACKUP_VERIFY_OK ? "true" : "false",
               backup_verdict_class_id(backup_verdict_classify(v->reason)),
               backup_verify_reason_id(v->reason));
        json_print_string(stdout, backup_verify_strerror(v->reason));
        if (v->section >= 0)
                printf(",\"section\":%d}}\n", v->section);
        else
                printf(",\"section\":null}}\n");
}

/* Documented in `reshaped help inspect` and reshaped(8). */
enum {
        INSPECT_EXIT_VERIFIED = EXIT_OK,
        INSPECT_EXIT_DAMAGED = 1,
        INSPECT_EXIT_USAGE = EXIT_USAGE,
        INSPECT_EXIT_UNVERIFIABLE = 3,
        INSPECT_EXIT_IO_ERROR = 4,
};

static int inspect_exit_code(enum backup_verify_reason reason)
{
        switch (backup_verdict_classify(reason)) {
        case BACKUP_CLASS_VERIFIED:
                return INSPECT_EXIT_VERIFIED;
        case BACKUP_CLASS_UNVERIFIABLE:
                return INSPECT_EXIT_UNVERIFIABLE;
        case BACKUP_CLASS_DAMAGED:
                break;
        }
        return INSPECT_EXIT_DAMAGED;
}

static int run_inspect(int argc, char **argv)
{
        enum { OPT_JSON = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, OPT_JSON },
                {}
        };
        struct backup_report rep;
        bool json = false;
        const char *path;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
                switch (opt) {
                case 'h':
                        cmd_print_help(&cmd_inspect);
                        return INSPECT_EXIT_VERIFIED;
                case OPT_JSON:
                        json = true;
                        break;
                default:
                        fprintf(stderr, "See 'reshaped help inspect'.\n");
                        return INSPECT_EXIT_USAGE;
                }
        }
        if (argc - optind != 1) {
                log_error("inspect takes exactly one backup file; see 'reshaped help inspect'.");
                return INSPECT_EXIT_USAGE;
        }
        path = argv[optind];

        r = backup_file_verify(path, NULL, 0, &rep);
        if (r < 0)
                return INSPECT_EXIT_IO_ERROR;

        if (json)
                print_json(path, &rep);
        else
                print_human(path, &rep);
        if (fflush(stdout) != 0) {
                log_error_errno(errno, "Failed to write the report: %m");
                return INSPECT_EXIT_IO_ERROR;
        }
        return inspect_exit_code(rep.verdict.reason);
}

const struct cmd cmd_inspect = {
        .name = "inspect",
        .summary = "show and verify a backup file",
        .help =
        "Usage: reshaped inspect [--json] FILE\n"
        "\n"
        "Show the header of a reshape backup file (ours or mdadm's) and verify it:\n"
        "the mdadm header fields and checksums, each section's array range and\n"
        "data, and reshaped's integrity extension (generation, md event count,\n"
        "geometry before and after the reshape, CRC32C of the header and of each\n"
        "section's data). Nothing is written.\n"
        "\n"
        "A file written by mdadm has no integrity extension: when its header is\n"
        "valid, its data cannot be verified, and that is its verdict.\n"
        "\n"
        "The UUID is shown in the byte order of the header, as mdadm prints a 1.x\n"
        "array's UUID; for 0.90 metadata mdadm shows each 4-byte group reversed.\n"
        "\n"
        "Options:\n"
        "  --json       print one JSON object instead of text\n"
        "  -h, --help   show this help\n"
        "\n"
        "Exit status:\n"
        "  0  verified: the header and every section's data match their checksums\n"
        "  1  damaged: something does not verify (the verdict says what)\n"
        "  2  bad command line\n"
        "  3  valid header, data not verifiable: written by mdadm, no checksums\n"
        "  4  the file could not be read (or the report not written)\n",
        .run = run_inspect,
};
