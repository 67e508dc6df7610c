/* Protocol encoder/decoder: round trips and malformed input. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_client.h"

static int parse(const char *s, struct jmp_response *r)
{
	return jmp_parse_response(s, strlen(s), r);
}

static void encode_basic(void **state)
{
	(void)state;
	char buf[JMP_LINE_MAX + 1];
	const struct jmp_field f[] = {
		{ "user", "alice" }, { "service", "sshd" }, { "rhost", NULL },
		{ "tty", "" }, { "ticket", "a b=c%d/e~f.g-h_i\n\xc3\xa9" },
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
	const struct jmp_field bad_key[] = { { "User", "x" } };
	const struct jmp_field long_key[] = { { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "x" } };
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
	const struct jmp_field f[] = { { "ticket", v } };
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

	for (int i = 1; i < 256; i++)
		raw[i - 1] = (char)i;
	raw[255] = '\0';
	assert_true(jmp_pct_encode(enc, sizeof(enc), raw, 255) > 0);
	snprintf(line, sizeof(line), "v1 deny reason=%s mode=offline\n", enc);
	assert_int_equal(parse(line, &r), 0);
	assert_int_equal(r.status, JMP_STATUS_DENY);
	assert_true(r.has_reason);
	assert_string_equal(r.reason, raw);
	assert_string_equal(r.mode, "offline");

	/* Lower-case hex is accepted on input. */
	assert_int_equal(parse("v1 deny reason=%c3%a9%2f\n", &r), 0);
	assert_string_equal(r.reason, "\xc3\xa9/");
}

static void parse_statuses(void **state)
{
	(void)state;
	struct jmp_response r;

	assert_int_equal(parse("v1 allow\n", &r), 0);
	assert_int_equal(r.status, JMP_STATUS_ALLOW);
	assert_false(r.has_reason);
	assert_false(r.has_mode);

	assert_int_equal(parse("v1 allow mode=online\n", &r), 0);
	assert_string_equal(r.mode, "online");

	assert_int_equal(parse("v1 deny reason=no%20login%20right%20for%20alice%20on%20web-01 mode=online\n", &r), 0);
	assert_int_equal(r.status, JMP_STATUS_DENY);
	assert_string_equal(r.reason, "no login right for alice on web-01");

	assert_int_equal(parse("v1 error code=forbidden reason=\n", &r), 0);
	assert_int_equal(r.status, JMP_STATUS_ERROR);
	assert_string_equal(r.code, "forbidden");
	assert_true(r.has_reason);
	assert_string_equal(r.reason, "");

	assert_int_equal(parse("v1 pong version=1.2.3 mode=default\n", &r), 0);
	assert_int_equal(r.status, JMP_STATUS_PONG);
	assert_string_equal(r.version, "1.2.3");

	/* Unknown keys are ignored, but still validated. */
	assert_int_equal(parse("v1 allow future_key=x%41 mode=online\n", &r), 0);
	assert_int_equal(parse("v1 allow future_key=%zz\n", &r), -1);
}

static void parse_malformed(void **state)
{
	(void)state;
	struct jmp_response r;
	static const char *bad[] = {
		"",
		"\n",
		"allow\n",
		"v1\n",
		"v1 \n",
		"v2 allow\n",
		"V1 allow\n",
		" v1 allow\n",
		"v1  allow\n",
		"v1 allow \n",
		"v1 allow  mode=online\n",
		"v1 allow mode=online \n",
		"v1 maybe\n",           /* unknown status */
		"v1 Allow\n",
		"v1 allow\r\n",         /* \r before \n */
		"v1 allow mode=online\r\n",
		"v1 allow mode=on\rline\n",
		"v1 allow mode=online",  /* no newline */
		"v1 allow\nv1 deny\n",   /* two lines */
		"v1 allow mode=on\nline\n",
		"v1 deny reason=%\n",    /* bad escapes */
		"v1 deny reason=%4\n",
		"v1 deny reason=%4g\n",
		"v1 deny reason=%G1\n",
		"v1 deny reason=abc%\n",
		"v1 deny reason=%00\n",  /* decoded NUL */
		"v1 deny reason=a b\n",  /* bare space in value -> field without = */
		"v1 deny reason=a=b\n",
		"v1 deny reason=a+b\n",  /* '+' is not unreserved */
		"v1 deny reason=\xc3\xa9\n", /* raw non-ASCII */
		"v1 deny reason=x reason=y\n", /* duplicate key */
		"v1 deny foo=1 foo=2\n",       /* duplicate unknown key */
		"v1 deny mode\n",              /* field without '=' */
		"v1 deny =x\n",                /* empty key */
		"v1 deny Mode=x\n",            /* upper-case key */
		"v1 deny m-ode=x\n",
		"v1 deny aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=x\n", /* key > 32 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &r) != -1)
			fail_msg("accepted malformed line #%zu: %s", i, bad[i]);
	}

	/* A raw NUL inside the line. */
	static const char nul[] = "v1 allow mode=on\0line\n";
	assert_int_equal(jmp_parse_response(nul, sizeof(nul) - 1, &r), -1);

	/* Key of exactly 32 characters is fine. */
	assert_int_equal(parse("v1 deny aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=x\n", &r), 0);

	/* Too long: 8193 bytes including '\n'. */
	static char big[JMP_LINE_MAX + 2];
	strcpy(big, "v1 deny reason=");
	size_t n = strlen(big);
	memset(big + n, 'a', JMP_LINE_MAX - n);
	big[JMP_LINE_MAX] = '\n';
	big[JMP_LINE_MAX + 1] = '\0';
	assert_int_equal(jmp_parse_response(big, JMP_LINE_MAX + 1, &r), -1);
	/* 8192 exactly is accepted. */
	big[JMP_LINE_MAX - 1] = '\n';
	assert_int_equal(jmp_parse_response(big, JMP_LINE_MAX, &r), 0);
	assert_int_equal(strlen(r.reason), JMP_LINE_MAX - 1 - n);

	/* A known short field that does not fit its buffer is an error. */
	char longmode[200];
	snprintf(longmode, sizeof(longmode), "v1 allow mode=%0100d\n", 0);
	assert_int_equal(parse(longmode, &r), -1);

	/* Too many fields. */
	char many[4096] = "v1 allow";
	for (int i = 0; i < JMP_RESP_FIELDS_MAX + 1; i++) {
		char f[16];
		snprintf(f, sizeof(f), " k%d=", i);
		strcat(many, f);
	}
	strcat(many, "\n");
	assert_int_equal(parse(many, &r), -1);
	assert_int_equal(jmp_parse_response(NULL, 3, &r), -1);
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
		cmocka_unit_test(sanitize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
