// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "reshaped/md/md-parse.h"

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* Length of the value: the kernel ends every attribute with one newline. */
static size_t value_len(const char *s)
{
        size_t n = strlen(s);

        if (n > 0 && s[n - 1] == '\n')
                n--;
        return n;
}

static bool word_is(const char *s, size_t n, const char *word)
{
        return n == strlen(word) && memcmp(s, word, n) == 0;
}

static int parse_u64_n(const char *s, size_t n, uint64_t *ret)
{
        uint64_t v = 0;

        if (n == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                unsigned d;

                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                d = (unsigned) (s[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -EINVAL;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

/* Values the kernel prints with %d: nothing above INT_MAX is real. */
static int parse_int_range_n(const char *s, size_t n, uint32_t *ret)
{
        uint64_t v;
        int r;

        r = parse_u64_n(s, n, &v);
        if (r < 0)
                return r;
        if (v > INT_MAX)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

static int parse_word(const char *s, const char *const *words, size_t n_words)
{
        size_t n = value_len(s);

        for (size_t i = 0; i < n_words; i++)
                if (words[i] && word_is(s, n, words[i]))
                        return (int) i;
        return -EINVAL;
}

int md_parse_u64(const char *s, uint64_t *ret)
{
        return parse_u64_n(s, value_len(s), ret);
}

int md_parse_block_stat_sectors(const char *s, uint64_t *ret_sectors)
{
        uint64_t v[7];

        for (unsigned i = 0; i < 7; i++) {
                size_t n;
                int r;

                s += strspn(s, " ");
                n = strcspn(s, " \n");
                r = parse_u64_n(s, n, &v[i]);
                if (r < 0)
                        return r;
                s += n;
        }
        if (v[2] > UINT64_MAX - v[6])
                return -ERANGE;
        *ret_sectors = v[2] + v[6];
        return 0;
}

int md_parse_unsigned(const char *s, unsigned *ret)
{
        uint64_t v;
        int r;

        r = md_parse_u64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT_MAX)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

/* A number, or word for the kernel's MaxSector. A number equal to
 * UINT64_MAX cannot be told from the word, and the kernel never prints
 * one. */
static int parse_u64_or_word(const char *s, const char *word, uint64_t *ret)
{
        size_t n = value_len(s);
        uint64_t v;
        int r;

        if (word_is(s, n, word)) {
                *ret = UINT64_MAX;
                return 0;
        }
        r = parse_u64_n(s, n, &v);
        if (r < 0)
                return r;
        if (v == UINT64_MAX)
                return -EINVAL;
        *ret = v;
        return 0;
}

int md_parse_reshape_position(const char *s, uint64_t *ret_array_sectors)
{
        return parse_u64_or_word(s, "none", ret_array_sectors);
}

int md_parse_sync_max(const char *s, uint64_t *ret_dev_sectors)
{
        return parse_u64_or_word(s, "max", ret_dev_sectors);
}

int md_parse_sync_completed(const char *s, struct md_sync_completed *ret)
{
        static const char sep[] = " / ";
        size_t n = value_len(s);
        const char *mid;
        uint64_t done, total;
        int r;

        if (word_is(s, n, "none")) {
                *ret = (struct md_sync_completed) { .state = MD_SYNC_COMPLETED_NONE };
                return 0;
        }
        if (word_is(s, n, "delayed")) {
                *ret = (struct md_sync_completed) { .state = MD_SYNC_COMPLETED_DELAYED };
                return 0;
        }

        mid = memmem(s, n, sep, strlen(sep));
        if (!mid)
                return -EINVAL;
        r = parse_u64_n(s, (size_t) (mid - s), &done);
        if (r < 0)
                return r;
        mid += strlen(sep);
        r = parse_u64_n(mid, n - (size_t) (mid - s), &total);
        if (r < 0)
                return r;

        *ret = (struct md_sync_completed) {
                .state = MD_SYNC_COMPLETED_RUNNING,
                .completed_dev_sectors = done,
                .total_dev_sectors = total,
        };
        return 0;
}

static const char *const sync_action_table[_MD_SYNC_ACTION_MAX] = {
        [MD_SYNC_ACTION_IDLE] = "idle",
        [MD_SYNC_ACTION_RESYNC] = "resync",
        [MD_SYNC_ACTION_RECOVER] = "recover",
        [MD_SYNC_ACTION_CHECK] = "check",
        [MD_SYNC_ACTION_REPAIR] = "repair",
        [MD_SYNC_ACTION_RESHAPE] = "reshape",
        [MD_SYNC_ACTION_FROZEN] = "frozen",
};

const char *md_sync_action_to_string(enum md_sync_action a)
{
        if ((unsigned) a >= ELEMENTSOF(sync_action_table))
                return NULL;
        return sync_action_table[a];
}

int md_parse_sync_action(const char *s, enum md_sync_action *ret)
{
        int i = parse_word(s, sync_action_table, ELEMENTSOF(sync_action_table));

        if (i < 0)
                return i;
        *ret = (enum md_sync_action) i;
        return 0;
}

static const char *const array_state_table[_MD_ARRAY_STATE_MAX] = {
        [MD_ARRAY_CLEAR] = "clear",
        [MD_ARRAY_INACTIVE] = "inactive",
        [MD_ARRAY_SUSPENDED] = "suspended",
        [MD_ARRAY_READONLY] = "readonly",
        [MD_ARRAY_READ_AUTO] = "read-auto",
        [MD_ARRAY_CLEAN] = "clean",
        [MD_ARRAY_ACTIVE] = "active",
        [MD_ARRAY_WRITE_PENDING] = "write-pending",
        [MD_ARRAY_ACTIVE_IDLE] = "active-idle",
        [MD_ARRAY_BROKEN] = "broken",
};

const char *md_array_state_to_string(enum md_array_state st)
{
        if ((unsigned) st >= ELEMENTSOF(array_state_table))
                return NULL;
        return array_state_table[st];
}

int md_parse_array_state(const char *s, enum md_array_state *ret)
{
        int i = parse_word(s, array_state_table, ELEMENTSOF(array_state_table));

        if (i < 0)
                return i;
        *ret = (enum md_array_state) i;
        return 0;
}

static const char *const reshape_direction_table[_MD_RESHAPE_DIRECTION_MAX] = {
        [MD_RESHAPE_DIRECTION_UNKNOWN] = "unknown",
        [MD_RESHAPE_DIRECTION_FORWARDS] = "forwards",
        [MD_RESHAPE_DIRECTION_BACKWARDS] = "backwards",
};

const char *md_reshape_direction_to_string(enum md_reshape_direction d)
{
        if ((unsigned) d >= ELEMENTSOF(reshape_direction_table))
                return NULL;
        return reshape_direction_table[d];
}

int md_parse_reshape_direction(const char *s, enum md_reshape_direction *ret)
{
        size_t n = value_len(s);

        if (word_is(s, n, "forwards"))
                *ret = MD_RESHAPE_DIRECTION_FORWARDS;
        else if (word_is(s, n, "backwards"))
                *ret = MD_RESHAPE_DIRECTION_BACKWARDS;
        else
                return -EINVAL;
        return 0;
}

static const struct {
        const char *name;
        int level;
} level_table[] = {
        { "linear", MD_LEVEL_LINEAR },
        { "raid0", 0 },
        { "raid1", 1 },
        { "raid4", 4 },
        { "raid5", 5 },
        { "raid6", 6 },
        { "raid10", 10 },
        { "multipath", MD_LEVEL_MULTIPATH },
        { "faulty", MD_LEVEL_FAULTY },
        { "container", MD_LEVEL_CONTAINER },
};

const char *md_level_to_string(int level)
{
        for (size_t i = 0; i < ELEMENTSOF(level_table); i++)
                if (level_table[i].level == level)
                        return level_table[i].name;
        return NULL;
}

const char *md_layout_name(int level, uint32_t layout, char *buf, size_t size)
{
        static const char *const names[] = {
                "left-asymmetric", "right-asymmetric", "left-symmetric",
                "right-symmetric", "parity-first", "parity-last",
        };

        if ((level == 4 || level == 5 || level == 6) && layout < 6)
                snprintf(buf, size, "%s", names[layout]);
        else if (level == 6 && layout >= 16 && layout < 21)
                snprintf(buf, size, "%s-6", names[layout - 16]);
        else
                snprintf(buf, size, "%" PRIu32, layout);
        return buf;
}

int md_parse_level(const char *s, int *ret)
{
        size_t n = value_len(s);
        bool negative;
        uint64_t v;
        int r;

        /* level_show prints nothing at all for an array without a level. */
        if (n == 0) {
                *ret = MD_LEVEL_NONE;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(level_table); i++)
                if (word_is(s, n, level_table[i].name)) {
                        *ret = level_table[i].level;
                        return 0;
                }

        /* Without a personality and a level name, level_show prints %d. */
        negative = s[0] == '-';
        r = parse_u64_n(s + negative, n - negative, &v);
        if (r < 0)
                return r;
        if (v > (negative ? (uint64_t) INT_MAX + 1 : (uint64_t) INT_MAX))
                return -EINVAL;
        *ret = negative ? (int) -(int64_t) v : (int) v;
        return 0;
}

int md_parse_new_old(const char *s, uint32_t *ret_new, uint32_t *ret_old)
{
        static const char open[] = " (";
        size_t n = value_len(s);
        const char *paren;
        uint32_t new_value, old_value;
        int r;

        if (n == 0)
                return -ENODATA;

        paren = memmem(s, n, open, strlen(open));
        if (!paren) {
                r = parse_int_range_n(s, n, &new_value);
                if (r < 0)
                        return r;
                *ret_new = *ret_old = new_value;
                return 0;
        }

        r = parse_int_range_n(s, (size_t) (paren - s), &new_value);
        if (r < 0)
                return r;
        paren += strlen(open);
        if (s[n - 1] != ')' || s + n - 1 < paren)
                return -EINVAL;
        r = parse_int_range_n(paren, (size_t) (s + n - 1 - paren), &old_value);
        if (r < 0)
                return r;
        *ret_new = new_value;
        *ret_old = old_value;
        return 0;
}

int md_parse_metadata_version(const char *s, struct md_metadata_version *ret)
{
        static const char external[] = "external:";
        size_t n = value_len(s);
        const char *dot;
        uint64_t major, minor;
        int r;

        if (word_is(s, n, "none")) {
                *ret = (struct md_metadata_version) { .kind = MD_METADATA_NONE };
                return 0;
        }

        if (n > strlen(external) && memcmp(s, external, strlen(external)) == 0) {
                size_t len = n - strlen(external);

                if (len >= sizeof(ret->external) || memchr(s + strlen(external), '\n', len))
                        return -EINVAL;
                *ret = (struct md_metadata_version) { .kind = MD_METADATA_EXTERNAL };
                memcpy(ret->external, s + strlen(external), len);
                return 0;
        }

        dot = memchr(s, '.', n);
        if (!dot)
                return -EINVAL;
        r = parse_u64_n(s, (size_t) (dot - s), &major);
        if (r < 0)
                return r;
        r = parse_u64_n(dot + 1, n - (size_t) (dot + 1 - s), &minor);
        if (r < 0)
                return r;
        if (major > INT_MAX || minor > INT_MAX)
                return -EINVAL;

        *ret = (struct md_metadata_version) {
                .kind = MD_METADATA_NATIVE,
                .major = (unsigned) major,
                .minor = (unsigned) minor,
        };
        return 0;
}

int md_parse_sync_speed(const char *s, struct md_sync_speed *ret)
{
        static const char local[] = " (local)", system[] = " (system)";
        size_t n = value_len(s);
        size_t suffix;
        bool is_local;
        uint64_t v;
        int r;

        if (n > strlen(local) && memcmp(s + n - strlen(local), local, strlen(local)) == 0) {
                suffix = strlen(local);
                is_local = true;
        } else if (n > strlen(system) &&
                   memcmp(s + n - strlen(system), system, strlen(system)) == 0) {
                suffix = strlen(system);
                is_local = false;
        } else
                return -EINVAL;

        r = parse_u64_n(s, n - suffix, &v);
        if (r < 0)
                return r;
        if (v > INT_MAX)
                return -EINVAL;
        *ret = (struct md_sync_speed) { .kib_per_sec = (unsigned) v, .local = is_local };
        return 0;
}

static const struct {
        const char *word;
        unsigned flag;
} member_state_table[] = {
        { "faulty", MD_MEMBER_FAULTY },
        { "in_sync", MD_MEMBER_IN_SYNC },
        { "journal", MD_MEMBER_JOURNAL },
        { "write_mostly", MD_MEMBER_WRITE_MOSTLY },
        { "blocked", MD_MEMBER_BLOCKED },
        { "spare", MD_MEMBER_SPARE },
        { "write_error", MD_MEMBER_WRITE_ERROR },
        { "want_replacement", MD_MEMBER_WANT_REPLACEMENT },
        { "replacement", MD_MEMBER_REPLACEMENT },
        { "external_bbl", MD_MEMBER_EXTERNAL_BBL },
        { "failfast", MD_MEMBER_FAILFAST },
};

static int member_state_word(const char *w, size_t n, unsigned *flags)
{
        if (n == 0)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(member_state_table); i++)
                if (word_is(w, n, member_state_table[i].word)) {
                        *flags |= member_state_table[i].flag;
                        return 0;
                }
        /* A flag a later kernel added: keep going, but say it was there. */
        for (size_t i = 0; i < n; i++)
                if (!((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= '0' && w[i] <= '9') || w[i] == '_'))
                        return -EINVAL;
        *flags |= MD_MEMBER_OTHER;
        return 0;
}

int md_parse_member_state(const char *s, unsigned *ret_flags)
{
        size_t n = value_len(s);
        unsigned flags = 0;
        size_t start = 0;

        if (n == 0) {
                *ret_flags = 0;
                return 0;
        }
        for (size_t i = 0; i <= n; i++) {
                int r;

                if (i < n && s[i] != ',')
                        continue;
                r = member_state_word(s + start, i - start, &flags);
                if (r < 0)
                        return r;
                start = i + 1;
        }
        *ret_flags = flags;
        return 0;
}

int md_parse_slot(const char *s, int *ret_slot)
{
        size_t n = value_len(s);
        uint32_t v;
        int r;

        if (word_is(s, n, "none")) {
                *ret_slot = MD_SLOT_NONE;
                return 0;
        }
        if (word_is(s, n, "journal")) {
                *ret_slot = MD_SLOT_JOURNAL;
                return 0;
        }
        r = parse_int_range_n(s, n, &v);
        if (r < 0)
                return r;
        *ret_slot = (int) v;
        return 0;
}

int md_parse_devnum(const char *s, dev_t *ret)
{
        size_t n = value_len(s);
        const char *colon = memchr(s, ':', n);
        uint64_t major, minor;
        int r;

        if (!colon)
                return -EINVAL;
        r = parse_u64_n(s, (size_t) (colon - s), &major);
        if (r < 0)
                return r;
        r = parse_u64_n(colon + 1, n - (size_t) (colon + 1 - s), &minor);
        if (r < 0)
                return r;
        if (major > UINT32_MAX || minor > UINT32_MAX)
                return -EINVAL;
        *ret = makedev((unsigned) major, (unsigned) minor);
        return 0;
}

struct interval {
        uint64_t lo, hi;  /* [lo, hi); empty when lo >= hi */
};

static bool interval_empty(struct interval i)
{
        return i.lo >= i.hi;
}

static uint64_t interval_size(struct interval i)
{
        return interval_empty(i) ? 0 : i.hi - i.lo;
}

/* Whether every sector of w lies in a or b. */
static bool interval_within_union(struct interval w, struct interval a, struct interval b)
{
        struct interval sorted[2];
        uint64_t pos = w.lo;

        if (interval_empty(w))
                return true;
        if (a.lo <= b.lo) {
                sorted[0] = a;
                sorted[1] = b;
        } else {
                sorted[0] = b;
                sorted[1] = a;
        }
        for (size_t i = 0; i < 2; i++)
                if (!interval_empty(sorted[i]) && sorted[i].lo <= pos && sorted[i].hi > pos)
                        pos = sorted[i].hi;
        return pos >= w.hi;
}

size_t md_suspend_plan(uint64_t cur_lo, uint64_t cur_hi, uint64_t want_lo, uint64_t want_hi,
                       struct md_suspend_store steps[2])
{
        struct md_suspend_store lo = { MD_SUSPEND_LO, want_lo }, hi = { MD_SUSPEND_HI, want_hi };
        struct interval cur = { cur_lo, cur_hi }, want = { want_lo, want_hi };
        struct interval hi_first = { cur_lo, want_hi }, lo_first = { want_lo, cur_hi };
        bool hi_first_ok, lo_first_ok;

        if (cur_lo == want_lo && cur_hi == want_hi)
                return 0;
        if (cur_lo == want_lo) {
                steps[0] = hi;
                return 1;
        }
        if (cur_hi == want_hi) {
                steps[0] = lo;
                return 1;
        }

        /* Either in-between window keeps cur ∩ want: [cur_lo, want_hi) and
         * [want_lo, cur_hi) both contain [max(lo), min(hi)). What tells
         * them apart is whether one reaches outside both windows (one of
         * the two never does). */
        hi_first_ok = interval_within_union(hi_first, cur, want);
        lo_first_ok = interval_within_union(lo_first, cur, want);
        if (hi_first_ok && (!lo_first_ok || interval_size(hi_first) >= interval_size(lo_first))) {
                steps[0] = hi;
                steps[1] = lo;
        } else {
                steps[0] = lo;
                steps[1] = hi;
        }
        return 2;
}
