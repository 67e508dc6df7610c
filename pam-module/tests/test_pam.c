/* pam_jmp.so driven through the real libpam (pam_start_confdir) against a
 * fake agent. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "responder.h"

#define TICKET "T0PSECRET-ticket-9f8e7d"

static char confdir[64];

/* ---- conversation: answers the ticket prompt, records everything ---- */

struct convlog {
	int prompts;
	char prompt[128];
	char info[1024];
	const char *answer;
};

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct convlog *c = data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			c->prompts++;
			snprintf(c->prompt, sizeof(c->prompt), "%s", msg[i]->msg);
			r[i].resp = c->answer ? strdup(c->answer) : NULL;
			break;
		case PAM_TEXT_INFO:
			strncat(c->info, msg[i]->msg, sizeof(c->info) - strlen(c->info) - 2);
			strcat(c->info, "\n");
			break;
		default:
			break;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static void write_service(const char *service, const char *args, const char *after)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", confdir, service);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "auth [success=done ignore=ignore default=die] %s %s\n", JMP_PAM_MODULE, args);
	if (after != NULL)
		fprintf(f, "auth required %s\n", after);
	fprintf(f, "account required %s %s\n", JMP_PAM_MODULE, args);
	fprintf(f, "session required %s %s\n", JMP_PAM_MODULE, args);
	fclose(f);
}

struct run {
	const char *service, *user, *ruser, *rhost, *tty;
	const char *args;
	const char *after; /* a module after pam_jmp in auth, to see PAM_IGNORE */
	struct convlog conv;
};

enum stage { AUTH, ACCOUNT, SESSION };

static int run_pam(struct run *r, enum stage st)
{
	pam_handle_t *pamh = NULL;
	struct pam_conv pc = {conv, &r->conv};
	int rc;

	write_service(r->service, r->args, r->after);
	if (r->conv.answer == NULL)
		r->conv.answer = TICKET;
	rc = pam_start_confdir(r->service, r->user, &pc, confdir, &pamh);
	assert_int_equal(rc, PAM_SUCCESS);
	pam_set_item(pamh, PAM_RHOST, r->rhost);
	pam_set_item(pamh, PAM_TTY, r->tty);
	if (r->ruser != NULL)
		pam_set_item(pamh, PAM_RUSER, r->ruser);
	switch (st) {
	case AUTH:
		rc = pam_authenticate(pamh, 0);
		break;
	case ACCOUNT:
		rc = pam_acct_mgmt(pamh, 0);
		break;
	case SESSION:
		rc = pam_open_session(pamh, 0);
		if (rc == PAM_SUCCESS)
			rc = pam_close_session(pamh, 0);
		break;
	}
	pam_end(pamh, rc);
	return rc;
}

static char args[512];

static const char *mkargs(const char *sock, const char *extra)
{
	/* An empty config file of our own, so /etc/jmp/pam.conf cannot interfere. */
	char conf[128];
	snprintf(conf, sizeof(conf), "%s/pam.conf", confdir);
	FILE *f = fopen(conf, "w");
	if (f)
		fclose(f);
	/* The NSS cache the account step reads: ours (no passwd file unless a test
	 * writes one), never the host's. */
	char nss[128];
	snprintf(nss, sizeof(nss), "%s/nss.conf", confdir);
	f = fopen(nss, "w");
	if (f) {
		fprintf(f, "passwd = %s/passwd\ngroup = %s/group\n", confdir, confdir);
		fclose(f);
	}
	snprintf(args, sizeof(args), "socket=%s timeout_ms=300 conf=%s nss_conf=%s %s", sock, conf,
		 nss, extra ? extra : "");
	return args;
}

static void auth_allow(void **state)
{
	(void)state;
	struct responder s;
	char req[1024];
	assert_int_equal(responder_start(&s, RESPOND_REPLY, "v1 allow mode=online\n"), 0);
	struct run r = {.service = "jmp-sshd",
			.user = "alice",
			.rhost = "10.231.0.1",
			.tty = "ssh",
			.args = mkargs(s.path, NULL)};
	assert_int_equal(run_pam(&r, AUTH), PAM_SUCCESS);
	assert_int_equal(r.conv.prompts, 1);
	assert_string_equal(r.conv.prompt, "jmp ticket: ");
	responder_last(&s, req, sizeof(req));
	assert_string_equal(req, "v1 auth user=alice service=jmp-sshd rhost=10.231.0.1 tty=ssh "
				 "ticket=" TICKET "\n");
	responder_stop(&s);
}

static void auth_deny_reason(void **state)
{
	(void)state;
	struct responder s;
	assert_int_equal(
		responder_start(
			&s, RESPOND_REPLY,
			"v1 deny reason=no%20login%20right%20for%20alice%20on%20web-01%1B%5B2J mode=online\n"),
		0);
	struct run r = {.service = "sshd",
			.user = "alice",
			.rhost = "10.231.0.1",
			.tty = "ssh",
			.args = mkargs(s.path, NULL)};
	assert_int_equal(run_pam(&r, AUTH), PAM_AUTH_ERR);
	/* The reason reached the user, with the escape sequence defused. */
	assert_string_equal(r.conv.info, "no login right for alice on web-01?[2J\n");
	responder_stop(&s);
}

static void auth_agent_error(void **state)
{
	(void)state;
	struct responder s;
	assert_int_equal(responder_start(&s, RESPOND_REPLY, "v1 error code=forbidden reason=x\n"),
			 0);
	struct run r = {
		.service = "sshd", .user = "alice", .args = mkargs(s.path, "fail_mode=allow")};
	/* The agent answered: fail mode does not apply. */
	assert_int_equal(run_pam(&r, AUTH), PAM_AUTH_ERR);
	responder_stop(&s);
}

/* "internal" is the agent saying it could not answer (busy, failed): like an
 * unreachable agent, the fail mode decides. A complaint about the request
 * itself still denies under every fail mode. */
static void agent_busy_is_unreachable(void **state)
{
	(void)state;
	struct responder s;
	const char *after = "pam_debug.so auth=perm_denied";
	assert_int_equal(responder_start(&s, RESPOND_REPLY,
					 "v1 error code=internal reason=the%20agent%20is%20busy\n"),
			 0);
	struct run r1 = {.service = "sshd",
			 .user = "alice",
			 .after = after,
			 .args = mkargs(s.path, "fail_mode=ignore")};
	assert_int_equal(run_pam(&r1, AUTH),
			 PAM_PERM_DENIED); /* PAM_IGNORE: the next module decided */
	struct run r2 = {.service = "sshd",
			 .user = "alice",
			 .after = after,
			 .args = mkargs(s.path, "fail_mode=deny")};
	assert_int_equal(run_pam(&r2, AUTH), PAM_AUTH_ERR);
	struct run r3 = {
		.service = "sshd", .user = "alice", .args = mkargs(s.path, "fail_mode=allow")};
	assert_int_equal(run_pam(&r3, AUTH), PAM_SUCCESS);
	struct run r4 = {.service = "sudo",
			 .user = "root",
			 .ruser = "alice",
			 .after = after,
			 .args = mkargs(s.path, "fail_mode=ignore")};
	assert_int_equal(run_pam(&r4, AUTH), PAM_PERM_DENIED);
	struct run a1 = {
		.service = "sshd", .user = "alice", .args = mkargs(s.path, "fail_mode=allow")};
	assert_int_equal(run_pam(&a1, ACCOUNT), PAM_SUCCESS);
	struct run a2 = {.service = "sshd", .user = "alice", .args = mkargs(s.path, NULL)};
	assert_int_equal(run_pam(&a2, ACCOUNT), PAM_PERM_DENIED);
	responder_stop(&s);

	const char *request_errors[] = {
		"v1 error code=bad_request reason=x\n",
		"v1 error code=too_long reason=x\n",
		"v1 error code=unknown_op reason=x\n",
		"v1 error reason=no%20code\n",
	};
	for (size_t i = 0; i < sizeof(request_errors) / sizeof(request_errors[0]); i++) {
		assert_int_equal(responder_start(&s, RESPOND_REPLY, request_errors[i]), 0);
		struct run r = {.service = "sshd",
				.user = "alice",
				.args = mkargs(s.path, "fail_mode=allow")};
		assert_int_equal(run_pam(&r, AUTH), PAM_AUTH_ERR);
		responder_stop(&s);
	}
}

/* An agent that closes the connection at once (over its limits) is an
 * unreachable agent too. */
static void agent_closes_at_once(void **state)
{
	(void)state;
	struct responder s;
	const char *after = "pam_debug.so auth=perm_denied";
	assert_int_equal(responder_start(&s, RESPOND_CLOSE, NULL), 0);
	struct run r1 = {.service = "sshd",
			 .user = "alice",
			 .after = after,
			 .args = mkargs(s.path, "fail_mode=ignore")};
	assert_int_equal(run_pam(&r1, AUTH), PAM_PERM_DENIED);
	struct run r2 = {.service = "sshd", .user = "alice", .args = mkargs(s.path, NULL)};
	assert_int_equal(run_pam(&r2, AUTH), PAM_AUTH_ERR);
	responder_stop(&s);
}

static void write_confdir_file(const char *name, const char *text)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/%s", confdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, 0644);
}

/* A jmp user never becomes a local account: when getpwnam gives a uid other
 * than the jmp uid (a local /etc/passwd entry shadows the name), the account
 * step denies, even if the agent said allow. */
static void account_local_shadow(void **state)
{
	(void)state;
	struct responder s;
	char reply[128], line[256];
	struct passwd *pw = getpwnam("nobody");
	assert_non_null(pw);
	uid_t local = pw->pw_uid;

	assert_int_equal(responder_start(&s, RESPOND_REPLY, "v1 allow mode=online uid=200001\n"),
			 0);
	struct run r = {.service = "sshd", .user = "nobody", .args = mkargs(s.path, NULL)};
	assert_int_equal(run_pam(&r, ACCOUNT), PAM_PERM_DENIED);
	assert_string_equal(r.conv.info, "local account nobody exists on this host\n");
	struct run r2 = {
		.service = "sshd", .user = "no-such-user-jmp", .args = mkargs(s.path, NULL)};
	assert_int_equal(run_pam(&r2, ACCOUNT), PAM_PERM_DENIED); /* does not resolve at all */
	responder_stop(&s);

	snprintf(reply, sizeof(reply), "v1 allow mode=online uid=%u\n", (unsigned)local);
	assert_int_equal(responder_start(&s, RESPOND_REPLY, reply), 0);
	struct run r3 = {.service = "sshd", .user = "nobody", .args = mkargs(s.path, NULL)};
	assert_int_equal(run_pam(&r3, ACCOUNT), PAM_SUCCESS);
	responder_stop(&s);

	assert_int_equal(responder_start(&s, RESPOND_REPLY, "v1 allow mode=online uid=-1\n"), 0);
	struct run r4 = {.service = "sshd", .user = "nobody", .args = mkargs(s.path, NULL)};
	assert_int_equal(run_pam(&r4, ACCOUNT), PAM_PERM_DENIED);
	responder_stop(&s);

	/* No uid in the answer (or no agent, fail_mode=allow): the agent's cache. */
	assert_int_equal(responder_start(&s, RESPOND_REPLY, "v1 allow mode=online\n"), 0);
	struct run r5 = {.service = "sshd", .user = "nobody", .args = mkargs(s.path, NULL)};
	assert_int_equal(run_pam(&r5, ACCOUNT), PAM_SUCCESS); /* no cache file: unknown to jmp */
	write_confdir_file("passwd", "nobody:*:200001:200001::/home/nobody:/bin/bash\n");
	struct run r6 = {.service = "sshd", .user = "nobody", .args = mkargs(s.path, NULL)};
	assert_int_equal(run_pam(&r6, ACCOUNT), PAM_PERM_DENIED);
	struct run r7 = {.service = "sshd",
			 .user = "nobody",
			 .args = mkargs("/nonexistent/a", "fail_mode=allow")};
	assert_int_equal(run_pam(&r7, ACCOUNT), PAM_PERM_DENIED);
	snprintf(line, sizeof(line), "nobody:*:%u:%u::/home/nobody:/bin/bash\n", (unsigned)local,
		 (unsigned)local);
	write_confdir_file("passwd", line);
	struct run r8 = {.service = "sshd", .user = "nobody", .args = mkargs(s.path, NULL)};
	assert_int_equal(run_pam(&r8, ACCOUNT), PAM_SUCCESS);
	char path[160];
	snprintf(path, sizeof(path), "%s/passwd", confdir);
	unlink(path);
	responder_stop(&s);
}

static void auth_timeout(void **state)
{
	(void)state;
	struct responder s;
	assert_int_equal(responder_start(&s, RESPOND_SILENT, NULL), 0);
	struct run r = {.service = "sshd", .user = "alice", .args = mkargs(s.path, NULL)};
	long long t0 = test_now_ms();
	assert_int_equal(run_pam(&r, AUTH), PAM_AUTH_ERR);
	long long dt = test_now_ms() - t0;
	assert_true(dt >= 295 && dt < 300 + (getenv("JMP_TEST_SLOW") ? 1500 : 300));
	responder_stop(&s);
}

static void auth_absent_fail_modes(void **state)
{
	(void)state;
	/* pam_debug after pam_jmp makes PAM_IGNORE visible as PAM_PERM_DENIED. */
	const char *after = "pam_debug.so auth=perm_denied";
	struct run r1 = {.service = "sshd",
			 .user = "alice",
			 .after = after,
			 .args = mkargs("/nonexistent/agent.sock", NULL)};
	assert_int_equal(run_pam(&r1, AUTH), PAM_AUTH_ERR);
	struct run r2 = {.service = "sshd",
			 .user = "alice",
			 .after = after,
			 .args = mkargs("/nonexistent/agent.sock", "fail_mode=deny")};
	assert_int_equal(run_pam(&r2, AUTH), PAM_AUTH_ERR);
	struct run r3 = {.service = "sshd",
			 .user = "alice",
			 .after = after,
			 .args = mkargs("/nonexistent/agent.sock", "fail_mode=ignore")};
	assert_int_equal(run_pam(&r3, AUTH), PAM_PERM_DENIED);
	struct run r4 = {.service = "sshd",
			 .user = "alice",
			 .after = after,
			 .args = mkargs("/nonexistent/agent.sock", "fail_mode=allow")};
	assert_int_equal(run_pam(&r4, AUTH), PAM_SUCCESS);
	/* Account stage under each mode. */
	struct run a1 = {
		.service = "sshd", .user = "alice", .args = mkargs("/nonexistent/a", NULL)};
	assert_int_equal(run_pam(&a1, ACCOUNT), PAM_PERM_DENIED);
	struct run a2 = {.service = "sshd",
			 .user = "alice",
			 .args = mkargs("/nonexistent/a", "fail_mode=allow")};
	assert_int_equal(run_pam(&a2, ACCOUNT), PAM_SUCCESS);
}

static void fail_mode_from_conf_file(void **state)
{
	(void)state;
	char conf[128], a[512];
	snprintf(conf, sizeof(conf), "%s/alt.conf", confdir);
	FILE *f = fopen(conf, "w");
	assert_non_null(f);
	fputs("socket = /nonexistent/agent.sock\nfail_mode = allow\ntimeout_ms = 200\n", f);
	fclose(f);
	snprintf(a, sizeof(a), "conf=%s", conf);
	struct run r = {.service = "sshd", .user = "alice", .args = a};
	assert_int_equal(run_pam(&r, AUTH), PAM_SUCCESS);
	/* A module argument overrides the file. */
	snprintf(a, sizeof(a), "conf=%s fail_mode=deny", conf);
	struct run r2 = {.service = "sshd", .user = "alice", .args = a};
	assert_int_equal(run_pam(&r2, AUTH), PAM_AUTH_ERR);
}

static void sudo_request(void **state)
{
	(void)state;
	struct responder s;
	char req[1024];
	assert_int_equal(responder_start(&s, RESPOND_REPLY, "v1 allow mode=offline\n"), 0);
	struct run r = {.service = "sudo",
			.user = "root",
			.ruser = "alice",
			.rhost = "10.1.1.1",
			.tty = "/dev/pts/3",
			.args = mkargs(s.path, NULL)};
	assert_int_equal(run_pam(&r, AUTH), PAM_SUCCESS);
	assert_int_equal(r.conv.prompts, 0); /* no ticket for sudo */
	responder_last(&s, req, sizeof(req));
	assert_string_equal(req,
			    "v1 sudo user=alice runas=root service=sudo tty=%2Fdev%2Fpts%2F3\n");

	/* Without PAM_RUSER: the real uid's name. */
	struct passwd *pw = getpwuid(getuid());
	assert_non_null(pw);
	char want[256];
	snprintf(want, sizeof(want), "v1 sudo user=%s runas=bob service=sudo-i\n", pw->pw_name);
	struct run r2 = {.service = "sudo-i", .user = "bob", .args = mkargs(s.path, NULL)};
	assert_int_equal(run_pam(&r2, AUTH), PAM_SUCCESS);
	responder_last(&s, req, sizeof(req));
	assert_string_equal(req, want);

	struct run r3 = {.service = "su-l",
			 .user = "root",
			 .ruser = "carol",
			 .tty = "pts/1",
			 .args = mkargs(s.path, NULL)};
	assert_int_equal(run_pam(&r3, AUTH), PAM_SUCCESS);
	responder_last(&s, req, sizeof(req));
	assert_string_equal(req, "v1 su user=carol runas=root service=su-l tty=pts%2F1\n");
	responder_stop(&s);

	assert_int_equal(
		responder_start(&s, RESPOND_REPLY, "v1 deny reason=no%20root mode=online\n"), 0);
	struct run r4 = {
		.service = "su", .user = "root", .ruser = "carol", .args = mkargs(s.path, NULL)};
	assert_int_equal(run_pam(&r4, AUTH), PAM_AUTH_ERR);
	assert_string_equal(r4.conv.info, "no root\n");
	responder_stop(&s);
}

static void account_and_session(void **state)
{
	(void)state;
	struct responder s;
	char req[1024], want[256];
	assert_int_equal(responder_start(&s, RESPOND_REPLY, "v1 deny reason=expired mode=online\n"),
			 0);
	struct run r = {.service = "sshd",
			.user = "alice",
			.rhost = "h",
			.tty = "ssh",
			.args = mkargs(s.path, NULL)};
	assert_int_equal(run_pam(&r, ACCOUNT), PAM_PERM_DENIED);
	responder_last(&s, req, sizeof(req));
	assert_string_equal(req, "v1 account user=alice service=sshd rhost=h tty=ssh\n");
	/* Sessions never fail, even on deny... */
	assert_int_equal(run_pam(&r, SESSION), PAM_SUCCESS);
	responder_last(&s, req, sizeof(req));
	snprintf(want, sizeof(want),
		 "v1 session_close user=alice service=sshd rhost=h tty=ssh pid=%ld\n",
		 (long)getpid());
	assert_string_equal(req, want);
	assert_int_equal(responder_count(&s), 3);
	responder_stop(&s);
	/* ...or without an agent, in deny mode. */
	struct run r2 = {
		.service = "sshd", .user = "alice", .args = mkargs("/nonexistent/a", NULL)};
	assert_int_equal(run_pam(&r2, SESSION), PAM_SUCCESS);
}

static void no_ticket(void **state)
{
	(void)state;
	struct responder s;
	assert_int_equal(responder_start(&s, RESPOND_REPLY, "v1 allow\n"), 0);
	struct run r = {
		.service = "sshd", .user = "alice", .args = mkargs(s.path, "fail_mode=allow")};
	r.conv.answer = ""; /* an empty ticket is still sent: the agent decides */
	assert_int_equal(run_pam(&r, AUTH), PAM_SUCCESS); /* agent decides on "" */
	char req[256];
	responder_last(&s, req, sizeof(req));
	assert_string_equal(req, "v1 auth user=alice service=sshd ticket=\n");
	/* A ticket too long to send is denied locally, whatever the fail mode. */
	char *huge = malloc(9000);
	assert_non_null(huge);
	memset(huge, 'A', 8999);
	huge[8999] = '\0';
	struct run r2 = {
		.service = "sshd", .user = "alice", .args = mkargs(s.path, "fail_mode=allow")};
	r2.conv.answer = huge;
	assert_int_equal(run_pam(&r2, AUTH), PAM_AUTH_ERR);
	free(huge);
	responder_stop(&s);
}

/* The ticket must never reach the logs, even with debug on. */
static void ticket_not_logged(void **state)
{
	(void)state;
	char logpath[128];
	snprintf(logpath, sizeof(logpath), "%s/stderr.log", confdir);
	fflush(stderr);
	int saved = dup(2);
	int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);

	struct responder s;
	assert_int_equal(responder_start(&s, RESPOND_REPLY, "v1 allow mode=online\n"), 0);
	struct run r = {.service = "sshd", .user = "alice", .args = mkargs(s.path, "debug")};
	int rc1 = run_pam(&r, AUTH);
	responder_stop(&s);
	assert_int_equal(responder_start(&s, RESPOND_REPLY, "v1 deny reason=nope\n"), 0);
	struct run r2 = {.service = "sshd", .user = "alice", .args = mkargs(s.path, "debug")};
	int rc2 = run_pam(&r2, AUTH);
	responder_stop(&s);
	struct run r3 = {.service = "sshd",
			 .user = "alice",
			 .args = mkargs("/nonexistent/a", "debug fail_mode=ignore")};
	int rc3 = run_pam(&r3, AUTH);

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_int_equal(rc1, PAM_SUCCESS);
	assert_int_equal(rc2, PAM_AUTH_ERR);
	(void)rc3;

	char buf[16384];
	FILE *f = fopen(logpath, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "pam_jmp(sshd): auth user=alice"));
	assert_non_null(strstr(buf, "denied: nope"));
	assert_non_null(strstr(buf, "fail_mode=ignore"));
	assert_null(strstr(buf, TICKET));
	assert_null(strstr(buf, "T0PSECRET"));
}

/* A malformed answer is logged with the check it failed, then the fail mode
 * applies. */
static void malformed_answer_names_check(void **state)
{
	(void)state;
	char logpath[128];
	snprintf(logpath, sizeof(logpath), "%s/stderr-malformed.log", confdir);
	fflush(stderr);
	int saved = dup(2);
	int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);

	struct responder s;
	assert_int_equal(responder_start(&s, RESPOND_REPLY, "v1 deny mode=online mode=online\n"),
			 0);
	struct run r = {.service = "sshd", .user = "alice", .args = mkargs(s.path, "debug")};
	int rc1 = run_pam(&r, AUTH);
	responder_stop(&s);
	assert_int_equal(responder_start(&s, RESPOND_REPLY, "v1 allow reason=%ZZ\n"), 0);
	struct run r2 = {.service = "sshd",
			 .user = "alice",
			 .args = mkargs(s.path, "debug fail_mode=allow")};
	int rc2 = run_pam(&r2, AUTH);
	responder_stop(&s);

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_int_equal(rc1, PAM_AUTH_ERR);
	assert_int_equal(rc2, PAM_SUCCESS); /* malformed: the fail mode decides */

	char buf[16384];
	FILE *f = fopen(logpath, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "agent response malformed: a key appears more than once"));
	assert_non_null(strstr(
		buf,
		"agent response malformed: a \"%\" in a value is not followed by two hex digits"));
}

static int setup(void **state)
{
	(void)state;
	test_tmpdir(confdir, sizeof(confdir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_rmrf(confdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(auth_allow),
		cmocka_unit_test(auth_deny_reason),
		cmocka_unit_test(auth_agent_error),
		cmocka_unit_test(agent_busy_is_unreachable),
		cmocka_unit_test(agent_closes_at_once),
		cmocka_unit_test(account_local_shadow),
		cmocka_unit_test(auth_timeout),
		cmocka_unit_test(auth_absent_fail_modes),
		cmocka_unit_test(fail_mode_from_conf_file),
		cmocka_unit_test(sudo_request),
		cmocka_unit_test(account_and_session),
		cmocka_unit_test(no_ticket),
		cmocka_unit_test(ticket_not_logged),
		cmocka_unit_test(malformed_answer_names_check),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
