/*
 * test_exitbs.c: the GetMemoryMap/ExitBootServices retry (efi/exitbs.c)
 * against a simulated firmware.
 *
 * The simulator behaves like UEFI: each GetMemoryMap writes the current
 * descriptors and returns the current MapKey; ExitBootServices succeeds only
 * with the current key. To model firmware activity (timer events, a USB
 * driver allocating) it can change the map "behind the loader's back" at
 * the next N ExitBootServices calls (key++, optionally one descriptor
 * more), or fail every call, or fail with another status. It logs every
 * call so the tests can check that the loader does nothing between the
 * final GetMemoryMap and ExitBootServices and always uses one buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "../../efi/exitbs.h"

#define DSIZE 48u

struct sim {
	uint32_t entries;        /* descriptors in the current map */
	uint64_t key;            /* current MapKey */
	uint32_t disturb;        /* next ExitBootServices calls that see a changed map */
	int grow;                /* a disturbance also adds a descriptor */
	uint64_t exit_status;    /* if nonzero: every ExitBootServices returns this */
	uint64_t map_status;     /* if nonzero: GetMemoryMap returns this */
	int exited;              /* ExitBootServices succeeded */
	char log[64];            /* 'G' / 'E' per call */
	uint32_t nlog;
	void *buf_seen;          /* buffer of the first GetMemoryMap */
	int other_buffer;        /* a later call used another buffer */
	uint64_t last_key_given; /* key returned by the latest GetMemoryMap */
};

static uint64_t sim_get_map(void *ctx, uint64_t *size, void *buf, uint64_t *key,
                            uint64_t *desc_size, uint32_t *desc_version)
{
	struct sim *s = ctx;
	assert_false(s->exited);                 /* no boot service after success */
	s->log[s->nlog++] = 'G';
	if (!s->buf_seen)
		s->buf_seen = buf;
	else if (s->buf_seen != buf)
		s->other_buffer = 1;
	if (s->map_status)
		return s->map_status;
	uint64_t need = (uint64_t)s->entries * DSIZE;
	*desc_size = DSIZE;
	*desc_version = 1;
	if (*size < need) {
		*size = need;
		return EXITBS_BUFFER_TOO_SMALL;
	}
	memset(buf, 0xAB, need);
	*size = need;
	*key = s->key;
	s->last_key_given = s->key;
	return EXITBS_SUCCESS;
}

static uint64_t sim_exit_bs(void *ctx, uint64_t key)
{
	struct sim *s = ctx;
	assert_false(s->exited);
	s->log[s->nlog++] = 'E';
	if (s->exit_status)
		return s->exit_status;
	if (s->disturb > 0) {
		s->disturb--;
		s->key++;
		if (s->grow)
			s->entries++;
	}
	if (key != s->key)
		return EXITBS_INVALID_PARAMETER;
	s->exited = 1;
	return EXITBS_SUCCESS;
}

static uint8_t buffer[64 * DSIZE];

static int run(struct sim *s, uint64_t cap, struct exitbs_result *res)
{
	const struct exitbs_ops ops = { s, sim_get_map, sim_exit_bs };
	return exitbs_run(&ops, buffer, cap, EXITBS_MAX_TRIES_DEFAULT, res);
}

static void expect_alternating(const struct sim *s)
{
	for (uint32_t i = 0; i < s->nlog; i++)
		assert_int_equal(s->log[i], (i % 2) ? 'E' : 'G');
	assert_false(s->other_buffer);
}

static void test_first_try(void **state)
{
	(void)state;
	struct sim s = { .entries = 20, .key = 7 };
	struct exitbs_result r;
	assert_int_equal(run(&s, sizeof(buffer), &r), 0);
	assert_int_equal(r.outcome, EXITBS_DONE);
	assert_int_equal(r.tries, 1);
	assert_int_equal(r.map_size, 20 * DSIZE);
	assert_int_equal(r.desc_size, DSIZE);
	assert_int_equal(r.desc_version, 1);
	assert_int_equal(r.map_key, 7);
	assert_true(s.exited);
	assert_int_equal(s.nlog, 2);
	expect_alternating(&s);
}

static void test_retry_after_changes(void **state)
{
	(void)state;
	struct sim s = { .entries = 20, .key = 1, .disturb = 3 };
	struct exitbs_result r;
	assert_int_equal(run(&s, sizeof(buffer), &r), 0);
	assert_int_equal(r.tries, 4);
	assert_int_equal(r.map_key, s.last_key_given);   /* the latest key, not a stale one */
	assert_int_equal(r.map_key, 4);
	assert_int_equal(s.nlog, 8);
	expect_alternating(&s);
}

static void test_map_grows(void **state)
{
	(void)state;
	struct sim s = { .entries = 20, .key = 1, .disturb = 5, .grow = 1 };
	struct exitbs_result r;
	assert_int_equal(run(&s, sizeof(buffer), &r), 0);
	assert_int_equal(r.tries, 6);
	assert_int_equal(r.map_size, 25 * DSIZE);        /* the final map, not the first */
	expect_alternating(&s);
}

static void test_gives_up(void **state)
{
	(void)state;
	struct sim s = { .entries = 20, .key = 1, .disturb = 1000 };
	struct exitbs_result r;
	assert_int_equal(run(&s, sizeof(buffer), &r), -1);
	assert_int_equal(r.outcome, EXITBS_GAVE_UP);
	assert_int_equal(r.tries, EXITBS_MAX_TRIES_DEFAULT);
	assert_int_equal(r.status, EXITBS_INVALID_PARAMETER);
	assert_int_equal(s.nlog, 2 * EXITBS_MAX_TRIES_DEFAULT);
	assert_false(s.exited);
	expect_alternating(&s);
}

static void test_map_outgrows_buffer(void **state)
{
	(void)state;
	struct sim s = { .entries = 20, .key = 1, .disturb = 1000, .grow = 1 };
	struct exitbs_result r;
	/* room for 22 descriptors: the third GetMemoryMap (22) fits, the fourth (23) not */
	assert_int_equal(run(&s, 22 * DSIZE, &r), -1);
	assert_int_equal(r.outcome, EXITBS_MAP_TOO_LARGE);
	assert_int_equal(r.tries, 3);
	assert_int_equal(r.map_size, 23 * DSIZE);        /* what would be needed */
	assert_false(s.exited);
}

static void test_other_exit_error(void **state)
{
	(void)state;
	struct sim s = { .entries = 20, .key = 1, .exit_status = 0x8000000000000003ull };
	struct exitbs_result r;
	assert_int_equal(run(&s, sizeof(buffer), &r), -1);
	assert_int_equal(r.outcome, EXITBS_REFUSED);
	assert_int_equal(r.tries, 1);
	assert_int_equal(r.status, 0x8000000000000003ull);
}

static void test_map_error(void **state)
{
	(void)state;
	struct sim s = { .entries = 20, .key = 1, .map_status = 0x8000000000000002ull };
	struct exitbs_result r;
	assert_int_equal(run(&s, sizeof(buffer), &r), -1);
	assert_int_equal(r.outcome, EXITBS_MAP_FAILED);
	assert_int_equal(r.tries, 0);
	assert_int_equal(s.nlog, 1);                     /* no ExitBootServices call */
	assert_string_equal(exitbs_outcome_name(EXITBS_MAP_FAILED), "GetMemoryMap failed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_try),
		cmocka_unit_test(test_retry_after_changes),
		cmocka_unit_test(test_map_grows),
		cmocka_unit_test(test_gives_up),
		cmocka_unit_test(test_map_outgrows_buffer),
		cmocka_unit_test(test_other_exit_error),
		cmocka_unit_test(test_map_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
