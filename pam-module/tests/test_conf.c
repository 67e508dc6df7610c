/* Config files and module arguments. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_socket.h"
#include "conf.h"
#include "responder.h"

static char logbuf[8192];

static void logcb(void *ctx, int prio, const char *msg)
{
	(void)ctx;
	(void)prio;
	strncat(logbuf, msg, sizeof(logbuf) - strlen(logbuf) - 2);
	strcat(logbuf, "\n");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void pam_file_and_args(void **state)
{
	(void)state;
	char dir[64], path[128], arg[160];
	struct jmp_pam_conf c;

	test_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/pam.conf", dir);
	write_file(path, "# comment\n\n  socket = /tmp/a.sock  \n"
			 "timeout_ms=250\nfail_mode = ignore\ncolour = blue\n"
			 "debug = yes\nnot a setting\n");
	logbuf[0] = '\0';
	snprintf(arg, sizeof(arg), "conf=%s", path);
	const char *argv1[] = {arg};
	jmp_pam_conf_from_args(&c, 1, argv1, logcb, NULL);
	assert_string_equal(c.socket, "/tmp/a.sock");
	assert_int_equal(c.timeout_ms, 250);
	assert_int_equal(c.fail_mode, JMP_FAIL_IGNORE);
	assert_int_equal(c.debug, 1);
	assert_non_null(strstr(logbuf, "unknown setting 'colour'"));
	assert_non_null(strstr(logbuf, "malformed line"));

	/* Arguments override the file. */
	const char *argv2[] = {"fail_mode=allow", arg, "timeout_ms=99", "socket=/x/y"};
	jmp_pam_conf_from_args(&c, 4, argv2, logcb, NULL);
	assert_int_equal(c.fail_mode, JMP_FAIL_ALLOW);
	assert_int_equal(c.timeout_ms, 99);
	assert_string_equal(c.socket, "/x/y");

	/* Bad values keep the defaults and are logged. */
	write_file(path, "socket = relative\ntimeout_ms = 12abc\nfail_mode = maybe\n"
			 "debug = perhaps\ntimeout_ms = 0\ntimeout_ms=-5\n");
	logbuf[0] = '\0';
	const char *argv3[] = {arg, "timeout_ms=99999999999"};
	jmp_pam_conf_from_args(&c, 2, argv3, logcb, NULL);
	assert_string_equal(c.socket, JMP_DEFAULT_SOCKET);
	assert_int_equal(c.timeout_ms, JMP_DEFAULT_TIMEOUT_MS);
	assert_int_equal(c.fail_mode, JMP_FAIL_DENY);
	assert_int_equal(c.debug, 0);
	assert_non_null(strstr(logbuf, "bad socket"));
	assert_non_null(strstr(logbuf, "bad timeout_ms"));
	assert_non_null(strstr(logbuf, "bad fail_mode"));

	/* Bare "debug" argument; missing explicit conf file is logged. */
	logbuf[0] = '\0';
	const char *argv4[] = {"debug", "conf=/nonexistent/pam.conf"};
	jmp_pam_conf_from_args(&c, 2, argv4, logcb, NULL);
	assert_int_equal(c.debug, 1);
	assert_non_null(strstr(logbuf, "cannot read /nonexistent/pam.conf"));

	/* Overlong line is skipped, the next one still read. */
	char *big = malloc(10000);
	assert_non_null(big);
	memset(big, 'x', 9000);
	strcpy(big + 9000, "\nfail_mode = allow\n");
	write_file(path, big);
	free(big);
	const char *argv5[] = {arg};
	jmp_pam_conf_from_args(&c, 1, argv5, logcb, NULL);
	assert_int_equal(c.fail_mode, JMP_FAIL_ALLOW);
	test_rmrf(dir);
}

static void nss_file(void **state)
{
	(void)state;
	char dir[64], path[128];
	struct jmp_nss_conf c;

	assert_int_equal(jmp_nss_conf_load(&c, "/nonexistent/nss.conf"), -1);
	assert_string_equal(c.passwd, JMP_NSS_PASSWD_PATH);
	assert_string_equal(c.group, JMP_NSS_GROUP_PATH);
	assert_int_equal(c.enumerate, 0);

	test_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/nss.conf", dir);
	write_file(path, "passwd = /a/passwd\ngroup=/a/group\nenumerate = yes\n");
	assert_int_equal(jmp_nss_conf_load(&c, path), 0);
	assert_string_equal(c.passwd, "/a/passwd");
	assert_string_equal(c.group, "/a/group");
	assert_int_equal(c.enumerate, 1);

	write_file(path, "passwd = relative\nenumerate = maybe\n");
	assert_int_equal(jmp_nss_conf_load(&c, path), 0);
	assert_string_equal(c.passwd, JMP_NSS_PASSWD_PATH);
	assert_int_equal(c.enumerate, 0);
	test_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pam_file_and_args),
		cmocka_unit_test(nss_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
