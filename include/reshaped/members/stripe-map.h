/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Where md keeps each chunk of a raid4/5/6 array on its members, as
 * raid5.c's raid5_compute_sector() lays it out, and which coefficient a
 * member's chunk has in the raid6 Q syndrome (set_syndrome_sources()).
 * The supervisor reads backup windows from the members with this map
 * instead of through the array, whose page cache a mounted filesystem
 * shares (see member-read.h). Pure arithmetic: no I/O.
 *
 * A stripe is one chunk on every member: stripe s lies at dev sectors
 * [s * chunk, (s + 1) * chunk) of every member's data area and holds
 * array sectors [s * chunk * data_disks, (s + 1) * chunk * data_disks).
 */

#include <stdbool.h>
#include <stdint.h>

/* More members than any array we are likely to meet; more are refused. */
#define STRIPE_MAX_DISKS 64

struct stripe_layout {
        int level;                 /* 4, 5 or 6 */
        unsigned raid_disks;
        uint64_t chunk_sectors;
        uint32_t algorithm;        /* md's layout number */
};

/* The members of one stripe. */
struct stripe_row {
        unsigned data_disks;
        int p_disk;                /* slot holding P */
        int q_disk;                /* slot holding Q; -1 below raid6 */
        int data_disk[STRIPE_MAX_DISKS];  /* data chunk k (array order) -> slot */
        /* Q = sum of g^syndrome[slot] * D(slot) over the data slots. */
        unsigned syndrome[STRIPE_MAX_DISKS];
};

/* 0 if md could lay out @l and we know how; -EINVAL with *why otherwise. */
int stripe_layout_check(const struct stripe_layout *l, const char **why);

unsigned stripe_layout_data_disks(const struct stripe_layout *l);

/* Array sectors one stripe holds. */
uint64_t stripe_layout_stripe_sectors(const struct stripe_layout *l);

/* Fills @row for stripe @stripe of a layout stripe_layout_check() took. */
void stripe_layout_row(const struct stripe_layout *l, uint64_t stripe, struct stripe_row *row);
