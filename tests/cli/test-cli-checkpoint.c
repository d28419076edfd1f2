// SPDX-License-Identifier: GPL-2.0-or-later
/* Size parsing for the CLI, and reading reshape_position out of 0.90 and
 * 1.x superblocks built field by field from the kernel's UAPI layouts. */
#include <endian.h>
#include <errno.h>
#include <linux/raid/md_p.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "reshaped/cli/cli-util.h"
#include "reshaped/md/md.h"

static void test_parse_size(void **state)
{
        static const struct { const char *in; int ret; uint64_t bytes; } t[] = {
                { "65536", 0, 65536 },
                { "64K", 0, 65536 },
                { "64k", 0, 65536 },
                { "128KiB", 0, 131072 },
                { "1M", 0, 1048576 },
                { "1MB", 0, 1048576 },
                { "2G", 0, 2147483648ULL },
                { "", -EINVAL, 0 },
                { "K", -EINVAL, 0 },
                { "-1M", -EINVAL, 0 },
                { "12Q", -EINVAL, 0 },
                { "1Mx", -EINVAL, 0 },
                { "99999999999999999999", -EINVAL, 0 },
                { "17179869184G", -ERANGE, 0 },
        };

        (void) state;
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                uint64_t v = 0;

                assert_int_equal(cli_parse_size(t[i].in, &v), t[i].ret);
                if (t[i].ret == 0)
                        assert_int_equal(v, t[i].bytes);
        }
}

static void test_reshape_position_090(void **state)
{
        static uint8_t buf[MD_SUPER_READ_BYTES];
        mdp_super_t *sb = (mdp_super_t *) buf;
        uint64_t pos = 0;
        bool active = true;

        (void) state;
        memset(buf, 0, sizeof(buf));
        sb->md_magic = MD_SB_MAGIC;
        sb->minor_version = 90;
        sb->reshape_position = 12345;
        assert_int_equal(md_super_reshape_position(buf, 0, &active, &pos), 0);
        assert_false(active);

        /* 0.90 records a running reshape as minor version 91 */
        sb->minor_version = 91;
        assert_int_equal(md_super_reshape_position(buf, 0, &active, &pos), 0);
        assert_true(active);
        assert_int_equal(pos, 12345);

        sb->md_magic = 0;
        assert_int_equal(md_super_reshape_position(buf, 0, &active, &pos), -EBADMSG);
}

static void test_reshape_position_1x(void **state)
{
        static uint8_t buf[MD_SUPER_READ_BYTES];
        struct mdp_superblock_1 *sb = (struct mdp_superblock_1 *) buf;
        uint64_t pos = 0;
        bool active = true;

        (void) state;
        memset(buf, 0, sizeof(buf));
        sb->magic = htole32(MD_SB_MAGIC);
        sb->feature_map = htole32(1);  /* bitmap only */
        sb->reshape_position = htole64(777);
        assert_int_equal(md_super_reshape_position(buf, 1, &active, &pos), 0);
        assert_false(active);

        sb->feature_map = htole32(1 | MD_FEATURE_RESHAPE_ACTIVE);
        assert_int_equal(md_super_reshape_position(buf, 1, &active, &pos), 0);
        assert_true(active);
        assert_int_equal(pos, 777);
        /* the field sits where the kernel's on-disk layout puts it */
        assert_int_equal(offsetof(struct mdp_superblock_1, reshape_position), 104);
        assert_int_equal(buf[104], 777 & 0xff);

        assert_int_equal(md_super_reshape_position(buf, 2, &active, &pos), -EOPNOTSUPP);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_size),
                cmocka_unit_test(test_reshape_position_090),
                cmocka_unit_test(test_reshape_position_1x),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
