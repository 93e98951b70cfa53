/*
 * Host tests of the inspector's option parser (efi/inspect_optparse.c, the
 * code the loader runs):
 *   - defaults: save, timeout 10 s, no serial, no stop;
 *   - words separated by blanks, commas, CR/LF and NUL; '#' comments;
 *     an image path ending in .efi/.EFI skipped;
 *   - timeout=N sets the timeout; timeout=abc, timeout=, timeout=-1,
 *     timeout=12x and a value above 86400 are errors: counted, reported
 *     (with the word, the source and the timeout kept) and the earlier
 *     value stays;
 *   - unknown words are errors that change nothing;
 *   - sources applied in order (SMBIOS OEM, config.txt, load options): a
 *     later source overrides an earlier one, e.g. the load options'
 *     timeout=3 wins over config.txt's timeout=30.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "host_env.h"
#include "../../efi/inspect.h"

static uint32_t parse(const char *s, struct inspect_opts *o)
{
	return inspect_parse_opts(s, strlen(s), "test", o);
}

static void test_defaults(void **state)
{
	struct inspect_opts o;
	(void)state;
	memset(&o, 0xAB, sizeof(o));
	inspect_default_opts(&o);
	assert_int_equal(o.timeout_s, 10);
	assert_int_equal(o.nosave, 0);
	assert_int_equal(o.serial, 0);
	assert_int_equal(o.stop, 0);
	assert_int_equal(o.errors, 0);
}

static void test_words(void **state)
{
	struct inspect_opts o;
	(void)state;
	inspect_default_opts(&o);
	host_log_set(HOST_LOG_CAPTURE);
	host_log_clear();
	static const char text[] = "FS0:\\EFI\\BOOT\\BOOTX64.EFI nosave,timeout=7\r\n"
	                           "# stop serial in a comment\nserial\0stop";
	assert_int_equal(inspect_parse_opts(text, sizeof(text) - 1, "test", &o), 0);
	assert_int_equal(o.nosave, 1);
	assert_int_equal(o.timeout_s, 7);
	assert_int_equal(o.serial, 1);
	assert_int_equal(o.stop, 1);
	assert_int_equal(host_log_len, 0);
	inspect_default_opts(&o);
	assert_int_equal(parse("x.efi timeout=0#stop", &o), 0);
	assert_int_equal(o.timeout_s, 0);
	assert_int_equal(o.stop, 0);
	host_log_set(HOST_LOG_STDERR);
}

static void test_bad_timeout(void **state)
{
	static const char *const bad[] = { "timeout=abc", "timeout=", "timeout=-1", "timeout=12x",
	                                   "timeout=86401", "timeout=99999999999999999999" };
	struct inspect_opts o;
	(void)state;
	host_log_set(HOST_LOG_CAPTURE);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		inspect_default_opts(&o);
		host_log_clear();
		assert_int_equal(parse(bad[i], &o), 1);
		assert_int_equal(o.errors, 1);
		assert_int_equal(o.timeout_s, 10);               /* the default stays */
		assert_non_null(strstr(host_log_buf, bad[i]));
		assert_non_null(strstr(host_log_buf, "(test)"));
		assert_non_null(strstr(host_log_buf, "the timeout stays 10 s"));
	}
	inspect_default_opts(&o);
	assert_int_equal(parse("timeout=5 timeout=abc nosave", &o), 1);
	assert_int_equal(o.timeout_s, 5);                       /* the earlier value stays */
	assert_int_equal(o.nosave, 1);
	assert_int_equal(parse("timeout=86400", &o), 0);
	assert_int_equal(o.timeout_s, 86400);
	host_log_set(HOST_LOG_STDERR);
}

static void test_unknown(void **state)
{
	struct inspect_opts o, before;
	(void)state;
	host_log_set(HOST_LOG_CAPTURE);
	host_log_clear();
	inspect_default_opts(&o);
	before = o;
	assert_int_equal(parse("bogus Serial STOP timeout 10", &o), 5);
	assert_int_equal(o.errors, 5);
	o.errors = 0;
	assert_memory_equal(&o, &before, sizeof(o));
	assert_non_null(strstr(host_log_buf, "'bogus' (test): unknown, ignored"));
	host_log_set(HOST_LOG_STDERR);
}

/* The order inspect_get_opts applies: OEM strings, config.txt, load options. */
static void test_precedence(void **state)
{
	struct inspect_opts o;
	(void)state;
	inspect_default_opts(&o);
	parse("timeout=0", &o);                 /* QEMU harness (SMBIOS OEM) */
	parse("timeout=30 nosave", &o);         /* config.txt */
	parse("BOOTX64.EFI timeout=3", &o);     /* load options */
	assert_int_equal(o.timeout_s, 3);
	assert_int_equal(o.nosave, 1);
	inspect_default_opts(&o);
	parse("timeout=0", &o);
	parse("timeout=30", &o);
	parse("", &o);
	assert_int_equal(o.timeout_s, 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_bad_timeout),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_precedence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
