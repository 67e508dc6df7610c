/* Socket I/O with the agent: answers, deadline, absent agent, bad answers. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent_client.h"
#include "responder.h"

static const struct jmp_field fields[] = {
	{"user", "alice"},
	{"service", "sshd"},
	{"ticket", "secret t"},
};

static enum jmp_call_result ask(const char *path, int timeout, struct jmp_response *r)
{
	return jmp_agent_ask(path, timeout, "auth", fields, 3, r, NULL);
}

static void allow(void **state)
{
	(void)state;
	struct responder s;
	struct jmp_response r;
	char req[256];

	assert_int_equal(responder_start(&s, RESPOND_REPLY, "v1 allow mode=online\n"), 0);
	assert_int_equal(ask(s.path, 1000, &r), JMP_CALL_OK);
	assert_int_equal(r.status, JMP_STATUS_ALLOW);
	assert_string_equal(r.mode, "online");
	responder_last(&s, req, sizeof(req));
	assert_string_equal(req, "v1 auth user=alice service=sshd ticket=secret%20t\n");
	responder_stop(&s);
}

static void deny_with_reason(void **state)
{
	(void)state;
	struct responder s;
	struct jmp_response r;

	assert_int_equal(responder_start(&s, RESPOND_REPLY,
					 "v1 deny reason=no%20login%20right mode=offline\n"),
			 0);
	assert_int_equal(ask(s.path, 1000, &r), JMP_CALL_OK);
	assert_int_equal(r.status, JMP_STATUS_DENY);
	assert_string_equal(r.reason, "no login right");
	responder_stop(&s);
}

static void deadline(void **state)
{
	(void)state;
	struct responder s;
	struct jmp_response r;

	assert_int_equal(responder_start(&s, RESPOND_SILENT, NULL), 0);
	long long t0 = test_now_ms();
	assert_int_equal(ask(s.path, 300, &r), JMP_CALL_TIMEOUT);
	long long dt = test_now_ms() - t0;
	assert_true(dt >= 295);
	assert_true(dt <= 300 + (getenv("JMP_TEST_SLOW") ? 700 : 150));
	assert_int_equal(responder_count(&s), 1); /* the request did arrive */
	responder_stop(&s);
}

static void deadline_backlog_full(void **state)
{
	(void)state;
	/* A listener that never accepts: once its backlog is full connect()
	 * would block; the deadline must still hold. */
	char dir[64];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct jmp_response r;
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0), fds[8], nf = 0;

	test_tmpdir(dir, sizeof(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 0), 0);
	for (; nf < 8; nf++) { /* fill the backlog */
		fds[nf] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (connect(fds[nf], (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			close(fds[nf]);
			break;
		}
	}
	long long t0 = test_now_ms();
	enum jmp_call_result res = ask(sa.sun_path, 200, &r);
	long long dt = test_now_ms() - t0;
	assert_int_equal(res, JMP_CALL_TIMEOUT);
	assert_true(dt <= 200 + (getenv("JMP_TEST_SLOW") ? 700 : 150));
	for (int i = 0; i < nf; i++)
		close(fds[i]);
	close(lfd);
	test_rmrf(dir);
}

static void absent(void **state)
{
	(void)state;
	struct jmp_response r;
	char dir[64], path[100];

	assert_int_equal(ask("/nonexistent/jmp/agent.sock", 1000, &r), JMP_CALL_NO_AGENT);
	/* A socket file nobody listens on: connection refused. */
	test_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(ask(path, 1000, &r), JMP_CALL_NO_AGENT);
	test_rmrf(dir);
	/* Path too long for sun_path. */
	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(ask(longp, 1000, &r), JMP_CALL_NO_AGENT);
	assert_int_equal(ask("", 1000, &r), JMP_CALL_NO_AGENT);
}

static void bad_answers(void **state)
{
	(void)state;
	struct responder s;
	struct jmp_response r;

	static char big[JMP_LINE_MAX + 100];
	memset(big, 'a', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	assert_int_equal(responder_start(&s, RESPOND_REPLY, big), 0);
	assert_int_equal(ask(s.path, 1000, &r), JMP_CALL_TOO_LONG);
	responder_stop(&s);

	assert_int_equal(responder_start(&s, RESPOND_REPLY, "garbage\n"), 0);
	assert_int_equal(ask(s.path, 1000, &r), JMP_CALL_BAD_RESPONSE);
	responder_stop(&s);

	/* The caller learns which check the line failed. */
	int perr = JMP_OK;
	const struct jmp_field f[] = {{"user", "alice"}};
	assert_int_equal(responder_start(&s, RESPOND_REPLY, "v1 deny mode=online mode=offline\n"),
			 0);
	assert_int_equal(jmp_agent_ask(s.path, 1000, "auth", f, 1, &r, &perr),
			 JMP_CALL_BAD_RESPONSE);
	assert_int_equal(perr, JMP_ERR_DUP_KEY);
	responder_stop(&s);

	assert_int_equal(responder_start(&s, RESPOND_REPLY, "v1 allow"), 0); /* no '\n' */
	assert_int_equal(ask(s.path, 1000, &r), JMP_CALL_IO);
	responder_stop(&s);

	assert_int_equal(responder_start(&s, RESPOND_CLOSE, NULL), 0);
	assert_int_equal(ask(s.path, 1000, &r), JMP_CALL_IO);
	responder_stop(&s);

	/* Only the first line counts. */
	assert_int_equal(responder_start(&s, RESPOND_REPLY, "v1 deny\nv1 allow\n"), 0);
	assert_int_equal(ask(s.path, 1000, &r), JMP_CALL_OK);
	assert_int_equal(r.status, JMP_STATUS_DENY);
	responder_stop(&s);
}

static void bad_request(void **state)
{
	(void)state;
	struct jmp_response r;
	static char huge[JMP_LINE_MAX];
	memset(huge, 'x', sizeof(huge) - 1);
	const struct jmp_field f[] = {{"ticket", huge}};
	assert_int_equal(jmp_agent_ask("/nonexistent", 100, "auth", f, 1, &r, NULL),
			 JMP_CALL_BAD_REQUEST);
}

static void no_sigpipe(void **state)
{
	(void)state;
	/* The agent closes before reading a large request: no SIGPIPE. */
	struct responder s;
	struct jmp_response r;
	static char v[3000];
	memset(v, '%', sizeof(v) - 1); /* encodes to ~9000 bytes: too long */
	memset(v, 'y', 2000);
	v[2700] = '\0';
	const struct jmp_field f[] = {{"ticket", v}};
	signal(SIGPIPE, SIG_DFL);
	assert_int_equal(responder_start(&s, RESPOND_CLOSE, NULL), 0);
	enum jmp_call_result res = jmp_agent_ask(s.path, 1000, "auth", f, 1, &r, NULL);
	assert_true(res == JMP_CALL_IO);
	responder_stop(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(allow),       cmocka_unit_test(deny_with_reason),
		cmocka_unit_test(deadline),    cmocka_unit_test(deadline_backlog_full),
		cmocka_unit_test(absent),      cmocka_unit_test(bad_answers),
		cmocka_unit_test(bad_request), cmocka_unit_test(no_sigpipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
