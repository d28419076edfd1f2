// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `reshaped status`: its judgement (src/report/status.c) on observed states, and
 * the command on a fake sysfs tree, with a recorded backup file and a
 * stand-in supervisor process, its --json output parsed. Also the exit
 * codes of `reshaped inspect` for its three verdicts.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake-sysfs.h"
#include "reshaped/backup/backup.h"
#include "reshaped/util/log.h"
#include "reshaped/supervise/record.h"
#include "reshaped/report/status.h"

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a small JSON reader, strict enough to reject what is not JSON ---- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
        enum jtype t;
        bool b;
        double num;
        char *str;
        size_t n;
        char **keys;          /* J_OBJ */
        struct jv *items;     /* J_ARR, J_OBJ */
};

static const char *jp;

static void jws(void)
{
        while (*jp == ' ' || *jp == '\n' || *jp == '\t' || *jp == '\r')
                jp++;
}

static char *jstring(void)
{
        size_t cap = 16, n = 0;
        char *s = malloc(cap);

        assert_non_null(s);
        if (*jp != '"')
                fail_msg("JSON: string expected at \"%.20s\"", jp);
        jp++;
        while (*jp != '"') {
                char c = *jp++;

                if ((unsigned char) c < 0x20)
                        fail_msg("JSON: raw control character in a string");
                if (c == '\\') {
                        c = *jp++;
                        switch (c) {
                        case '"': case '\\': case '/': break;
                        case 'n': c = '\n'; break;
                        case 't': c = '\t'; break;
                        case 'r': c = '\r'; break;
                        case 'b': c = '\b'; break;
                        case 'f': c = '\f'; break;
                        case 'u':
                                for (int i = 0; i < 4; i++)
                                        if (!isxdigit((unsigned char) *jp++))
                                                fail_msg("JSON: bad \\u escape");
                                c = '?';
                                break;
                        default:
                                fail_msg("JSON: bad escape \\%c", c);
                        }
                }
                if (n + 2 > cap) {
                        cap *= 2;
                        s = realloc(s, cap);
                        assert_non_null(s);
                }
                s[n++] = c;
        }
        jp++;
        s[n] = '\0';
        return s;
}

static void jvalue(struct jv *v);

static void jpush(struct jv *v, char *key)
{
        v->items = realloc(v->items, (v->n + 1) * sizeof(*v->items));
        assert_non_null(v->items);
        if (v->t == J_OBJ) {
                v->keys = realloc(v->keys, (v->n + 1) * sizeof(*v->keys));
                assert_non_null(v->keys);
                v->keys[v->n] = key;
        }
        jvalue(&v->items[v->n++]);
}

static void jvalue(struct jv *v)
{
        char *end;

        *v = (struct jv) {};
        jws();
        if (*jp == '{' || *jp == '[') {
                char close = *jp == '{' ? '}' : ']';

                v->t = *jp == '{' ? J_OBJ : J_ARR;
                jp++;
                jws();
                if (*jp == close) {
                        jp++;
                        return;
                }
                for (;;) {
                        char *key = NULL;

                        jws();
                        if (v->t == J_OBJ) {
                                key = jstring();
                                jws();
                                if (*jp++ != ':')
                                        fail_msg("JSON: ':' expected after \"%s\"", key);
                        }
                        jpush(v, key);
                        jws();
                        if (*jp == ',') {
                                jp++;
                                continue;
                        }
                        if (*jp++ != close)
                                fail_msg("JSON: ',' or '%c' expected", close);
                        return;
                }
        }
        if (*jp == '"') {
                v->t = J_STR;
                v->str = jstring();
        } else if (strncmp(jp, "null", 4) == 0) {
                jp += 4;
        } else if (strncmp(jp, "true", 4) == 0 || strncmp(jp, "false", 5) == 0) {
                v->t = J_BOOL;
                v->b = *jp == 't';
                jp += v->b ? 4 : 5;
        } else if (*jp == '-' || isdigit((unsigned char) *jp)) {
                v->t = J_NUM;
                v->num = strtod(jp, &end);
                jp = end;
        } else
                fail_msg("JSON: value expected at \"%.20s\"", jp);
}

static struct jv *json_parse(const char *text)
{
        struct jv *v = malloc(sizeof(*v));

        assert_non_null(v);
        jp = text;
        jvalue(v);
        jws();
        if (*jp)
                fail_msg("JSON: trailing text \"%.20s\"", jp);
        return v;
}

static void jfree(struct jv *v)
{
        for (size_t i = 0; i < v->n; i++) {
                jfree(&v->items[i]);
                if (v->keys)
                        free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
        free(v->str);
}

static void json_free(struct jv *v)
{
        jfree(v);
        free(v);
}

/* "0.backup.verdict": keys and array indexes; NULL when absent. */
static const struct jv *jget(const struct jv *v, const char *path)
{
        char seg[64];

        while (v && *path) {
                size_t n = strcspn(path, ".");
                const struct jv *next = NULL;

                assert_true(n < sizeof(seg));
                memcpy(seg, path, n);
                seg[n] = '\0';
                path += n + (path[n] == '.');
                if (v->t == J_ARR) {
                        size_t i = strtoul(seg, NULL, 10);

                        next = i < v->n ? &v->items[i] : NULL;
                } else if (v->t == J_OBJ) {
                        for (size_t i = 0; i < v->n && !next; i++)
                                if (strcmp(v->keys[i], seg) == 0)
                                        next = &v->items[i];
                }
                v = next;
        }
        return v;
}

static const char *jstr(const struct jv *root, const char *path)
{
        const struct jv *v = jget(root, path);

        if (!v || v->t != J_STR)
                fail_msg("JSON: %s is not a string", path);
        return v->str;
}

static double jnum(const struct jv *root, const char *path)
{
        const struct jv *v = jget(root, path);

        if (!v || v->t != J_NUM)
                fail_msg("JSON: %s is not a number", path);
        return v->num;
}

static bool jnull(const struct jv *root, const char *path)
{
        const struct jv *v = jget(root, path);

        if (!v)
                fail_msg("JSON: %s is missing", path);
        return v->t == J_NULL;
}

/* Every field the schema in reshaped(8) promises, on every array object. */
static const char *const schema_fields[] = {
        "device", "name", "state", "protected", "reason", "fix", "paused", "uuid", "level", "change",
        "before", "after", "direction", "sync_action", "percent", "done_bytes", "total_bytes",
        "rate_bytes_per_sec", "eta_seconds", "completed_progress_sectors", "end_progress_sectors",
        "sync_max_progress_sectors", "limit_percent", "reshape_position_array_sectors",
        "checkpoint_array_sectors", "checkpoint_percent", "protected_through_array_sectors",
        "protected_percent", "backup", "supervisor", "mdadm_monitor_pid",
};

static void assert_schema(const struct jv *obj)
{
        assert_int_equal(obj->t, J_OBJ);
        assert_int_equal(obj->n, ELEMENTSOF(schema_fields));
        for (size_t i = 0; i < ELEMENTSOF(schema_fields); i++)
                if (!jget(obj, schema_fields[i]))
                        fail_msg("JSON: field %s is missing", schema_fields[i]);
}

/* ---- the judgement, on observed states ---- */

/* raid5, 4 disks, chunk 64K -> 128K, 4 x 255 MiB: 522240 progress sectors,
 * 3 array sectors each. The kernel is at 131072 with its checkpoint there. */
static struct status_observed observed(void)
{
        struct status_observed o = {
                .name = "md0",
                .devnode = "/dev/md0",
                .mdg = {
                        .level = 5,
                        .raid_disks_old = 4, .raid_disks_new = 4,
                        .chunk_bytes_old = 65536, .chunk_bytes_new = 131072,
                        .layout_old = 2, .layout_new = 2,
                        .component_kib = 261120,
                        .direction = MD_RESHAPE_DIRECTION_FORWARDS,
                        .metadata = { .kind = MD_METADATA_NATIVE, .major = 0, .minor = 91 },
                },
                .action = MD_SYNC_ACTION_RESHAPE,
                .completed = { MD_SYNC_COMPLETED_RUNNING, 131072, 522240 },
                .sync_max_progress = MD_SYNC_MAX_UNLIMITED,
                .position_array_sectors = 393216,
                .speed_known = true,
                .speed_kib_per_sec = 1024,
                .uuid = { 1, 2, 3, 4 },
                .checkpoint_active = true,
                .checkpoint_array_sectors = 393216,
        };

        return o;
}

/* A verified backup holding array [393216, 491520) and [491520, 589824):
 * all the kernel may rewrite from 131072 to 196608. */
static void give_backup(struct status_observed *o)
{
        struct backup_header *h = &o->backup.header;

        o->backup_path = "/backup/md0.bak";
        o->backup_source = "reshaped's record";
        o->backup.header_read = true;
        h->format = 2;
        h->has_extension = true;
        h->generation = 7;
        memcpy(h->identity.uuid, o->uuid, 16);
        h->sections[0] = (struct backup_section) { 393216, 98304, 0 };
        h->sections[1] = (struct backup_section) { 491520, 98304, 0 };
        o->backup.verdict = (struct backup_verify) { BACKUP_VERIFY_OK, -1 };
}

static char *render_text(const struct status_observed *o, const struct status_view *v)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        status_print_text(f, o, v);
        assert_int_equal(fclose(f), 0);
        return buf;
}

#define assert_contains(haystack, needle) \
        do { \
                if (!strstr((haystack), (needle))) \
                        fail_msg("output lacks \"%s\":\n%s", (needle), (haystack)); \
        } while (0)

static void test_decide_unprotected(void **state)
{
        struct status_observed o = observed();
        struct status_view v;
        char *text;

        (void) state;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_UNPROTECTED);
        assert_false(status_state_ok(v.state));
        assert_string_equal(v.fix, "reshaped supervise /dev/md0 --backup-file FILE");
        assert_true(v.fix_needs_file);
        assert_string_equal(v.change, "chunk 64K -> 128K");
        assert_true(v.percent > 25.09 && v.percent < 25.11);
        /* 1024 KiB/s of progress is 3 MiB/s of the array; 391168 sectors left. */
        assert_true(v.rate_bytes_per_sec == 3.0 * 1024 * 1024);
        assert_true(v.eta_sec > 190.9 && v.eta_sec < 191.1);
        text = render_text(&o, &v);
        assert_contains(text, "/dev/md0: raid5 reshape, chunk 64K -> 128K (4 disks, forwards)");
        assert_contains(text, "State:       UNPROTECTED: sync_max is max and nobody supervises it");
        assert_contains(text, "25.1% (192.0 MiB of 765.0 MiB), 3.0 MiB/s, 3m11s to go");
        assert_contains(text, "Fix:         reshaped supervise /dev/md0 --backup-file FILE  (FILE on");
        free(text);

        /* A recorded backup is named in the fix; one of another array is not. */
        give_backup(&o);
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_UNPROTECTED);
        assert_string_equal(v.fix, "reshaped supervise /dev/md0 --backup-file /backup/md0.bak");
        o.uuid[0] = 9;
        status_decide(&o, &v);
        assert_int_equal(v.backup, STATUS_BACKUP_OTHER_ARRAY);
        assert_string_equal(v.fix, "reshaped supervise /dev/md0 --backup-file FILE");
        /* Frozen with sync_max=max: it runs unprotected once it resumes. */
        o = observed();
        o.action = MD_SYNC_ACTION_FROZEN;
        o.completed.state = MD_SYNC_COMPLETED_NONE;
        o.speed_known = false;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_UNPROTECTED);
        assert_true(v.rate_bytes_per_sec < 0);
        assert_non_null(strstr(v.reason, "once it resumes"));
        text = render_text(&o, &v);
        assert_contains(text, "rate unknown");
        free(text);
}

static void test_decide_protected_held_taking_over(void **state)
{
        struct status_observed o = observed();
        struct status_view v;
        char *text;

        (void) state;
        give_backup(&o);
        o.sync_max_progress = 196608;
        o.supervisor_pid = 4242;
        o.supervisor_unit = "reshaped@md0.service";
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_PROTECTED);
        assert_true(status_state_ok(v.state));
        assert_string_equal(v.fix, "");
        assert_int_equal(v.windows, 2);
        assert_int_equal(v.protected_array_sectors, 589824);
        assert_true(v.protected_percent > 37.6 && v.protected_percent < 37.7);
        assert_true(v.limit_percent > 37.6 && v.limit_percent < 37.7);
        text = render_text(&o, &v);
        assert_contains(text, "State:       PROTECTED: supervised by reshaped (pid 4242)");
        assert_contains(text, "may go to 37.6% (sync_max), checkpoint on disk at 25.1%");
        assert_contains(text, "Protected:   to 37.6%");
        assert_contains(text, "/backup/md0.bak (from reshaped's record): verified, generation 7, 2 windows held");
        assert_contains(text, "Supervisor:  reshaped, pid 4242 (reshaped@md0.service)");
        free(text);

        /* One sector more than the backup holds. */
        o.sync_max_progress = 196608 + 256;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_TAKING_OVER);
        o.sync_max_progress = 196608;

        /* Sections released up to the checkpoint on disk: still covered.
         * Had the checkpoint not passed the first one, it would not be. */
        o.backup.header.sections[0] = (struct backup_section) {};
        o.checkpoint_array_sectors = 491520;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_PROTECTED);
        assert_int_equal(v.windows, 1);
        o.checkpoint_array_sectors = 491520 - 768;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_TAKING_OVER);
        o.checkpoint_array_sectors = 393216;
        give_backup(&o);

        /* With the superblocks unreadable, sysfs's position stands in. */
        o.checkpoint_error = -EACCES;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_PROTECTED);
        assert_false(v.checkpoint_known);
        o.checkpoint_error = 0;

        /* Superblocks that do not record the reshape yet protect nothing. */
        o.checkpoint_active = false;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_TAKING_OVER);
        o.checkpoint_active = true;

        /* A damaged backup protects nothing. */
        o.backup.verdict = (struct backup_verify) { BACKUP_VERIFY_DATA_CRC, 1 };
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_TAKING_OVER);
        assert_int_equal(v.backup, STATUS_BACKUP_DAMAGED);
        assert_non_null(strstr(v.reason, "damaged"));
        text = render_text(&o, &v);
        assert_contains(text, "DAMAGED: section data does not match its CRC32C");
        free(text);
        /* mdadm's: valid, not verifiable, and it still covers. */
        o.backup.verdict = (struct backup_verify) { BACKUP_VERIFY_UNVERIFIED, -1 };
        o.backup.header.has_extension = false;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_PROTECTED);
        assert_int_equal(v.backup, STATUS_BACKUP_UNVERIFIABLE);
        give_backup(&o);

        o.sync_max_progress = MD_SYNC_MAX_UNLIMITED;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_TAKING_OVER);
        assert_non_null(strstr(v.reason, "sync_max is max"));

        /* Nobody supervises it: the kernel stops at sync_max, safely. */
        o.sync_max_progress = 196608;
        o.supervisor_pid = 0;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_HELD);
        assert_false(status_state_ok(v.state));
        assert_string_equal(v.fix, "reshaped supervise /dev/md0 --backup-file /backup/md0.bak");
        o.sync_max_progress = 196608 + 256;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_UNPROTECTED);

        /* mdadm's monitor supervises only when it holds the kernel back. */
        o.mdadm_pid = 77;
        o.sync_max_progress = MD_SYNC_MAX_UNLIMITED;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_UNPROTECTED);
        assert_non_null(strstr(v.reason, "mdadm's monitor (pid 77) runs but does not keep the kernel"));
        assert_string_equal(v.fix, "reshaped supervise /dev/md0 --backup-file /backup/md0.bak");
        text = render_text(&o, &v);
        assert_contains(text, "Supervisor:  mdadm --grow, pid 77\n");
        free(text);
        o.sync_max_progress = 196608;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_PROTECTED);
        assert_non_null(strstr(v.reason, "supervised by mdadm --grow (pid 77)"));
}

/* A pause shows as PAUSED where it holds, with the resume command; a
 * reshape that is not protected stays UNPROTECTED and says the pause
 * waits for a supervisor. */
static void test_decide_paused(void **state)
{
        struct status_observed o = observed();
        struct status_view v;
        char *text;

        (void) state;
        give_backup(&o);
        o.sync_max_progress = 196608;
        o.supervisor_pid = 4242;
        o.paused = true;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_PAUSED);
        assert_false(status_state_ok(v.state));
        assert_string_equal(status_state_id(v.state), "paused");
        assert_string_equal(v.fix, "reshaped resume /dev/md0");
        assert_non_null(strstr(v.reason, "being paused: reshaped (pid 4242) lets the kernel go on to 37.6%"));

        o.pause_held = true;
        o.pause_held_progress = 196608;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_PAUSED);
        text = render_text(&o, &v);
        assert_contains(text, "State:       PAUSED: reshaped (pid 4242) holds the kernel at 37.6% (sync_max)");
        assert_contains(text, "Fix:         reshaped resume /dev/md0\n");
        free(text);

        o.supervisor_pid = 0;
        o.sync_max_progress = MD_SYNC_MAX_UNLIMITED;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_UNPROTECTED);
        assert_non_null(strstr(v.reason, "; a pause is recorded, in effect once supervision holds it"));
        assert_non_null(strstr(v.fix, "reshaped supervise /dev/md0"));

        o.paused = false;
        status_decide(&o, &v);
        assert_null(strstr(v.reason, "pause"));
}

static void test_decide_no_reshape_and_not_at_risk(void **state)
{
        struct status_observed o = observed();
        struct status_view v;
        char *text;

        (void) state;
        o.action = MD_SYNC_ACTION_IDLE;
        o.position_array_sectors = MD_RESHAPE_POSITION_NONE;
        o.mdg.chunk_bytes_old = 131072;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_NO_RESHAPE);
        assert_true(status_state_ok(v.state));
        text = render_text(&o, &v);
        assert_string_equal(text, "/dev/md0: no reshape in progress (raid5, 4 disks, chunk 128K)\n");
        free(text);

        /* A 3 -> 4 disk grow past its critical section: md guards it. */
        o = observed();
        o.mdg.chunk_bytes_old = o.mdg.chunk_bytes_new = 65536;
        o.mdg.raid_disks_old = 3;
        o.completed.completed_dev_sectors = 262144;
        o.position_array_sectors = o.checkpoint_array_sectors = 262144 * 3;
        status_decide(&o, &v);
        assert_string_equal(v.change, "3 -> 4 disks");
        assert_int_equal(v.state, STATUS_NOT_AT_RISK);
        assert_true(status_state_ok(v.state));
        /* At its start it is at risk. */
        o.completed.completed_dev_sectors = 0;
        o.position_array_sectors = o.checkpoint_array_sectors = 0;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_UNPROTECTED);

        /* A chunk change that moves data_offset down 1792 sectors: not at
         * risk while reshaped paces it, unprotected unpaced (md started
         * it live and checkpoints as in place), and the fix needs no
         * backup file. */
        o = observed();
        o.mdg.metadata = (struct md_metadata_version) { .kind = MD_METADATA_NATIVE, .major = 1, .minor = 2 };
        o.mdg.offset_diff_dev_sectors = -1792;
        o.supervisor_pid = 4242;
        o.sync_max_progress = 262144;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_NOT_AT_RISK);
        assert_non_null(strstr(v.reason, "new data offset"));
        o.supervisor_pid = 0;
        o.sync_max_progress = MD_SYNC_MAX_UNLIMITED;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_UNPROTECTED);
        assert_string_equal(v.fix, "reshaped supervise /dev/md0");
        assert_false(v.fix_needs_file);

        /* A level this tool does not judge. */
        o = observed();
        o.mdg.level = 1;
        status_decide(&o, &v);
        assert_int_equal(v.state, STATUS_UNKNOWN);
        assert_false(status_state_ok(v.state));
}

static void test_json_object(void **state)
{
        struct status_observed o = observed();
        struct status_view v;
        char *buf = NULL;
        size_t size = 0;
        struct jv *j;
        FILE *f;

        (void) state;
        give_backup(&o);
        o.backup_path = "/odd \"name\"\n";
        o.sync_max_progress = 196608;
        o.supervisor_pid = 4242;
        status_decide(&o, &v);
        f = open_memstream(&buf, &size);
        assert_non_null(f);
        status_print_json(f, &o, &v);
        assert_int_equal(fclose(f), 0);
        j = json_parse(buf);
        assert_schema(j);
        assert_string_equal(jstr(j, "state"), "protected");
        assert_true(jget(j, "protected")->b);
        assert_string_equal(jstr(j, "uuid"), "01020304:00000000:00000000:00000000");
        assert_string_equal(jstr(j, "backup.path"), "/odd \"name\"\n");
        assert_string_equal(jstr(j, "backup.verdict"), "verified");
        assert_string_equal(jstr(j, "backup.reason"), "ok");
        assert_int_equal(jnum(j, "backup.generation"), 7);
        assert_int_equal(jnum(j, "backup.windows"), 2);
        assert_int_equal(jnum(j, "supervisor.pid"), 4242);
        assert_true(jnull(j, "supervisor.unit"));
        assert_true(jnull(j, "fix"));
        assert_int_equal(jnum(j, "sync_max_progress_sectors"), 196608);
        assert_int_equal(jnum(j, "protected_through_array_sectors"), 589824);
        assert_int_equal(jnum(j, "completed_progress_sectors"), 131072);
        assert_int_equal(jnum(j, "end_progress_sectors"), 522240);
        assert_int_equal(jnum(j, "before.chunk_bytes"), 65536);
        assert_int_equal(jnum(j, "after.chunk_bytes"), 131072);
        assert_int_equal(jnum(j, "eta_seconds"), 191);
        json_free(j);
        free(buf);

        buf = NULL;
        f = open_memstream(&buf, &size);
        assert_non_null(f);
        status_print_json_error(f, "sda", "sda: not an md array");
        assert_int_equal(fclose(f), 0);
        j = json_parse(buf);
        assert_string_equal(jstr(j, "state"), "error");
        assert_false(jget(j, "protected")->b);
        json_free(j);
        free(buf);
}

static void test_unit_from_cgroup(void **state)
{
        char unit[64];

        (void) state;
        assert_true(status_unit_from_cgroup("0::/system.slice/system-reshaped.slice/reshaped@md0.service\n",
                                            unit, sizeof(unit)));
        assert_string_equal(unit, "reshaped@md0.service");
        /* mdadm's hand-off, on cgroup v1 with the named hierarchy. */
        assert_true(status_unit_from_cgroup("4:memory:/x\n1:name=systemd:/system.slice/"
                                            "system-mdadm\\x2dgrow\\x2dcontinue.slice/"
                                            "mdadm-grow-continue@md0.service\n0::/\n", unit, sizeof(unit)));
        assert_string_equal(unit, "mdadm-grow-continue@md0.service");
        assert_true(status_unit_from_cgroup("0::/user.slice/user-0.slice/session-3.scope/sub\n",
                                            unit, sizeof(unit)));
        assert_string_equal(unit, "session-3.scope");
        assert_false(status_unit_from_cgroup("0::/\n", unit, sizeof(unit)));
        assert_false(status_unit_from_cgroup("9:cpu:/a.service\n", unit, sizeof(unit)));
        assert_false(status_unit_from_cgroup("", unit, sizeof(unit)));
}

/* ---- the command, on a fake tree ---- */

struct fixture {
        char *root;
        char dir[64];         /* state dir and backup files */
        char backup[128];
        pid_t stand_in;
        int stand_in_fd;
};

/* An unusual name, so that no other test's process on this machine looks
 * like its supervisor. */
#define MD "md117"

static const struct fake_attr reshaping[] = {
        { "chunk_size", "131072 (65536)" },
        { "metadata_version", "0.91" },
        { "array_state", "active" },
        { "sync_action", "reshape" },
        { "sync_completed", "131072 / 522240" },
        { "sync_max", "max" },
        { "reshape_position", "393216" },
        { "array_size", "default" },
        { "sync_speed", "1024" },
        {}
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        struct fake_array a = {
                .name = MD,
                .devnum = "9:117",
                .attrs = reshaping,
                .members = fake_members4,
                .n_members = ELEMENTSOF(fake_members4),
        };

        assert_non_null(f);
        f->root = fake_sysfs_create(&a);
        snprintf(f->dir, sizeof(f->dir), "/tmp/reshaped-test-status-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->backup, sizeof(f->backup), "%s/backup-of-md117", f->dir);
        assert_int_equal(setenv("RESHAPED_STATE_DIR", f->dir, 1), 0);
        log_set_max_level(LOG_CRIT);
        *state = f;
        return 0;
}

static void stop_stand_in(struct fixture *f)
{
        if (f->stand_in > 0) {
                assert_int_equal(kill(f->stand_in, SIGKILL), 0);
                assert_int_equal(waitpid(f->stand_in, NULL, 0), f->stand_in);
                close(f->stand_in_fd);
                f->stand_in = 0;
        }
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[128];

        stop_stand_in(f);
        fake_sysfs_remove(f->root);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

/* A process whose command line is what a supervisor's would be. */
static void start_stand_in(struct fixture *f)
{
        char path[64], line[4096];
        int fds[2];
        pid_t pid;

        /* It waits on a pipe only this process holds open: it ends with
         * the test, whatever happens, and leaves no child behind. */
        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);

                if (null < 0 || dup2(fds[0], STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
                    dup2(null, STDERR_FILENO) < 0)
                        _exit(127);
                close(fds[1]);
                execl("/bin/sh", "reshaped", "-c", "read x", "supervise", "/dev/" MD, (char *) NULL);
                _exit(127);
        }
        close(fds[0]);
        f->stand_in = pid;
        f->stand_in_fd = fds[1];
        /* Until exec has replaced the forked copy's command line. */
        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int) pid);
        for (int i = 0; i < 500; i++) {
                FILE *p = fopen(path, "re");
                size_t n = p ? fread(line, 1, sizeof(line) - 1, p) : 0;

                if (p)
                        fclose(p);
                if (n > 0 && strcmp(line, "reshaped") == 0)
                        return;
                usleep(10000);
        }
        fail_msg("the stand-in supervisor did not start");
}


static char out[65536], err[4096];

static int status_cmd_(struct fixture *f, bool json, const char *device)
{
        const char *args[8] = { "--sysfs-root", f->root, "status" };
        size_t n = 3;

        if (json)
                args[n++] = "--json";
        if (device)
                args[n++] = device;
        return fake_run_reshaped(out, sizeof(out), err, sizeof(err), args);
}

/* Expects exit status @code, and shows what the command said if not. */
#define assert_status(code, f, json, device) \
        do { \
                int rc_ = status_cmd_((f), (json), (device)); \
                if (rc_ != (code)) \
                        fail_msg("status exited %d, not %d:\n%s%s", rc_, (code), out, err); \
        } while (0)

/* A backup for md117 holding what the kernel may rewrite up to sync_max
 * 131328 (one 128K unit past the checkpoint): array [393216, 393984). */
#define SYNC_MAX "131328"
static void make_backup(struct fixture *f)
{
        static const struct backup_identity id = {
                .uuid = { 1, 2, 3, 4 },
                .before = { 5, 4, 65536, 2 },
                .after = { 5, 4, 131072, 2 },
                .component_dev_sectors = 522240,
        };
        struct backup_file *bf;
        void *data = NULL;

        assert_int_equal(posix_memalign(&data, 4096, 384 * 512), 0);
        memset(data, 0x5a, 384 * 512);
        assert_int_equal(backup_file_create(f->backup, &id, 384 * 512, 0, &bf), 0);
        assert_int_equal(backup_file_store(bf, 0, 393216, 384, data), 0);
        assert_int_equal(backup_file_store(bf, 1, 393600, 384, data), 0);
        backup_file_free(bf);
        free(data);
        assert_int_equal(record_save("01020304:00000000:00000000:00000000", MD, f->backup), 0);
}

static void test_cli_unprotected(void **state)
{
        struct fixture *f = *state;
        struct jv *j;

        assert_status(1, f, false, MD);
        assert_contains(out, "State:       UNPROTECTED: sync_max is max and nobody supervises it");
        assert_contains(out, "Supervisor:  none");
        assert_contains(out, "Fix:         reshaped supervise ");
        assert_string_equal(err, "");

        /* Listed without naming it, too. */
        assert_status(1, f, true, NULL);
        j = json_parse(out);
        assert_int_equal(j->t, J_ARR);
        assert_int_equal(j->n, 1);
        assert_schema(&j->items[0]);
        assert_string_equal(jstr(j, "0.name"), MD);
        assert_string_equal(jstr(j, "0.state"), "unprotected");
        assert_false(jget(j, "0.protected")->b);
        assert_true(jnull(j, "0.supervisor"));
        assert_true(jnull(j, "0.backup"));
        assert_true(jnull(j, "0.sync_max_progress_sectors"));
        assert_int_equal(jnum(j, "0.reshape_position_array_sectors"), 393216);
        assert_int_equal(jnum(j, "0.rate_bytes_per_sec"), 3 * 1024 * 1024);
        assert_non_null(strstr(jstr(j, "0.fix"), "--backup-file FILE"));
        json_free(j);
}

static void test_cli_protected_and_held(void **state)
{
        struct fixture *f = *state;
        struct jv *j;

        make_backup(f);
        fake_sysfs_set(f->root, MD, "sync_max", SYNC_MAX);
        start_stand_in(f);
        assert_status(0, f, true, MD);
        j = json_parse(out);
        assert_int_equal(j->n, 1);
        assert_schema(&j->items[0]);
        assert_string_equal(jstr(j, "0.state"), "protected");
        assert_true(jget(j, "0.protected")->b);
        assert_int_equal(jnum(j, "0.supervisor.pid"), f->stand_in);
        assert_string_equal(jstr(j, "0.backup.path"), f->backup);
        assert_string_equal(jstr(j, "0.backup.verdict"), "verified");
        assert_int_equal(jnum(j, "0.backup.generation"), 3);
        assert_int_equal(jnum(j, "0.backup.windows"), 2);
        assert_int_equal(jnum(j, "0.protected_through_array_sectors"), 393984);
        json_free(j);
        assert_status(0, f, false, MD);
        assert_contains(out, "State:       PROTECTED: supervised by reshaped (pid");
        assert_contains(out, "verified, generation 3, 2 windows held");

        stop_stand_in(f);
        assert_status(1, f, false, MD);
        assert_contains(out, "State:       HELD: nobody supervises it: the kernel stops at 25.1%");
        assert_contains(out, "Fix:         reshaped supervise ");
        assert_contains(out, f->backup);

        /* One flipped byte of data: damaged, and so no protection. */
        {
                int fd = open(f->backup, O_RDWR);

                assert_true(fd >= 0);
                assert_int_equal(pwrite(fd, "\x11", 1, 4096 + 100), 1);
                close(fd);
        }
        assert_status(1, f, true, MD);
        j = json_parse(out);
        assert_string_equal(jstr(j, "0.state"), "unprotected");
        assert_string_equal(jstr(j, "0.backup.verdict"), "damaged");
        assert_string_equal(jstr(j, "0.backup.reason"), "data-crc");
        json_free(j);
}

static void test_cli_no_reshape_and_bad_names(void **state)
{
        struct fixture *f = *state;
        struct jv *j;

        fake_sysfs_set(f->root, MD, "sync_action", "idle");
        fake_sysfs_set(f->root, MD, "reshape_position", "none");
        fake_sysfs_set(f->root, MD, "sync_completed", "none");
        assert_status(0, f, false, MD);
        assert_contains(out, MD ": no reshape in progress (raid5, 4 disks, chunk 128K)\n");
        assert_status(0, f, false, NULL);
        assert_string_equal(out, "No md array is reshaping.\n");
        assert_status(0, f, true, NULL);
        j = json_parse(out);
        assert_int_equal(j->t, J_ARR);
        assert_int_equal(j->n, 0);
        json_free(j);
        assert_status(0, f, true, MD);
        j = json_parse(out);
        assert_schema(&j->items[0]);
        assert_string_equal(jstr(j, "0.state"), "no-reshape");
        assert_true(jnull(j, "0.change"));
        json_free(j);

        /* Assembled, not running: it may hold a reshape sysfs cannot show. */
        fake_sysfs_set(f->root, MD, "array_state", "inactive");
        assert_status(1, f, false, MD);
        assert_contains(out, MD ": not running (inactive)\n  State:       INACTIVE: ");
        assert_contains(out, "Fix:         reshaped restore ");
        assert_status(0, f, false, NULL);
        assert_string_equal(out, "No md array is reshaping.\n");
        assert_status(1, f, true, MD);
        j = json_parse(out);
        assert_string_equal(jstr(j, "0.state"), "inactive");
        assert_false(jget(j, "0.protected")->b);
        json_free(j);

        /* Not an md array, and a name that is nothing: exit 2, named. */
        assert_status(2, f, false, "sda");
        assert_contains(err, "sda: not an md array; give an md array such as /dev/md0");
        assert_status(2, f, true, "md9");
        assert_contains(err, "md9: not an md array");
        j = json_parse(out);
        assert_string_equal(jstr(j, "0.device"), "md9");
        assert_string_equal(jstr(j, "0.state"), "error");
        json_free(j);

        assert_int_equal(fake_run_reshaped(out, sizeof(out), err, sizeof(err),
                                      (const char *[]) { "status", "--bogus", NULL }), 2);
        assert_int_equal(fake_run_reshaped(out, sizeof(out), err, sizeof(err),
                                      (const char *[]) { "help", "status", NULL }), 0);
        assert_contains(out, "Usage: reshaped status [--json] [DEVICE...]");
}

/* ---- inspect's verdicts ---- */

static void test_inspect_exit_codes(void **state)
{
        struct fixture *f = *state;
        static uint8_t image[4096 + 2 * 4096];
        struct backup_header h = {
                .format = 2,
                .mtime = 1700000000,
                .devstart_sectors = 8,
                .devstart2_sectors = 8,
                .sections = { { 1024, 8, 0 }, { 1032, 8, 0 } },
        };
        char mdadm[128];
        struct jv *j;
        int fd;

        make_backup(f);
        if (fake_run_reshaped(out, sizeof(out), err, sizeof(err), (const char *[]) { "inspect", f->backup, NULL }) != 0)
                fail_msg("%s%s", out, err);
        assert_contains(out, "Verdict:      VERIFIED");

        /* What mdadm writes: its header, no extension, then the data. */
        snprintf(mdadm, sizeof(mdadm), "%s/mdadm.backup", f->dir);
        backup_header_encode(&h, image);
        memset(image + 4096, 0x33, sizeof(image) - 4096);
        fd = open(mdadm, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, image, sizeof(image)), (ssize_t) sizeof(image));
        close(fd);
        assert_int_equal(fake_run_reshaped(out, sizeof(out), err, sizeof(err),
                                      (const char *[]) { "inspect", mdadm, NULL }), 3);
        assert_contains(out, "Verdict:      VALID HEADER, DATA NOT VERIFIABLE: written by mdadm");
        assert_int_equal(fake_run_reshaped(out, sizeof(out), err, sizeof(err),
                                      (const char *[]) { "inspect", "--json", mdadm, NULL }), 3);
        j = json_parse(out);
        assert_string_equal(jstr(j, "verdict.class"), "unverifiable");
        json_free(j);

        /* mdadm's header with a checksum mdadm would refuse: damaged. */
        image[64] ^= 1;
        fd = open(mdadm, O_WRONLY | O_TRUNC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, image, sizeof(image)), (ssize_t) sizeof(image));
        close(fd);
        assert_int_equal(fake_run_reshaped(out, sizeof(out), err, sizeof(err),
                                      (const char *[]) { "inspect", mdadm, NULL }), 1);
        assert_contains(out, "Verdict:      DAMAGED: ");

        fd = open(f->backup, O_RDWR);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, "\x11", 1, 4096 + 100), 1);
        close(fd);
        assert_int_equal(fake_run_reshaped(out, sizeof(out), err, sizeof(err),
                                      (const char *[]) { "inspect", f->backup, NULL }), 1);
        assert_contains(out, "Verdict:      DAMAGED: section 0: section data does not match its CRC32C");
        assert_int_equal(fake_run_reshaped(out, sizeof(out), err, sizeof(err),
                                      (const char *[]) { "inspect", "--json", f->backup, NULL }), 1);
        j = json_parse(out);
        assert_string_equal(jstr(j, "verdict.class"), "damaged");
        assert_false(jget(j, "verdict.ok")->b);
        json_free(j);

        assert_int_equal(fake_run_reshaped(out, sizeof(out), err, sizeof(err),
                                      (const char *[]) { "inspect", "/nonexistent/backup", NULL }), 4);
        assert_contains(err, "/nonexistent/backup");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_decide_unprotected),
                cmocka_unit_test(test_decide_protected_held_taking_over),
                cmocka_unit_test(test_decide_paused),
                cmocka_unit_test(test_decide_no_reshape_and_not_at_risk),
                cmocka_unit_test(test_json_object),
                cmocka_unit_test(test_unit_from_cgroup),
                cmocka_unit_test_setup_teardown(test_cli_unprotected, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_protected_and_held, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cli_no_reshape_and_bad_names, setup, teardown),
                cmocka_unit_test_setup_teardown(test_inspect_exit_codes, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
