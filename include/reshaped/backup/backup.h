/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The backup file format: mdadm's backup superblock (so that
 * `mdadm --assemble --backup-file` can restore our files and we can read
 * mdadm's), plus an integrity extension of our own in the 412 bytes of
 * padding mdadm ignores: a generation counter, CRC32C of each section's
 * data and of the whole header, and the identity of the array the backup
 * was taken for.
 *
 * Two parts: pure encode/decode/verify of buffers (src/backup/backup.c: no I/O,
 * no clock), and the durable file I/O on top of it: the live file that a
 * reshape writes (src/backup/backup-file.c) and the offline check of a whole
 * file (src/backup/backup-verify.c), which share their reads (src/backup/backup-io.c).
 *
 * File layout (as mdadm reads a backup file): the 512-byte header at
 * offset 0 inside a reserved 4 KiB area; section 0's data at file sector
 * devstart (8); section 1's data at devstart + devstart2. We always write
 * magic "md_backup_data-2" and give each section a slot of
 * max_section_bytes, so devstart2 = max_section_bytes / 512.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BACKUP_HEADER_BYTES       512u
#define BACKUP_HEADER_AREA_BYTES  4096u
#define BACKUP_DEVSTART_SECTORS   8u   /* BACKUP_HEADER_AREA_BYTES / 512 */
#define BACKUP_SLOTS              2u
#define BACKUP_EXT_VERSION        1u
/* md counts events down as well as up: going clean again right after it
 * went dirty it takes back the event it had added (md_update_sb(), for
 * arrays without spares), so a backup taken while the array was dirty may
 * record one event more than the superblocks written after it. */
#define BACKUP_EVENTS_MARGIN      1u
/* Section lengths and slot sizes are whole 4 KiB blocks, so that every
 * section can be written with O_DIRECT at any logical block size. */
#define BACKUP_ALIGN_SECTORS      8u
#define BACKUP_ALIGN_BYTES        4096u

struct backup_geometry {
        int32_t level;
        uint32_t raid_disks;
        uint32_t chunk_bytes;
        uint32_t layout;
};

/* The array a backup belongs to. uuid holds the 16 bytes exactly as mdadm
 * stores them in the header (its uuid_from_super() int[4] in host order). */
struct backup_identity {
        uint8_t uuid[16];
        uint64_t events;                  /* md event count when recorded */
        struct backup_geometry before, after;
        uint64_t component_dev_sectors;
        bool backwards;                   /* reshape runs from the end */
};

struct backup_section {
        uint64_t array_start_sectors;
        uint64_t length_sectors;          /* 0: the slot is empty */
        uint32_t data_crc32c;             /* only with the extension */
};

struct backup_header {
        unsigned format;                  /* 1 or 2: the magic's last digit */
        uint64_t mtime;                   /* seconds since the epoch */
        uint64_t devstart_sectors;        /* file sector of section 0's data */
        uint64_t devstart2_sectors;       /* section 1's data, relative to devstart */
        struct backup_section sections[BACKUP_SLOTS];
        /* The checksums mdadm stores; filled by decode, computed by encode. */
        uint32_t mdadm_csum, mdadm_csum2;

        bool has_extension;
        /* Valid only with the extension, except identity.uuid (always). */
        struct backup_identity identity;
        uint64_t generation;
        uint64_t max_section_bytes;       /* size of each preallocated slot */
        /* Written as both slots' arraystart while both are empty: mdadm's
         * restore of a forwards same-size reshape fails unless some
         * section reaches the reshape position, and sets the position to
         * the end of the furthest one; an empty section exactly at the
         * position restores nothing and moves nothing. */
        uint64_t resume_array_sectors;
        uint32_t header_crc32c;           /* filled by decode, computed by encode */
};

/* Why a backup does not verify. Keep backup_verify_strerror() in step. */
enum backup_verify_reason {
        BACKUP_VERIFY_OK = 0,
        BACKUP_VERIFY_UNVERIFIED,          /* mdadm header, no extension */
        BACKUP_VERIFY_TRUNCATED_HEADER,
        BACKUP_VERIFY_BAD_MAGIC,
        BACKUP_VERIFY_BAD_MDADM_CSUM,
        BACKUP_VERIFY_BAD_MDADM_CSUM2,
        BACKUP_VERIFY_BAD_PADDING,         /* padding neither zero nor our extension */
        BACKUP_VERIFY_UNKNOWN_VERSION,
        BACKUP_VERIFY_BAD_HEADER_CRC,
        BACKUP_VERIFY_BAD_LAYOUT,          /* devstart/devstart2/slot size/start */
        BACKUP_VERIFY_LENGTH_UNALIGNED,    /* section */
        BACKUP_VERIFY_SECTION_TOO_LARGE,   /* section */
        BACKUP_VERIFY_SECTIONS_OVERLAP,
        BACKUP_VERIFY_SECTION_BEYOND_EOF,  /* section */
        BACKUP_VERIFY_TRUNCATED,           /* shorter than preallocated */
        BACKUP_VERIFY_WRONG_UUID,
        BACKUP_VERIFY_WRONG_GEOMETRY,
        BACKUP_VERIFY_WRONG_EVENTS,
        BACKUP_VERIFY_STALE_GENERATION,
        BACKUP_VERIFY_DATA_CRC,            /* section */
        _BACKUP_VERIFY_MAX,
};

struct backup_verify {
        enum backup_verify_reason reason;
        int section;                       /* slot the reason is about, or -1 */
};

const char *backup_verify_strerror(enum backup_verify_reason reason);
/* Stable lower-case identifier for scripts ("data-crc"). */
const char *backup_verify_reason_id(enum backup_verify_reason reason);

/* Standard CRC32C (Castagnoli, as iSCSI/ext4 use: "123456789" ->
 * 0xE3069283). Chain calls by passing the previous result; start with 0. */
uint32_t backup_crc32c(uint32_t crc, const void *data, size_t bytes);

/* mdadm's bsb_csum() over @len bytes, bug included: every step adds the
 * buffer's first byte, so for len >= 11 it is a constant. */
uint32_t backup_mdadm_csum(const uint8_t *buf, size_t len);

/* An empty format-2 header with the extension, generation 1, for a file
 * whose slots hold @max_section_bytes each (a non-zero multiple of
 * BACKUP_ALIGN_BYTES). */
void backup_header_init(struct backup_header *h, const struct backup_identity *id,
                        uint64_t max_section_bytes, uint64_t mtime);

/*
 * Encodes @h into @out and fills h's checksum fields. mdadm reads an empty
 * slot's arraystart too (restore decides "needed" and moves
 * reshape_progress from it), so an empty slot is written with the other
 * slot's start, which makes mdadm act on the live slot alone in both
 * directions; with both empty it is the resume position. The extension is
 * written only when
 * h->has_extension.
 */
void backup_header_encode(struct backup_header *h, uint8_t out[BACKUP_HEADER_BYTES]);

/* Decodes and checks magic, mdadm's checksums and the extension (version,
 * header CRC). Returns BACKUP_VERIFY_OK for a good header with the
 * extension, BACKUP_VERIFY_UNVERIFIED for a good mdadm header without it.
 * @h is filled as far as the header could be read (for display); trust it
 * only on those two results. */
struct backup_verify backup_header_decode(const uint8_t in[BACKUP_HEADER_BYTES],
                                          struct backup_header *h);

/* Byte offset in the file of @slot's data. */
uint64_t backup_section_offset_bytes(const struct backup_header *h, unsigned slot);

/* Size of a file preallocated for slots of @max_section_bytes. */
uint64_t backup_file_size_bytes(uint64_t max_section_bytes);

/*
 * Checks a decoded header against itself and the file it came from: the
 * layout, each section's alignment, size and place, overlaps, the file
 * size (@file_bytes), and optionally the array (@expect: same UUID and
 * geometry, events not newer than expect->events, since md bumps the
 * count on every superblock write after the backup) and a minimum
 * generation (@min_generation, 0: any). Identity and generation need the
 * extension; without it only the UUID is compared.
 */
struct backup_verify backup_header_check(const struct backup_header *h, uint64_t file_bytes,
                                         const struct backup_identity *expect,
                                         uint64_t min_generation);

/* True when @crc32c is the data CRC the header stores for @slot. */
bool backup_section_crc_matches(const struct backup_header *h, unsigned slot, uint32_t crc32c);

/* Formats uuid bytes as mdadm prints a 1.x array's UUID:
 * "xxxxxxxx:xxxxxxxx:xxxxxxxx:xxxxxxxx" (36 bytes with the NUL). */
#define BACKUP_UUID_STRING_MAX 36
char *backup_uuid_format(const uint8_t uuid[16], char buf[BACKUP_UUID_STRING_MAX]);

/*
 * Backup files, durable at every step: every write is followed by
 * fdatasync() and checked; a section's data is durable before the header
 * that describes it is written. A backup_file whose write or sync failed
 * refuses further writes (after a failed fsync the page cache state is
 * unknown): create a new file.
 *
 * Data buffers must be 4 KiB aligned: the file is opened with O_DIRECT
 * where the filesystem allows it (buffered I/O otherwise).
 * Functions return 0 or a negative errno and log what failed.
 */

struct backup_file;

enum {
        BACKUP_CREATE_OVERWRITE = 1 << 0,  /* replace an existing file */
};

/* Creates @path (an existing file is refused unless
 * BACKUP_CREATE_OVERWRITE), preallocates the header area and two slots of
 * @max_section_bytes (a non-zero multiple of 4 KiB), writes an empty
 * header (generation 1) and syncs the file and its directory. -ENOSPC when
 * the filesystem lacks the space; the file is removed on any failure. */
int backup_file_create(const char *path, const struct backup_identity *id,
                       uint64_t max_section_bytes, unsigned flags,
                       struct backup_file **ret);

/* Opens an existing backup file and checks its header and layout
 * (-EBADMSG with the reason logged when they do not verify). Files
 * without the extension (mdadm's), and files on a read-only mount, open
 * for reading only. A writable open takes an exclusive flock(): -EBUSY
 * when another process holds it. */
int backup_file_open(const char *path, struct backup_file **ret);

/* Writes @length_sectors of @data (array content starting at
 * @array_start_sectors) into empty @slot, syncs it, then writes and syncs
 * a header that describes it (generation + 1; the other slot untouched).
 * -EBUSY when the slot still holds a section: release it first. */
int backup_file_store(struct backup_file *bf, unsigned slot, uint64_t array_start_sectors,
                      uint64_t length_sectors, const void *data);

/* The same in two steps, so data can be written as it arrives:
 * backup_file_write_data() puts @bytes (4 KiB aligned buffer, offset and
 * length) at @offset_bytes of empty @slot, unsynced; backup_file_commit()
 * syncs the data, then writes and syncs a header describing @slot with the
 * CRC32C the caller computed over all of it. @release_other: the same
 * header marks the other slot empty (one header write instead of two). */
int backup_file_write_data(struct backup_file *bf, unsigned slot, uint64_t offset_bytes,
                           const void *data, size_t bytes);
int backup_file_commit(struct backup_file *bf, unsigned slot, uint64_t array_start_sectors,
                       uint64_t length_sectors, uint32_t data_crc32c, bool release_other);

/* Marks @slot empty (generation + 1) and syncs the header. Releasing an
 * empty slot writes nothing. */
int backup_file_release(struct backup_file *bf, unsigned slot);

/* Reads @slot's section into @buf (length_sectors * 512 bytes, 4 KiB
 * aligned) and checks it: 0 when its CRC matches, 1 when the file has no
 * extension (data unverified), -EBADMSG when it does not match, -ENODATA
 * for an empty slot. */
int backup_file_read_section(struct backup_file *bf, unsigned slot, void *buf);

/* The header as last written or read. */
const struct backup_header *backup_file_header(const struct backup_file *bf);

/* Sets resume_array_sectors; when both slots are empty it rewrites the
 * header (synced) so that it holds from now on. */
int backup_file_set_resume(struct backup_file *bf, uint64_t array_sectors);

/* Makes the header's generation greater than @after (one synced header
 * write, none when it is already): a new file for an array continues the
 * generations of the one it replaces and of the generation token, so
 * that no copy of an older file can pass for newer. */
int backup_file_continue_generation(struct backup_file *bf, uint64_t after);

/*
 * The rule for the backup of record: every section in it beyond the
 * on-disk checkpoint equals the array, since `reshaped restore` writes
 * exactly those parts back. backup_header_beyond() says whether @h holds
 * any sector beyond @checkpoint_array_sectors (above it forwards, below
 * it backwards): such a file may be the only good copy of what the
 * kernel was rewriting, and only the process that wrote it may replace
 * it. backup_file_supersede() empties both slots and sets the resume
 * position to the checkpoint in one synced header, for when those parts
 * are no longer needed (written back) and before the array takes writes
 * there.
 */
bool backup_header_beyond(const struct backup_header *h, bool backwards,
                          uint64_t checkpoint_array_sectors);
/* Whether a new backup may replace what is at @path, for the array with
 * @uuid whose superblocks hold @checkpoint_array_sectors: 0 when nothing
 * verifiable is there or its sections are all at or behind the
 * checkpoint; -EEXIST for another array's backup; -EBUSY when it holds
 * sections beyond the checkpoint (logged, with what to do). */
int backup_file_may_replace(const char *path, const uint8_t uuid[16], const char *md_devnode,
                            bool backwards, uint64_t checkpoint_array_sectors);
int backup_file_supersede(struct backup_file *bf, uint64_t checkpoint_array_sectors);

/* Renames the open file to @path and syncs the directory, so that it is
 * the file at @path once this returns 0. */
int backup_file_rename(struct backup_file *bf, const char *path);

/* Write @mtime into headers instead of the current time (for tests;
 * 0: the clock again). */
void backup_file_set_mtime(struct backup_file *bf, uint64_t mtime);

/* Closes and frees; returns NULL. */
struct backup_file *backup_file_free(struct backup_file *bf);

struct backup_section_report {
        bool crc_computed;            /* the data lies within the file and was read */
        uint32_t crc32c;              /* computed over the data */
};

struct backup_report {
        uint64_t file_bytes;
        bool header_read;             /* @header holds the fields found (maybe damaged) */
        struct backup_header header;
        struct backup_verify header_verdict;  /* backup_header_decode()'s result */
        struct backup_section_report sections[BACKUP_SLOTS];
        struct backup_verify verdict; /* first problem found, or OK / UNVERIFIED */
};

/* backup-verify.c: checks the whole file at @path: header, layout, size, identity
 * (@expect, NULL: any array), generation (@min_generation, 0: any) and
 * every section's data. Returns 0 when the check ran (the outcome is in
 * out->verdict) or a negative errno when the file could not be read. */
int backup_file_verify(const char *path, const struct backup_identity *expect,
                       uint64_t min_generation, struct backup_report *out);
/* Whether @path exists and its header (checksummed) names array @uuid:
 * such a file may be removed once that array's reshape has ended. */
bool backup_file_is_of_array(const char *path, const uint8_t uuid[16]);
