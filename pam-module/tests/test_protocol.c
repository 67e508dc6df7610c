/* Protocol codec: round trips, and each malformed line refused with its own code. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

static int parse(const char *s, struct jmp_response *r)
{
	return jmp_parse_response(s, strlen(s), r);
}

static void encode_basic(void **state)
{
	(void)state;
	char buf[JMP_LINE_MAX + 1];
	const struct jmp_field f[] = {
		{"user", "alice"},
		{"service", "sshd"},
		{"rhost", NULL},
		{"tty", ""},
		{"ticket", "a b=c%d/e~f.g-h_i\n\xc3\xa9"},
	};
	long n = jmp_encode_request(buf, sizeof(buf), "auth", f, 5);
	const char *want = "v1 auth user=alice service=sshd tty= "
			   "ticket=a%20b%3Dc%25d%2Fe~f.g-h_i%0A%C3%A9\n";
	assert_int_equal(n, (long)strlen(want));
	assert_string_equal(buf, want);

	n = jmp_encode_request(buf, sizeof(buf), "ping", NULL, 0);
	assert_string_equal(buf, "v1 ping\n");
	assert_int_equal(n, 8);
}

static void encode_rejects(void **state)
{
	(void)state;
	char buf[JMP_LINE_MAX + 1];
	const struct jmp_field bad_key[] = {{"User", "x"}};
	const struct jmp_field long_key[] = {{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "x"}};
	assert_int_equal(jmp_encode_request(buf, sizeof(buf), "Auth", NULL, 0), -1);
	assert_int_equal(jmp_encode_request(buf, sizeof(buf), "", NULL, 0), -1);
	assert_int_equal(jmp_encode_request(buf, sizeof(buf), "a b", NULL, 0), -1);
	assert_int_equal(jmp_encode_request(buf, sizeof(buf), "auth", bad_key, 1), -1);
	assert_int_equal(jmp_encode_request(buf, sizeof(buf), "auth", long_key, 1), -1);

	/* Exactly at the limit: 8192 bytes including '\n' fits, 8193 does not. */
	static char v[JMP_LINE_MAX];
	size_t base = strlen("v1 auth ticket=") + 1;
	memset(v, 'a', JMP_LINE_MAX - base);
	v[JMP_LINE_MAX - base] = '\0';
	const struct jmp_field f[] = {{"ticket", v}};
	assert_int_equal(jmp_encode_request(buf, sizeof(buf), "auth", f, 1), JMP_LINE_MAX);
	v[JMP_LINE_MAX - base] = 'a';
	v[JMP_LINE_MAX - base + 1] = '\0';
	assert_int_equal(jmp_encode_request(buf, sizeof(buf), "auth", f, 1), -1);
	/* A small buffer is respected too. */
	assert_int_equal(jmp_encode_request(buf, 8, "ping", NULL, 0), -1);
	assert_int_equal(jmp_encode_request(buf, 9, "ping", NULL, 0), 8);
}

static void roundtrip_all_bytes(void **state)
{
	(void)state;
	char raw[256], enc[1024], line[2048];
	struct jmp_response r;

	/* Every ASCII byte but NUL, then UTF-8 up to 4 bytes a character. */
	size_t n = 0;
	for (int i = 1; i < 128; i++)
		raw[n++] = (char)i;
	memcpy(raw + n, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
	n += 9;
	raw[n] = '\0';
	assert_true(jmp_pct_encode(enc, sizeof(enc), raw, n) > 0);
	snprintf(line, sizeof(line), "v1 deny reason=%s mode=offline\n", enc);
	assert_int_equal(parse(line, &r), JMP_OK);
	assert_int_equal(r.status, JMP_STATUS_DENY);
	assert_true(r.has_reason);
	assert_string_equal(r.reason, raw);
	assert_string_equal(r.mode, "offline");

	/* Lower-case hex is accepted on input. */
	assert_int_equal(parse("v1 deny reason=%c3%a9%2f\n", &r), JMP_OK);
	assert_string_equal(r.reason, "\xc3\xa9/");
}

static void parse_statuses(void **state)
{
	(void)state;
	struct jmp_response r;

	assert_int_equal(parse("v1 allow\n", &r), JMP_OK);
	assert_int_equal(r.status, JMP_STATUS_ALLOW);
	assert_false(r.has_reason);
	assert_false(r.has_mode);

	assert_int_equal(parse("v1 allow mode=online uid=200001\n", &r), JMP_OK);
	assert_string_equal(r.mode, "online");
	assert_string_equal(r.uid, "200001");

	assert_int_equal(
		parse("v1 deny reason=no%20login%20right%20for%20alice%20on%20web-01 mode=online\n",
		      &r),
		0);
	assert_int_equal(r.status, JMP_STATUS_DENY);
	assert_string_equal(r.reason, "no login right for alice on web-01");

	assert_int_equal(parse("v1 error code=forbidden reason=\n", &r), JMP_OK);
	assert_int_equal(r.status, JMP_STATUS_ERROR);
	assert_string_equal(r.code, "forbidden");
	assert_true(r.has_reason);
	assert_string_equal(r.reason, "");

	assert_int_equal(parse("v1 pong version=1.2.3 mode=default\n", &r), JMP_OK);
	assert_int_equal(r.status, JMP_STATUS_PONG);
	assert_string_equal(r.version, "1.2.3");

	/* An error without a code is still an error (pam_jmp denies it). */
	assert_int_equal(parse("v1 error reason=no%20code\n", &r), JMP_OK);
	assert_int_equal(r.status, JMP_STATUS_ERROR);
	assert_false(r.has_code);

	assert_int_equal(parse("v1 ticket ticket=abc hostname=web-02\n", &r), JMP_OK);
	assert_int_equal(r.status, JMP_STATUS_TICKET);

	/* Unknown keys are ignored, but still validated. */
	assert_int_equal(parse("v1 allow future_key=x%41 mode=online\n", &r), JMP_OK);
	assert_int_equal(parse("v1 allow future_key=%zz\n", &r), JMP_ERR_BAD_ESCAPE);

	/* Keys a status does not define are unknown keys for it. */
	assert_int_equal(parse("v1 deny uid=5 code=x version=y\n", &r), JMP_OK);
	assert_false(r.has_uid || r.has_code || r.has_version);

	/* An unknown mode is dropped, like an unknown key. */
	assert_int_equal(parse("v1 allow mode=sideways\n", &r), JMP_OK);
	assert_false(r.has_mode);
	assert_string_equal(r.mode, "");

	/* Many fields are fine (only the line length bounds them). */
	char many[4096] = "v1 allow";
	for (int i = 0; i < 300; i++) {
		char f[16];
		snprintf(f, sizeof(f), " k%d=", i);
		strcat(many, f);
	}
	strcat(many, "\n");
	assert_int_equal(parse(many, &r), JMP_OK);
	many[strlen(many) - 1] = '\0';
	strcat(many, " k299=\n");
	assert_int_equal(parse(many, &r), JMP_ERR_DUP_KEY);
}

/* One malformed line per check, each refused with its own code. */
static const struct {
	const char *line;
	int err;
} bad_lines[] = {
	{"", JMP_ERR_NO_NEWLINE},
	{"v1 allow mode=online", JMP_ERR_NO_NEWLINE},
	{"v1 allow\r\n", JMP_ERR_BAD_BYTE},
	{"v1 allow mode=online\r\n", JMP_ERR_BAD_BYTE},
	{"v1 allow mode=on\rline\n", JMP_ERR_BAD_BYTE},
	{"v1 allow\nv1 deny\n", JMP_ERR_BAD_BYTE},
	{"v1 allow mode=on\nline\n", JMP_ERR_BAD_BYTE},
	{"v1 allow\tmode=online\n", JMP_ERR_BAD_BYTE},
	{"v1 deny reason=\xc3\xa9\n", JMP_ERR_BAD_BYTE},
	{"v1 deny reason=a\x7f\n", JMP_ERR_BAD_BYTE},
	{"\n", JMP_ERR_BAD_VERSION},
	{"allow\n", JMP_ERR_BAD_VERSION},
	{"v2 allow\n", JMP_ERR_BAD_VERSION},
	{"V1 allow\n", JMP_ERR_BAD_VERSION},
	{" v1 allow\n", JMP_ERR_BAD_VERSION},
	{"v10 allow\n", JMP_ERR_BAD_VERSION},
	{"v1\n", JMP_ERR_BAD_WORD},
	{"v1 \n", JMP_ERR_BAD_WORD},
	{"v1  allow\n", JMP_ERR_BAD_WORD},
	{"v1 Allow\n", JMP_ERR_BAD_WORD},
	{"v1 allow-all\n", JMP_ERR_BAD_WORD},
	{"v1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", JMP_ERR_BAD_WORD},
	{"v1 maybe\n", JMP_ERR_UNKNOWN_STATUS},
	{"v1 auth user=alice\n", JMP_ERR_UNKNOWN_STATUS},
	{"v1 allow \n", JMP_ERR_EMPTY_FIELD},
	{"v1 allow  mode=online\n", JMP_ERR_EMPTY_FIELD},
	{"v1 allow mode=online \n", JMP_ERR_EMPTY_FIELD},
	{"v1 deny mode\n", JMP_ERR_NO_EQUALS},
	{"v1 deny reason=a b\n", JMP_ERR_NO_EQUALS},
	{"v1 deny =x\n", JMP_ERR_BAD_KEY},
	{"v1 deny Mode=x\n", JMP_ERR_BAD_KEY},
	{"v1 deny m-ode=x\n", JMP_ERR_BAD_KEY},
	{"v1 deny aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=x\n", JMP_ERR_BAD_KEY},
	{"v1 deny reason=x reason=y\n", JMP_ERR_DUP_KEY},
	{"v1 deny foo=1 foo=2\n", JMP_ERR_DUP_KEY},
	{"v1 deny foo=1 bar=2 foo=3\n", JMP_ERR_DUP_KEY},
	{"v1 deny reason=a=b\n", JMP_ERR_BAD_VALUE_CHAR},
	{"v1 deny reason=a+b\n", JMP_ERR_BAD_VALUE_CHAR},
	{"v1 deny reason=a/b\n", JMP_ERR_BAD_VALUE_CHAR},
	{"v1 deny reason=%\n", JMP_ERR_BAD_ESCAPE},
	{"v1 deny reason=%4\n", JMP_ERR_BAD_ESCAPE},
	{"v1 deny reason=%4g\n", JMP_ERR_BAD_ESCAPE},
	{"v1 deny reason=%G1\n", JMP_ERR_BAD_ESCAPE},
	{"v1 deny reason=abc%\n", JMP_ERR_BAD_ESCAPE},
	{"v1 deny reason=%%20\n", JMP_ERR_BAD_ESCAPE},
	{"v1 deny reason=%00\n", JMP_ERR_DECODED_NUL},
	{"v1 deny foo=a%00b\n", JMP_ERR_DECODED_NUL},
	{"v1 deny reason=%FF\n", JMP_ERR_BAD_UTF8},
	{"v1 deny reason=%C3\n", JMP_ERR_BAD_UTF8},	     /* truncated */
	{"v1 deny reason=%C0%AF\n", JMP_ERR_BAD_UTF8},	     /* overlong */
	{"v1 deny reason=%ED%A0%80\n", JMP_ERR_BAD_UTF8},    /* surrogate */
	{"v1 deny reason=%F4%90%80%80\n", JMP_ERR_BAD_UTF8}, /* > U+10FFFF */
	{"v1 deny foo=%80\n", JMP_ERR_BAD_UTF8},	     /* unknown keys too */
	{"v1 allow uid=0000000000000000000000000000000000000000000000000000000000000001\n",
	 JMP_ERR_VALUE_TOO_LONG},
	{"v1 error code=internalinternalinternalinternalinternalinternalinternalinternal\n",
	 JMP_ERR_VALUE_TOO_LONG},
	{"v1 ticket hostname=web-02\n", JMP_ERR_MISSING_FIELD},
	{"v1 ticket ticket=\n", JMP_ERR_MISSING_FIELD},
};

static void parse_malformed(void **state)
{
	(void)state;
	struct jmp_response r;

	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		int rc = parse(bad_lines[i].line, &r);
		if (rc != bad_lines[i].err)
			fail_msg("line #%zu \"%s\": got %s (%d), want %s (%d)", i,
				 bad_lines[i].line, jmp_err_name(rc), rc,
				 jmp_err_name(bad_lines[i].err), bad_lines[i].err);
		assert_int_equal(r.status, 0); /* nothing half-parsed is left */
	}

	/* A raw NUL inside the line. */
	static const char nul[] = "v1 allow mode=on\0line\n";
	assert_int_equal(jmp_parse_response(nul, sizeof(nul) - 1, &r), JMP_ERR_BAD_BYTE);

	/* Key of exactly 32 characters is fine, and a short value of 63 bytes. */
	assert_int_equal(parse("v1 deny aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=x\n", &r), JMP_OK);
	char uid63[128];
	snprintf(uid63, sizeof(uid63), "v1 allow uid=%063d\n", 7);
	assert_int_equal(parse(uid63, &r), JMP_OK);
	assert_int_equal(strlen(r.uid), 63);

	/* Too long: 8193 bytes including '\n'. */
	static char big[JMP_LINE_MAX + 2];
	strcpy(big, "v1 deny reason=");
	size_t n = strlen(big);
	memset(big + n, 'a', JMP_LINE_MAX - n);
	big[JMP_LINE_MAX] = '\n';
	big[JMP_LINE_MAX + 1] = '\0';
	assert_int_equal(jmp_parse_response(big, JMP_LINE_MAX + 1, &r), JMP_ERR_TOO_LONG);
	/* 8192 exactly is accepted. */
	big[JMP_LINE_MAX - 1] = '\n';
	assert_int_equal(jmp_parse_response(big, JMP_LINE_MAX, &r), JMP_OK);
	assert_int_equal(strlen(r.reason), JMP_LINE_MAX - 1 - n);

	assert_int_equal(jmp_parse_response(NULL, 3, &r), JMP_ERR_INVALID_ARG);
	assert_int_equal(jmp_parse_response("v1 allow\n", 9, NULL), JMP_ERR_INVALID_ARG);
}

/* Every code has a name and a sentence, and a malformed line above. */
static void every_error_named(void **state)
{
	(void)state;
	for (int err = JMP_ERR_TOO_LONG; err >= JMP_ERR_MISSING_FIELD; err--) {
		int covered = 0;
		for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++)
			covered |= bad_lines[i].err == err;
		if (!covered && err != JMP_ERR_TOO_LONG)
			fail_msg("no malformed line tests %s", jmp_err_name(err));
		assert_string_not_equal(jmp_err_name(err), "unknown");
		assert_string_not_equal(jmp_strerror(err), "unknown error");
		for (int other = JMP_ERR_TOO_LONG; other > err; other--)
			assert_string_not_equal(jmp_strerror(err), jmp_strerror(other));
	}
	assert_string_equal(jmp_strerror(-1000), "unknown error");
	assert_string_equal(jmp_err_name(-1000), "unknown");
}

static void sanitize(void **state)
{
	(void)state;
	char out[16];
	jmp_sanitize_text(out, sizeof(out), "a\x1b[31mb\nc\x7f");
	assert_string_equal(out, "a?[31mb?c?");
	jmp_sanitize_text(out, 4, "abcdef");
	assert_string_equal(out, "abc");
	jmp_sanitize_text(out, sizeof(out), NULL);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encode_basic),
		cmocka_unit_test(encode_rejects),
		cmocka_unit_test(roundtrip_all_bytes),
		cmocka_unit_test(parse_statuses),
		cmocka_unit_test(parse_malformed),
		cmocka_unit_test(every_error_named),
		cmocka_unit_test(sanitize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
