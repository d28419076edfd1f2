// SPDX-License-Identifier: GPL-2.0-or-later
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <isa-l/crc.h>

#include "reshaped/backup/backup.h"

/* mdadm's struct mdp_backup_super, byte offsets (all little-endian). */
enum {
        OFF_MAGIC       = 0,
        OFF_UUID        = 16,
        OFF_MTIME       = 32,
        OFF_DEVSTART    = 40,
        OFF_ARRAYSTART  = 48,
        OFF_LENGTH      = 56,
        OFF_SB_CSUM     = 64,
        OFF_DEVSTART2   = 72,
        OFF_ARRAYSTART2 = 80,
        OFF_LENGTH2     = 88,
        OFF_SB_CSUM2    = 96,
        OFF_PAD         = 100,
};

/* Our extension, inside mdadm's padding. */
enum {
        OFF_EXT_MAGIC       = 100,
        OFF_EXT_VERSION     = 108,
        OFF_EXT_HEADER_CRC  = 112,
        OFF_EXT_DATA_CRC0   = 116,
        OFF_EXT_DATA_CRC1   = 120,
        OFF_EXT_FLAGS       = 124,
        OFF_EXT_GENERATION  = 128,
        OFF_EXT_EVENTS      = 136,
        OFF_EXT_COMPONENT   = 144,
        OFF_EXT_MAX_SECTION = 152,
        OFF_EXT_BEFORE      = 160,
        OFF_EXT_AFTER       = 176,
};

#define EXT_FLAG_BACKWARDS 0x1u

static const char magic_prefix[] = "md_backup_data-";  /* + '1' or '2' */
static const char ext_magic[8] = { 'r', 'e', 's', 'h', 'a', 'p', 'e', 'd' };

static void put_le32(uint8_t *p, uint32_t v)
{
        for (unsigned i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
        for (unsigned i = 0; i < 8; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
        uint32_t v = 0;

        for (unsigned i = 0; i < 4; i++)
                v |= (uint32_t) p[i] << (8 * i);
        return v;
}

static uint64_t get_le64(const uint8_t *p)
{
        uint64_t v = 0;

        for (unsigned i = 0; i < 8; i++)
                v |= (uint64_t) p[i] << (8 * i);
        return v;
}

uint32_t backup_crc32c(uint32_t crc, const void *data, size_t bytes)
{
        /* ISA-L's crc32_iscsi() does neither the initial nor the final
         * inversion of standard CRC32C, and takes an int length. */
        const uint8_t *p = data;

        crc = ~crc;
        while (bytes > 0) {
                size_t n = bytes < (size_t) INT_MAX ? bytes : (size_t) 1 << 30;

                crc = crc32_iscsi((unsigned char *) p, (int) n, crc);
                p += n;
                bytes -= n;
        }
        return ~crc;
}

uint32_t backup_mdadm_csum(const uint8_t *buf, size_t len)
{
        /* mdadm sums `char` (signed on x86, where its files come from) into
         * an int; unsigned arithmetic gives the same bits without the
         * signed overflow. */
        uint32_t csum = 0;

        for (size_t i = 0; i < len; i++)
                csum = (csum << 3) + (uint32_t) (int32_t) (signed char) buf[0];
        return csum;
}

void backup_header_init(struct backup_header *h, const struct backup_identity *id,
                        uint64_t max_section_bytes, uint64_t mtime)
{
        *h = (struct backup_header) {
                .format = 2,
                .mtime = mtime,
                .devstart_sectors = BACKUP_DEVSTART_SECTORS,
                .devstart2_sectors = max_section_bytes / 512,
                .has_extension = true,
                .identity = *id,
                .generation = 1,
                .max_section_bytes = max_section_bytes,
        };
}

static void put_geometry(uint8_t *p, const struct backup_geometry *g)
{
        put_le32(p, (uint32_t) g->level);
        put_le32(p + 4, g->raid_disks);
        put_le32(p + 8, g->chunk_bytes);
        put_le32(p + 12, g->layout);
}

static void get_geometry(const uint8_t *p, struct backup_geometry *g)
{
        g->level = (int32_t) get_le32(p);
        g->raid_disks = get_le32(p + 4);
        g->chunk_bytes = get_le32(p + 8);
        g->layout = get_le32(p + 12);
}

/* See backup_header_encode(): what mdadm must read as an empty slot's start. */
static uint64_t stored_array_start(const struct backup_header *h, unsigned slot)
{
        const struct backup_section *s = &h->sections[slot], *other = &h->sections[!slot];

        if (s->length_sectors > 0)
                return s->array_start_sectors;
        if (h->format == 2 && other->length_sectors > 0)
                return other->array_start_sectors;
        return h->resume_array_sectors;
}

static uint32_t header_crc(const uint8_t buf[BACKUP_HEADER_BYTES])
{
        static const uint8_t zero[4];
        uint32_t crc;

        crc = backup_crc32c(0, buf, OFF_EXT_HEADER_CRC);
        crc = backup_crc32c(crc, zero, sizeof(zero));
        return backup_crc32c(crc, buf + OFF_EXT_HEADER_CRC + 4,
                             BACKUP_HEADER_BYTES - OFF_EXT_HEADER_CRC - 4);
}

void backup_header_encode(struct backup_header *h, uint8_t out[BACKUP_HEADER_BYTES])
{
        memset(out, 0, BACKUP_HEADER_BYTES);
        memcpy(out + OFF_MAGIC, magic_prefix, strlen(magic_prefix));
        out[OFF_MAGIC + 15] = h->format == 1 ? '1' : '2';
        memcpy(out + OFF_UUID, h->identity.uuid, 16);
        put_le64(out + OFF_MTIME, h->mtime);
        put_le64(out + OFF_DEVSTART, h->devstart_sectors);
        put_le64(out + OFF_ARRAYSTART, stored_array_start(h, 0));
        put_le64(out + OFF_LENGTH, h->sections[0].length_sectors);
        /* mdadm's writer fills devstart2 with either magic; arraystart2 and
         * length2 mean something only with "-2". */
        put_le64(out + OFF_DEVSTART2, h->devstart2_sectors);
        if (h->format == 2) {
                put_le64(out + OFF_ARRAYSTART2, stored_array_start(h, 1));
                put_le64(out + OFF_LENGTH2, h->sections[1].length_sectors);
        }

        /* The mdadm checksums go in first: the header CRC covers them. */
        h->mdadm_csum = backup_mdadm_csum(out, OFF_SB_CSUM);
        put_le32(out + OFF_SB_CSUM, h->mdadm_csum);
        h->mdadm_csum2 = 0;
        if (h->format == 2) {
                h->mdadm_csum2 = backup_mdadm_csum(out, OFF_SB_CSUM2);
                put_le32(out + OFF_SB_CSUM2, h->mdadm_csum2);
        }

        if (!h->has_extension) {
                h->header_crc32c = 0;
                return;
        }
        memcpy(out + OFF_EXT_MAGIC, ext_magic, sizeof(ext_magic));
        put_le32(out + OFF_EXT_VERSION, BACKUP_EXT_VERSION);
        put_le32(out + OFF_EXT_DATA_CRC0, h->sections[0].length_sectors ? h->sections[0].data_crc32c : 0);
        put_le32(out + OFF_EXT_DATA_CRC1, h->sections[1].length_sectors ? h->sections[1].data_crc32c : 0);
        put_le32(out + OFF_EXT_FLAGS, h->identity.backwards ? EXT_FLAG_BACKWARDS : 0);
        put_le64(out + OFF_EXT_GENERATION, h->generation);
        put_le64(out + OFF_EXT_EVENTS, h->identity.events);
        put_le64(out + OFF_EXT_COMPONENT, h->identity.component_dev_sectors);
        put_le64(out + OFF_EXT_MAX_SECTION, h->max_section_bytes);
        put_geometry(out + OFF_EXT_BEFORE, &h->identity.before);
        put_geometry(out + OFF_EXT_AFTER, &h->identity.after);
        h->header_crc32c = header_crc(out);
        put_le32(out + OFF_EXT_HEADER_CRC, h->header_crc32c);
}

static struct backup_verify verdict(enum backup_verify_reason reason, int section)
{
        return (struct backup_verify) { .reason = reason, .section = section };
}

static bool all_zero(const uint8_t *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

/* Fills the extension's fields before checking its CRC, so that a
 * damaged header can still be shown; callers trust them only on OK. */
static struct backup_verify decode_extension(const uint8_t in[BACKUP_HEADER_BYTES],
                                             struct backup_header *h)
{
        uint32_t flags;

        if (memcmp(in + OFF_EXT_MAGIC, ext_magic, sizeof(ext_magic)) != 0) {
                /* mdadm zeroes the whole block before filling it in, so
                 * anything else here is damage, possibly to our magic. */
                if (!all_zero(in + OFF_PAD, BACKUP_HEADER_BYTES - OFF_PAD))
                        return verdict(BACKUP_VERIFY_BAD_PADDING, -1);
                return verdict(BACKUP_VERIFY_UNVERIFIED, -1);
        }
        /* Version first: a newer version may checksum differently. */
        if (get_le32(in + OFF_EXT_VERSION) != BACKUP_EXT_VERSION)
                return verdict(BACKUP_VERIFY_UNKNOWN_VERSION, -1);

        h->has_extension = true;
        h->header_crc32c = get_le32(in + OFF_EXT_HEADER_CRC);
        h->sections[0].data_crc32c = get_le32(in + OFF_EXT_DATA_CRC0);
        if (h->format == 2)
                h->sections[1].data_crc32c = get_le32(in + OFF_EXT_DATA_CRC1);
        flags = get_le32(in + OFF_EXT_FLAGS);
        h->identity.backwards = flags & EXT_FLAG_BACKWARDS;
        h->generation = get_le64(in + OFF_EXT_GENERATION);
        h->identity.events = get_le64(in + OFF_EXT_EVENTS);
        h->identity.component_dev_sectors = get_le64(in + OFF_EXT_COMPONENT);
        h->max_section_bytes = get_le64(in + OFF_EXT_MAX_SECTION);
        get_geometry(in + OFF_EXT_BEFORE, &h->identity.before);
        get_geometry(in + OFF_EXT_AFTER, &h->identity.after);

        if (h->header_crc32c != header_crc(in))
                return verdict(BACKUP_VERIFY_BAD_HEADER_CRC, -1);
        return verdict(BACKUP_VERIFY_OK, -1);
}

struct backup_verify backup_header_decode(const uint8_t in[BACKUP_HEADER_BYTES],
                                          struct backup_header *h)
{
        *h = (struct backup_header) {};

        if (memcmp(in + OFF_MAGIC, magic_prefix, strlen(magic_prefix)) != 0 ||
            (in[OFF_MAGIC + 15] != '1' && in[OFF_MAGIC + 15] != '2'))
                return verdict(BACKUP_VERIFY_BAD_MAGIC, -1);
        h->format = in[OFF_MAGIC + 15] - '0';

        /* Compared as mdadm's Grow_restart() compares them. */
        h->mdadm_csum = get_le32(in + OFF_SB_CSUM);
        if (h->mdadm_csum != backup_mdadm_csum(in, OFF_SB_CSUM))
                return verdict(BACKUP_VERIFY_BAD_MDADM_CSUM, -1);
        if (h->format == 2) {
                h->mdadm_csum2 = get_le32(in + OFF_SB_CSUM2);
                if (h->mdadm_csum2 != backup_mdadm_csum(in, OFF_SB_CSUM2))
                        return verdict(BACKUP_VERIFY_BAD_MDADM_CSUM2, -1);
        }

        memcpy(h->identity.uuid, in + OFF_UUID, 16);
        h->mtime = get_le64(in + OFF_MTIME);
        h->devstart_sectors = get_le64(in + OFF_DEVSTART);
        h->devstart2_sectors = get_le64(in + OFF_DEVSTART2);
        h->sections[0].array_start_sectors = get_le64(in + OFF_ARRAYSTART);
        h->sections[0].length_sectors = get_le64(in + OFF_LENGTH);
        if (h->format == 2) {
                h->sections[1].array_start_sectors = get_le64(in + OFF_ARRAYSTART2);
                h->sections[1].length_sectors = get_le64(in + OFF_LENGTH2);
        }
        if (!h->sections[0].length_sectors && !h->sections[1].length_sectors)
                h->resume_array_sectors = h->sections[0].array_start_sectors;
        return decode_extension(in, h);
}

uint64_t backup_section_offset_bytes(const struct backup_header *h, unsigned slot)
{
        uint64_t sectors = h->devstart_sectors + (slot ? h->devstart2_sectors : 0);

        return sectors * 512;
}

uint64_t backup_file_size_bytes(uint64_t max_section_bytes)
{
        return BACKUP_HEADER_AREA_BYTES + BACKUP_SLOTS * max_section_bytes;
}

static bool ranges_overlap(uint64_t a_start, uint64_t a_len, uint64_t b_start, uint64_t b_len)
{
        return a_start < b_start + b_len && b_start < a_start + a_len;
}

static bool geometry_equal(const struct backup_geometry *a, const struct backup_geometry *b)
{
        return a->level == b->level && a->raid_disks == b->raid_disks &&
               a->chunk_bytes == b->chunk_bytes && a->layout == b->layout;
}

/* Bounds every field that goes into offset arithmetic, so that sums of
 * them below cannot wrap. */
#define MAX_SANE_SECTORS (UINT64_MAX / 512 / 4)

static struct backup_verify check_layout(const struct backup_header *h)
{
        if (h->devstart_sectors != BACKUP_DEVSTART_SECTORS ||
            h->devstart2_sectors > MAX_SANE_SECTORS)
                return verdict(BACKUP_VERIFY_BAD_LAYOUT, -1);
        if (h->has_extension &&
            (h->max_section_bytes == 0 || h->max_section_bytes % BACKUP_ALIGN_BYTES != 0 ||
             h->max_section_bytes / 512 != h->devstart2_sectors))
                return verdict(BACKUP_VERIFY_BAD_LAYOUT, -1);

        for (unsigned i = 0; i < h->format; i++) {
                const struct backup_section *s = &h->sections[i];

                if (s->length_sectors == 0)
                        continue;
                if (s->length_sectors % BACKUP_ALIGN_SECTORS != 0)
                        return verdict(BACKUP_VERIFY_LENGTH_UNALIGNED, (int) i);
                if (s->array_start_sectors > MAX_SANE_SECTORS)
                        return verdict(BACKUP_VERIFY_BAD_LAYOUT, (int) i);
                if (s->length_sectors > MAX_SANE_SECTORS ||
                    (h->has_extension && s->length_sectors > h->max_section_bytes / 512))
                        return verdict(BACKUP_VERIFY_SECTION_TOO_LARGE, (int) i);
        }

        if (h->format == 2 && h->sections[0].length_sectors > 0 && h->sections[1].length_sectors > 0) {
                const struct backup_section *a = &h->sections[0], *b = &h->sections[1];

                if (ranges_overlap(0, a->length_sectors, h->devstart2_sectors, b->length_sectors) ||
                    ranges_overlap(a->array_start_sectors, a->length_sectors,
                                   b->array_start_sectors, b->length_sectors))
                        return verdict(BACKUP_VERIFY_SECTIONS_OVERLAP, -1);
        }
        return verdict(BACKUP_VERIFY_OK, -1);
}

static struct backup_verify check_size(const struct backup_header *h, uint64_t file_bytes)
{
        for (unsigned i = 0; i < h->format; i++) {
                const struct backup_section *s = &h->sections[i];

                if (s->length_sectors > 0 &&
                    backup_section_offset_bytes(h, i) + s->length_sectors * 512 > file_bytes)
                        return verdict(BACKUP_VERIFY_SECTION_BEYOND_EOF, (int) i);
        }
        if (h->has_extension && file_bytes < backup_file_size_bytes(h->max_section_bytes))
                return verdict(BACKUP_VERIFY_TRUNCATED, -1);
        return verdict(BACKUP_VERIFY_OK, -1);
}

static struct backup_verify check_identity(const struct backup_header *h,
                                           const struct backup_identity *expect)
{
        const struct backup_identity *id = &h->identity;

        if (memcmp(id->uuid, expect->uuid, sizeof(id->uuid)) != 0)
                return verdict(BACKUP_VERIFY_WRONG_UUID, -1);
        if (!h->has_extension)
                return verdict(BACKUP_VERIFY_OK, -1);
        if (!geometry_equal(&id->before, &expect->before) ||
            !geometry_equal(&id->after, &expect->after) ||
            id->component_dev_sectors != expect->component_dev_sectors ||
            id->backwards != expect->backwards)
                return verdict(BACKUP_VERIFY_WRONG_GEOMETRY, -1);
        if (id->events > expect->events + BACKUP_EVENTS_MARGIN)
                return verdict(BACKUP_VERIFY_WRONG_EVENTS, -1);
        return verdict(BACKUP_VERIFY_OK, -1);
}

struct backup_verify backup_header_check(const struct backup_header *h, uint64_t file_bytes,
                                         const struct backup_identity *expect,
                                         uint64_t min_generation)
{
        struct backup_verify v;

        v = check_layout(h);
        if (v.reason != BACKUP_VERIFY_OK)
                return v;
        v = check_size(h, file_bytes);
        if (v.reason != BACKUP_VERIFY_OK)
                return v;
        if (expect) {
                v = check_identity(h, expect);
                if (v.reason != BACKUP_VERIFY_OK)
                        return v;
        }
        if (h->has_extension && h->generation < min_generation)
                return verdict(BACKUP_VERIFY_STALE_GENERATION, -1);
        return verdict(BACKUP_VERIFY_OK, -1);
}

bool backup_section_crc_matches(const struct backup_header *h, unsigned slot, uint32_t crc32c)
{
        return h->has_extension && slot < BACKUP_SLOTS && h->sections[slot].data_crc32c == crc32c;
}

static const struct {
        const char *id;
        const char *text;
} reasons[_BACKUP_VERIFY_MAX] = {
        [BACKUP_VERIFY_OK] = { "ok", "header and data verify" },
        [BACKUP_VERIFY_UNVERIFIED] = {
                "unverified",
                "no integrity extension (written by mdadm): data unverified" },
        [BACKUP_VERIFY_TRUNCATED_HEADER] = {
                "truncated-header", "file is shorter than the 512-byte header" },
        [BACKUP_VERIFY_BAD_MAGIC] = {
                "bad-magic", "not a backup file (no md_backup_data-1/-2 magic)" },
        [BACKUP_VERIFY_BAD_MDADM_CSUM] = {
                "bad-mdadm-csum", "mdadm header checksum (sb_csum) does not match" },
        [BACKUP_VERIFY_BAD_MDADM_CSUM2] = {
                "bad-mdadm-csum2", "mdadm header checksum (sb_csum2) does not match" },
        [BACKUP_VERIFY_BAD_PADDING] = {
                "bad-padding",
                "header padding is neither zero nor a reshaped integrity extension (damaged header)" },
        [BACKUP_VERIFY_UNKNOWN_VERSION] = {
                "unknown-version",
                "integrity extension has an unknown version (written by a newer reshaped?)" },
        [BACKUP_VERIFY_BAD_HEADER_CRC] = {
                "bad-header-crc", "header CRC32C does not match (damaged header)" },
        [BACKUP_VERIFY_BAD_LAYOUT] = {
                "bad-layout",
                "section placement fields are implausible (devstart, devstart2, slot size, array start)" },
        [BACKUP_VERIFY_LENGTH_UNALIGNED] = {
                "length-unaligned", "section length is not a multiple of 8 sectors (4 KiB)" },
        [BACKUP_VERIFY_SECTION_TOO_LARGE] = {
                "section-too-large", "section is larger than its preallocated slot" },
        [BACKUP_VERIFY_SECTIONS_OVERLAP] = {
                "sections-overlap", "the two sections overlap in the file or in the array" },
        [BACKUP_VERIFY_SECTION_BEYOND_EOF] = {
                "section-beyond-eof", "section data extends beyond the end of the file" },
        [BACKUP_VERIFY_TRUNCATED] = {
                "truncated", "file is shorter than the size it was preallocated to" },
        [BACKUP_VERIFY_WRONG_UUID] = {
                "wrong-uuid", "backup belongs to a different array (UUID differs)" },
        [BACKUP_VERIFY_WRONG_GEOMETRY] = {
                "wrong-geometry", "backup was taken for a different reshape (geometry differs)" },
        [BACKUP_VERIFY_WRONG_EVENTS] = {
                "wrong-events", "backup is newer than the array's event count (stale members?)" },
        [BACKUP_VERIFY_STALE_GENERATION] = {
                "stale-generation", "header generation is older than expected (stale copy?)" },
        [BACKUP_VERIFY_DATA_CRC] = {
                "data-crc", "section data does not match its CRC32C" },
};

const char *backup_verify_strerror(enum backup_verify_reason reason)
{
        if ((unsigned) reason >= _BACKUP_VERIFY_MAX)
                return "unknown verification result";
        return reasons[reason].text;
}

const char *backup_verify_reason_id(enum backup_verify_reason reason)
{
        if ((unsigned) reason >= _BACKUP_VERIFY_MAX)
                return "unknown";
        return reasons[reason].id;
}

char *backup_uuid_format(const uint8_t uuid[16], char buf[BACKUP_UUID_STRING_MAX])
{
        char *p = buf;

        for (unsigned i = 0; i < 16; i++) {
                if (i > 0 && i % 4 == 0)
                        *p++ = ':';
                p += sprintf(p, "%02x", uuid[i]);
        }
        return buf;
}
