// SPDX-License-Identifier: GPL-2.0-or-later
/* The pure backup format: mdadm compatibility, our extension, verification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "reshaped/backup/backup.h"

#define SLOT_BYTES (64 * 1024u)
#define SLOT_SECTORS (SLOT_BYTES / 512)

static const struct backup_identity test_id = {
        .uuid = { 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
                  0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef },
        .events = 4242,
        .before = { .level = 5, .raid_disks = 4, .chunk_bytes = 65536, .layout = 2 },
        .after = { .level = 6, .raid_disks = 5, .chunk_bytes = 131072, .layout = 18 },
        .component_dev_sectors = 524288,
        .backwards = true,
};

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
        for (unsigned i = 0; i < bytes; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned bytes)
{
        uint64_t v = 0;

        for (unsigned i = 0; i < bytes; i++)
                v |= (uint64_t) p[i] << (8 * i);
        return v;
}

/* A header with both slots in use, as the supervisor writes it. */
static struct backup_header full_header(void)
{
        struct backup_header h;

        backup_header_init(&h, &test_id, SLOT_BYTES, 1700000000);
        h.generation = 77;
        h.sections[0] = (struct backup_section) { 4096, 64, 0x11223344 };
        h.sections[1] = (struct backup_section) { 4096 + 64, 32, 0x55667788 };
        return h;
}

static void test_crc32c_standard_vector(void **state)
{
        const char *v = "123456789";

        assert_int_equal(backup_crc32c(0, v, 9), 0xE3069283u);
        /* Chaining gives the CRC of the concatenation. */
        assert_int_equal(backup_crc32c(backup_crc32c(0, v, 4), v + 4, 5), 0xE3069283u);
        assert_int_equal(backup_crc32c(0, v, 0), 0);
}

static void test_mdadm_csum_bug(void **state)
{
        uint8_t buf[BACKUP_HEADER_BYTES];
        struct backup_header h = full_header();

        backup_header_encode(&h, buf);
        /* The lengths mdadm checksums (offsetof sb_csum, sb_csum2). */
        assert_int_equal(backup_mdadm_csum(buf, 64), 0x24924915u);
        assert_int_equal(backup_mdadm_csum(buf, 96), 0x24924915u);
        /* Only the first byte counts, whatever the others hold. */
        memset(buf + 1, 0xa5, 95);
        assert_int_equal(backup_mdadm_csum(buf, 64), 0x24924915u);
        /* Short lengths: 'm' * (8^(n-1) + ... + 1). */
        assert_int_equal(backup_mdadm_csum(buf, 1), 'm');
        assert_int_equal(backup_mdadm_csum(buf, 3), 'm' * 73u);
        /* mdadm sums a signed char. */
        buf[0] = 0xff;
        assert_int_equal(backup_mdadm_csum(buf, 1), 0xffffffffu);
        assert_int_equal(backup_mdadm_csum(buf, 2), (uint32_t) -9);
}

/* An mdadm "-2" header written byte by byte at the offsets of
 * struct mdp_backup_super. */
static void make_mdadm_header(uint8_t buf[BACKUP_HEADER_BYTES])
{
        memset(buf, 0, BACKUP_HEADER_BYTES);
        memcpy(buf, "md_backup_data-2", 16);
        memcpy(buf + 16, test_id.uuid, 16);
        put_le(buf + 32, 1699999999, 8);
        put_le(buf + 40, 8, 8);
        put_le(buf + 48, 6144, 8);
        put_le(buf + 56, 1536, 8);
        put_le(buf + 64, 0x24924915, 4);
        put_le(buf + 72, 1536, 8);
        put_le(buf + 80, 7680, 8);
        put_le(buf + 88, 1536, 8);
        put_le(buf + 96, 0x24924915, 4);
}

static void test_decode_mdadm_header_exactly(void **state)
{
        uint8_t buf[BACKUP_HEADER_BYTES], again[BACKUP_HEADER_BYTES];
        struct backup_header h;
        struct backup_verify v;

        make_mdadm_header(buf);
        v = backup_header_decode(buf, &h);
        assert_int_equal(v.reason, BACKUP_VERIFY_UNVERIFIED);
        assert_int_equal(h.format, 2);
        assert_memory_equal(h.identity.uuid, test_id.uuid, 16);
        assert_int_equal(h.mtime, 1699999999);
        assert_int_equal(h.devstart_sectors, 8);
        assert_int_equal(h.devstart2_sectors, 1536);
        assert_int_equal(h.sections[0].array_start_sectors, 6144);
        assert_int_equal(h.sections[0].length_sectors, 1536);
        assert_int_equal(h.sections[1].array_start_sectors, 7680);
        assert_int_equal(h.sections[1].length_sectors, 1536);
        assert_int_equal(h.mdadm_csum, 0x24924915u);
        assert_int_equal(h.mdadm_csum2, 0x24924915u);
        assert_false(h.has_extension);

        /* Our encoder writes the same bytes mdadm does. */
        backup_header_encode(&h, again);
        assert_memory_equal(again, buf, BACKUP_HEADER_BYTES);

        /* Structure is fine; without the extension only that is known. */
        v = backup_header_check(&h, 4096 + 2 * 1536 * 512, &test_id, 0);
        assert_int_equal(v.reason, BACKUP_VERIFY_OK);
}

static void test_decode_mdadm_format1(void **state)
{
        uint8_t buf[BACKUP_HEADER_BYTES];
        struct backup_header h;

        make_mdadm_header(buf);
        buf[15] = '1';
        /* mdadm ignores the second section's fields with "-1" (and does not
         * check sb_csum2, which it never wrote). */
        put_le(buf + 96, 0, 4);
        assert_int_equal(backup_header_decode(buf, &h).reason, BACKUP_VERIFY_UNVERIFIED);
        assert_int_equal(h.format, 1);
        assert_int_equal(h.sections[0].length_sectors, 1536);
        assert_int_equal(h.sections[1].length_sectors, 0);
        assert_int_equal(h.sections[1].array_start_sectors, 0);
}

static void test_mdadm_checksum_mismatch(void **state)
{
        uint8_t buf[BACKUP_HEADER_BYTES];
        struct backup_header h;

        make_mdadm_header(buf);
        put_le(buf + 64, 0x24924916, 4);
        assert_int_equal(backup_header_decode(buf, &h).reason, BACKUP_VERIFY_BAD_MDADM_CSUM);
        make_mdadm_header(buf);
        put_le(buf + 96, 0, 4);
        assert_int_equal(backup_header_decode(buf, &h).reason, BACKUP_VERIFY_BAD_MDADM_CSUM2);
        make_mdadm_header(buf);
        memcpy(buf, "md_backup_data-3", 16);
        assert_int_equal(backup_header_decode(buf, &h).reason, BACKUP_VERIFY_BAD_MAGIC);
        /* mdadm's writer zeroes the padding: anything there is damage. */
        make_mdadm_header(buf);
        buf[300] = 1;
        assert_int_equal(backup_header_decode(buf, &h).reason, BACKUP_VERIFY_BAD_PADDING);
}

static void test_roundtrip_with_extension(void **state)
{
        uint8_t buf[BACKUP_HEADER_BYTES], again[BACKUP_HEADER_BYTES];
        struct backup_header h = full_header(), d;

        backup_header_encode(&h, buf);
        assert_int_equal(backup_header_decode(buf, &d).reason, BACKUP_VERIFY_OK);
        assert_true(d.has_extension);
        assert_int_equal(d.format, 2);
        assert_int_equal(d.mtime, 1700000000);
        assert_int_equal(d.generation, 77);
        assert_int_equal(d.max_section_bytes, SLOT_BYTES);
        assert_int_equal(d.devstart_sectors, 8);
        assert_int_equal(d.devstart2_sectors, SLOT_SECTORS);
        assert_memory_equal(&d.sections, &h.sections, sizeof(h.sections));
        assert_memory_equal(d.identity.uuid, test_id.uuid, 16);
        assert_int_equal(d.identity.events, test_id.events);
        assert_memory_equal(&d.identity.before, &test_id.before, sizeof(test_id.before));
        assert_memory_equal(&d.identity.after, &test_id.after, sizeof(test_id.after));
        assert_int_equal(d.identity.component_dev_sectors, test_id.component_dev_sectors);
        assert_true(d.identity.backwards);
        assert_int_equal(d.header_crc32c, h.header_crc32c);
        assert_int_equal(d.mdadm_csum, 0x24924915u);

        backup_header_encode(&d, again);
        assert_memory_equal(again, buf, BACKUP_HEADER_BYTES);

        /* The extension's fields at their documented offsets. */
        assert_memory_equal(buf + 100, "reshaped", 8);
        assert_int_equal(get_le(buf + 108, 4), BACKUP_EXT_VERSION);
        assert_int_equal(get_le(buf + 116, 4), 0x11223344);
        assert_int_equal(get_le(buf + 120, 4), 0x55667788);
        assert_int_equal(get_le(buf + 128, 8), 77);
        assert_int_equal(get_le(buf + 136, 8), 4242);
        assert_int_equal(get_le(buf + 152, 8), SLOT_BYTES);
        /* Header CRC: over all 512 bytes with its own field zeroed. */
        memcpy(again, buf, sizeof(again));
        put_le(again + 112, 0, 4);
        assert_int_equal(get_le(buf + 112, 4), backup_crc32c(0, again, sizeof(again)));
}

/* mdadm's restore reads an empty slot's arraystart: it must not pull
 * reshape_progress anywhere the live slot would not. */
static void test_empty_slot_mirrors_live_slot(void **state)
{
        uint8_t buf[BACKUP_HEADER_BYTES];
        struct backup_header h = full_header();

        h.sections[1] = (struct backup_section) { 999, 0, 0 };
        backup_header_encode(&h, buf);
        assert_int_equal(get_le(buf + 80, 8), 4096);
        assert_int_equal(get_le(buf + 88, 8), 0);
        assert_int_equal(get_le(buf + 120, 4), 0);

        h = full_header();
        h.sections[0].length_sectors = 0;
        backup_header_encode(&h, buf);
        assert_int_equal(get_le(buf + 48, 8), 4096 + 64);
        assert_int_equal(get_le(buf + 56, 8), 0);

        h.sections[1].length_sectors = 0;
        backup_header_encode(&h, buf);
        assert_int_equal(get_le(buf + 48, 8), 0);
        assert_int_equal(get_le(buf + 80, 8), 0);
}

static enum backup_verify_reason verify_buf(const uint8_t *buf)
{
        struct backup_header h;
        struct backup_verify v;

        v = backup_header_decode(buf, &h);
        if (v.reason != BACKUP_VERIFY_OK)
                return v.reason;
        return backup_header_check(&h, backup_file_size_bytes(SLOT_BYTES), &test_id, 77).reason;
}

static enum backup_verify_reason expected_flip_reason(unsigned byte)
{
        if (byte < 16)
                return BACKUP_VERIFY_BAD_MAGIC;
        if (byte >= 64 && byte < 68)
                return BACKUP_VERIFY_BAD_MDADM_CSUM;
        if (byte >= 96 && byte < 100)
                return BACKUP_VERIFY_BAD_MDADM_CSUM2;
        if (byte >= 100 && byte < 108)
                return BACKUP_VERIFY_BAD_PADDING;
        if (byte >= 108 && byte < 112)
                return BACKUP_VERIFY_UNKNOWN_VERSION;
        return BACKUP_VERIFY_BAD_HEADER_CRC;
}

static void test_every_header_bit_flip_detected(void **state)
{
        uint8_t buf[BACKUP_HEADER_BYTES];
        struct backup_header h = full_header();

        backup_header_encode(&h, buf);
        assert_int_equal(verify_buf(buf), BACKUP_VERIFY_OK);
        for (unsigned bit = 0; bit < BACKUP_HEADER_BYTES * 8; bit++) {
                buf[bit / 8] ^= (uint8_t) (1u << (bit % 8));
                if (verify_buf(buf) != expected_flip_reason(bit / 8))
                        fail_msg("flip of bit %u (byte %u): got %s", bit, bit / 8,
                                 backup_verify_strerror(verify_buf(buf)));
                buf[bit / 8] ^= (uint8_t) (1u << (bit % 8));
        }
        assert_int_equal(verify_buf(buf), BACKUP_VERIFY_OK);
}

static void test_every_data_bit_flip_detected(void **state)
{
        static uint8_t data[8 * 512];
        struct backup_header h = full_header();
        uint32_t crc;

        for (size_t i = 0; i < sizeof(data); i++)
                data[i] = (uint8_t) (i * 131 + 7);
        h.sections[0].length_sectors = 8;
        h.sections[0].data_crc32c = backup_crc32c(0, data, sizeof(data));
        assert_true(backup_section_crc_matches(&h, 0, backup_crc32c(0, data, sizeof(data))));
        for (unsigned bit = 0; bit < sizeof(data) * 8; bit++) {
                data[bit / 8] ^= (uint8_t) (1u << (bit % 8));
                crc = backup_crc32c(0, data, sizeof(data));
                if (backup_section_crc_matches(&h, 0, crc))
                        fail_msg("flip of data bit %u not detected", bit);
                data[bit / 8] ^= (uint8_t) (1u << (bit % 8));
        }
        /* No CRC stored, nothing matches: mdadm files are never "verified". */
        h.has_extension = false;
        assert_false(backup_section_crc_matches(&h, 0, backup_crc32c(0, data, sizeof(data))));
}

static void test_unknown_version(void **state)
{
        uint8_t buf[BACKUP_HEADER_BYTES];
        struct backup_header h = full_header();

        backup_header_encode(&h, buf);
        put_le(buf + 108, 2, 4);
        assert_int_equal(backup_header_decode(buf, &h).reason, BACKUP_VERIFY_UNKNOWN_VERSION);
}

static struct backup_verify check(const struct backup_header *h, uint64_t file_bytes)
{
        return backup_header_check(h, file_bytes, NULL, 0);
}

static void test_check_layout(void **state)
{
        uint64_t size = backup_file_size_bytes(SLOT_BYTES);
        struct backup_header h;
        struct backup_verify v;

        h = full_header();
        assert_int_equal(check(&h, size).reason, BACKUP_VERIFY_OK);

        h.devstart_sectors = 16;
        assert_int_equal(check(&h, size).reason, BACKUP_VERIFY_BAD_LAYOUT);
        h = full_header();
        h.devstart2_sectors = SLOT_SECTORS + 8;
        assert_int_equal(check(&h, size).reason, BACKUP_VERIFY_BAD_LAYOUT);
        h = full_header();
        h.max_section_bytes = 0;
        h.devstart2_sectors = 0;
        assert_int_equal(check(&h, size).reason, BACKUP_VERIFY_BAD_LAYOUT);

        h = full_header();
        h.sections[1].length_sectors = 12;
        v = check(&h, size);
        assert_int_equal(v.reason, BACKUP_VERIFY_LENGTH_UNALIGNED);
        assert_int_equal(v.section, 1);

        h = full_header();
        h.sections[0].length_sectors = SLOT_SECTORS + 8;
        v = check(&h, size);
        assert_int_equal(v.reason, BACKUP_VERIFY_SECTION_TOO_LARGE);
        assert_int_equal(v.section, 0);
        h.sections[0].length_sectors = SLOT_SECTORS;
        assert_int_equal(check(&h, size).reason, BACKUP_VERIFY_SECTIONS_OVERLAP);  /* array */
        h.sections[0].array_start_sectors = 0;
        assert_int_equal(check(&h, size).reason, BACKUP_VERIFY_OK);

        h = full_header();
        h.sections[0].array_start_sectors = UINT64_MAX - 4;
        assert_int_equal(check(&h, size).reason, BACKUP_VERIFY_BAD_LAYOUT);
}

static void test_check_mdadm_overlap_and_size(void **state)
{
        uint8_t buf[BACKUP_HEADER_BYTES];
        struct backup_header h;
        struct backup_verify v;

        make_mdadm_header(buf);
        assert_int_equal(backup_header_decode(buf, &h).reason, BACKUP_VERIFY_UNVERIFIED);
        /* Second section starting inside the first one in the file. */
        h.devstart2_sectors = 1024;
        assert_int_equal(check(&h, UINT32_MAX).reason, BACKUP_VERIFY_SECTIONS_OVERLAP);
        h.devstart2_sectors = 1536;

        v = check(&h, 4096 + 2 * 1536 * 512 - 512);
        assert_int_equal(v.reason, BACKUP_VERIFY_SECTION_BEYOND_EOF);
        assert_int_equal(v.section, 1);
        v = check(&h, 4096 + 1536 * 512 - 512);
        assert_int_equal(v.reason, BACKUP_VERIFY_SECTION_BEYOND_EOF);
        assert_int_equal(v.section, 0);
}

static void test_check_truncated(void **state)
{
        struct backup_header h = full_header();

        h.sections[0].length_sectors = h.sections[1].length_sectors = 0;
        /* Empty slots lie beyond EOF harmlessly, but the file lost the
         * space it was preallocated with. */
        assert_int_equal(check(&h, backup_file_size_bytes(SLOT_BYTES)).reason, BACKUP_VERIFY_OK);
        assert_int_equal(check(&h, backup_file_size_bytes(SLOT_BYTES) - 512).reason,
                         BACKUP_VERIFY_TRUNCATED);
        assert_int_equal(check(&h, 512).reason, BACKUP_VERIFY_TRUNCATED);
}

static void test_check_identity_and_generation(void **state)
{
        uint64_t size = backup_file_size_bytes(SLOT_BYTES);
        struct backup_header h = full_header();
        struct backup_identity other;

        assert_int_equal(backup_header_check(&h, size, &test_id, 77).reason, BACKUP_VERIFY_OK);
        assert_int_equal(backup_header_check(&h, size, &test_id, 78).reason,
                         BACKUP_VERIFY_STALE_GENERATION);

        other = test_id;
        other.uuid[15] ^= 1;
        assert_int_equal(backup_header_check(&h, size, &other, 0).reason, BACKUP_VERIFY_WRONG_UUID);
        other = test_id;
        other.after.chunk_bytes = 65536;
        assert_int_equal(backup_header_check(&h, size, &other, 0).reason, BACKUP_VERIFY_WRONG_GEOMETRY);
        other = test_id;
        other.backwards = false;
        assert_int_equal(backup_header_check(&h, size, &other, 0).reason, BACKUP_VERIFY_WRONG_GEOMETRY);
        other = test_id;
        other.component_dev_sectors++;
        assert_int_equal(backup_header_check(&h, size, &other, 0).reason, BACKUP_VERIFY_WRONG_GEOMETRY);
        /* The array's count moves on after the backup; a backup from its
         * future cannot be its own. */
        other = test_id;
        other.events = test_id.events + 100;
        assert_int_equal(backup_header_check(&h, size, &other, 0).reason, BACKUP_VERIFY_OK);
        /* ... but md takes an event back when it goes clean again. */
        other.events = test_id.events - 1;
        assert_int_equal(backup_header_check(&h, size, &other, 0).reason, BACKUP_VERIFY_OK);
        other.events = test_id.events - 2;
        assert_int_equal(backup_header_check(&h, size, &other, 0).reason, BACKUP_VERIFY_WRONG_EVENTS);
}

static void test_reason_texts(void **state)
{
        for (int i = 0; i < _BACKUP_VERIFY_MAX; i++) {
                assert_non_null(backup_verify_strerror(i));
                assert_non_null(backup_verify_reason_id(i));
                for (int j = 0; j < i; j++) {
                        assert_string_not_equal(backup_verify_strerror(i), backup_verify_strerror(j));
                        assert_string_not_equal(backup_verify_reason_id(i), backup_verify_reason_id(j));
                }
        }
        assert_string_equal(backup_verify_strerror(BACKUP_VERIFY_UNVERIFIED),
                            "no integrity extension (written by mdadm): data unverified");
        assert_string_equal(backup_verify_reason_id(BACKUP_VERIFY_DATA_CRC), "data-crc");
        assert_string_equal(backup_verify_strerror(_BACKUP_VERIFY_MAX), "unknown verification result");
}

static void test_uuid_format(void **state)
{
        char buf[BACKUP_UUID_STRING_MAX];

        assert_string_equal(backup_uuid_format(test_id.uuid, buf),
                            "10325476:98badcfe:01234567:89abcdef");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_crc32c_standard_vector),
                cmocka_unit_test(test_mdadm_csum_bug),
                cmocka_unit_test(test_decode_mdadm_header_exactly),
                cmocka_unit_test(test_decode_mdadm_format1),
                cmocka_unit_test(test_mdadm_checksum_mismatch),
                cmocka_unit_test(test_roundtrip_with_extension),
                cmocka_unit_test(test_empty_slot_mirrors_live_slot),
                cmocka_unit_test(test_every_header_bit_flip_detected),
                cmocka_unit_test(test_every_data_bit_flip_detected),
                cmocka_unit_test(test_unknown_version),
                cmocka_unit_test(test_check_layout),
                cmocka_unit_test(test_check_mdadm_overlap_and_size),
                cmocka_unit_test(test_check_truncated),
                cmocka_unit_test(test_check_identity_and_generation),
                cmocka_unit_test(test_reason_texts),
                cmocka_unit_test(test_uuid_format),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
