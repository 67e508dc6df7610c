/*
 * pam_jmp.so: asks the local jmp-agent whether to allow a login, sudo or su.
 * No policy lives here: the agent decides, this module only asks and maps the
 * answer (docs/agent-protocol.md, "How pam_jmp maps answers").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#define PAM_SM_SESSION
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "agent_client.h"
#include "cache_reader.h"
#include "conf.h"

#define JMP_EXPORT	  __attribute__((visibility("default")))
#define JMP_TICKET_PROMPT "jmp ticket: "

struct jmp_ctx {
	pam_handle_t *pamh;
	int flags;
	struct jmp_pam_conf conf;
	const char *user;    /* PAM_USER: the account logged into / the sudo target */
	const char *service; /* PAM_SERVICE */
	const char *rhost;   /* PAM_RHOST or NULL */
	const char *tty;     /* PAM_TTY or NULL */
	const char *ruser;   /* PAM_RUSER or NULL */
	char caller[256];    /* invoking user for sudo/su */
};

/* ---- logging: syslog (LOG_AUTHPRIV) always, stderr too with "debug" ---- */

static void jmp_log_line(struct jmp_ctx *x, int prio, const char *msg)
{
	pam_syslog(x->pamh, LOG_AUTHPRIV | prio, "%s", msg);
	if (x->conf.debug)
		fprintf(stderr, "pam_jmp(%s): %s\n", x->service ? x->service : "?", msg);
}

static void jmp_log(struct jmp_ctx *x, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void jmp_log(struct jmp_ctx *x, int prio, const char *fmt, ...)
{
	char msg[1024], clean[1024];
	va_list ap;

	if (prio == LOG_DEBUG && !x->conf.debug)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jmp_sanitize_text(clean, sizeof(clean), msg);
	jmp_log_line(x, prio, clean);
}

static void conf_log_cb(void *ctx, int prio, const char *msg)
{
	jmp_log(ctx, prio, "%s", msg);
}

static const char *or_dash(const char *s)
{
	return s != NULL ? s : "-";
}

/* ---- setup -------------------------------------------------------------- */

static const char *get_str_item(pam_handle_t *pamh, int type)
{
	const void *v = NULL;
	if (pam_get_item(pamh, type, &v) != PAM_SUCCESS || v == NULL || *(const char *)v == '\0')
		return NULL;
	return v;
}

/* Reads config and PAM items. Returns 0, or -1 (logged) if the user is
 * unknown: without a user there is nothing to ask. */
static int jmp_load(struct jmp_ctx *x, pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	memset(x, 0, sizeof(*x));
	x->pamh = pamh;
	x->flags = flags;
	x->service = get_str_item(pamh, PAM_SERVICE);
	jmp_pam_conf_from_args(&x->conf, argc, argv, conf_log_cb, x);
	x->rhost = get_str_item(pamh, PAM_RHOST);
	x->tty = get_str_item(pamh, PAM_TTY);
	x->ruser = get_str_item(pamh, PAM_RUSER);
	if (pam_get_user(pamh, &x->user, NULL) != PAM_SUCCESS || x->user == NULL ||
	    x->user[0] == '\0') {
		jmp_log(x, LOG_ERR, "cannot determine the user");
		return -1;
	}
	if (x->service == NULL) {
		jmp_log(x, LOG_ERR, "no PAM service name");
		return -1;
	}
	return 0;
}

/* sudo/su: the invoking user is PAM_RUSER if set, else the real uid's name. */
static int jmp_find_caller(struct jmp_ctx *x)
{
	struct passwd pw, *res = NULL;
	char buf[16384];

	if (x->ruser != NULL) {
		if (strlen(x->ruser) >= sizeof(x->caller))
			return -1;
		snprintf(x->caller, sizeof(x->caller), "%s", x->ruser);
		return 0;
	}
	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) != 0 || res == NULL ||
	    strlen(pw.pw_name) >= sizeof(x->caller))
		return -1;
	snprintf(x->caller, sizeof(x->caller), "%s", pw.pw_name);
	return 0;
}

/* ---- asking the agent --------------------------------------------------- */

static void jmp_tell_user(struct jmp_ctx *x, const char *text)
{
	if (!(x->flags & PAM_SILENT))
		pam_info(x->pamh, "%s", text);
}

static int fail_mode_code(struct jmp_ctx *x, int deny_code)
{
	switch (x->conf.fail_mode) {
	case JMP_FAIL_IGNORE:
		return PAM_IGNORE;
	case JMP_FAIL_ALLOW:
		return PAM_SUCCESS;
	case JMP_FAIL_DENY:
		break;
	}
	return deny_code;
}

/* "internal" means the agent could not answer (busy, or it failed), not that
 * the request was wrong: like an unreachable agent, the fail mode applies.
 * Every other code is about the request itself and denies: a request the
 * agent refuses must never pass under fail_mode=allow. */
static int agent_could_not_answer(const struct jmp_response *r)
{
	return r->has_code && !strcmp(r->code, "internal");
}

/* Asks op and maps the answer. deny_code is what "no" means at this stage.
 * out (may be NULL) receives the answer when the agent gave one. */
static int jmp_decide_r(struct jmp_ctx *x, const char *op, const struct jmp_field *f, size_t n,
			int deny_code, struct jmp_response *out)
{
	struct jmp_response rbuf, *rp = out != NULL ? out : &rbuf;
	char reason[512];
	int code, perr;

	enum jmp_call_result cr =
		jmp_agent_ask(x->conf.socket, x->conf.timeout_ms, op, f, n, rp, &perr);
	const struct jmp_response *r = rp;
	if (cr == JMP_CALL_BAD_REQUEST) {
		/* Our input cannot be sent (e.g. absurdly long): never fail open. */
		jmp_log(x, LOG_ERR, "%s for %s: request too long or invalid; denying", op, x->user);
		return deny_code;
	}
	if (cr != JMP_CALL_OK) {
		code = fail_mode_code(x, deny_code);
		jmp_log(x, LOG_ERR, "%s for %s: %s%s%s (socket %s); fail_mode=%s", op, x->user,
			jmp_call_result_str(cr), cr == JMP_CALL_BAD_RESPONSE ? ": " : "",
			cr == JMP_CALL_BAD_RESPONSE ? jmp_strerror(perr) : "", x->conf.socket,
			jmp_fail_mode_str(x->conf.fail_mode));
		return code;
	}
	jmp_sanitize_text(reason, sizeof(reason), r->has_reason ? r->reason : "");
	switch (r->status) {
	case JMP_STATUS_ALLOW:
		jmp_log(x, LOG_DEBUG, "%s for %s: allow (mode=%s) %s", op, x->user,
			r->has_mode ? r->mode : "-", reason);
		return PAM_SUCCESS;
	case JMP_STATUS_DENY:
		jmp_log(x, LOG_NOTICE, "%s for %s denied: %s", op, x->user,
			reason[0] ? reason : "(no reason given)");
		jmp_tell_user(x, reason[0] ? reason : "jmp: access denied");
		return deny_code;
	case JMP_STATUS_ERROR:
		if (agent_could_not_answer(r)) {
			code = fail_mode_code(x, deny_code);
			jmp_log(x, LOG_ERR,
				"%s for %s: the agent could not answer (%s); fail_mode=%s", op,
				x->user, reason, jmp_fail_mode_str(x->conf.fail_mode));
			return code;
		}
		jmp_log(x, LOG_ERR, "%s for %s: agent error code=%s %s", op, x->user,
			r->has_code ? r->code : "-", reason);
		return deny_code;
	case JMP_STATUS_PONG:
	case JMP_STATUS_TICKET:
		break;
	}
	jmp_log(x, LOG_ERR, "%s for %s: unexpected answer from agent", op, x->user);
	return deny_code;
}

static int jmp_decide(struct jmp_ctx *x, const char *op, const struct jmp_field *f, size_t n,
		      int deny_code)
{
	return jmp_decide_r(x, op, f, n, deny_code, NULL);
}

static int jmp_ask_login(struct jmp_ctx *x)
{
	char *ticket = NULL;
	int rc;

	if (pam_prompt(x->pamh, PAM_PROMPT_ECHO_OFF, &ticket, "%s", JMP_TICKET_PROMPT) !=
		    PAM_SUCCESS ||
	    ticket == NULL) {
		jmp_log(x, LOG_NOTICE, "auth for %s: no ticket entered", x->user);
		free(ticket);
		return PAM_AUTH_ERR;
	}
	jmp_log(x, LOG_DEBUG,
		"auth user=%s service=%s rhost=%s tty=%s ticket=<%zu bytes, not logged>", x->user,
		x->service, or_dash(x->rhost), or_dash(x->tty), strlen(ticket));
	const struct jmp_field f[] = {
		{"user", x->user}, {"service", x->service}, {"rhost", x->rhost},
		{"tty", x->tty},   {"ticket", ticket},
	};
	rc = jmp_decide(x, "auth", f, sizeof(f) / sizeof(f[0]), PAM_AUTH_ERR);
	explicit_bzero(ticket, strlen(ticket));
	free(ticket);
	return rc;
}

static int jmp_ask_elevation(struct jmp_ctx *x, const char *op)
{
	if (jmp_find_caller(x) != 0) {
		jmp_log(x, LOG_ERR, "%s to %s: cannot determine the invoking user", op, x->user);
		return PAM_AUTH_ERR;
	}
	jmp_log(x, LOG_DEBUG, "%s user=%s runas=%s service=%s tty=%s", op, x->caller, x->user,
		x->service, or_dash(x->tty));
	const struct jmp_field f[] = {
		{"user", x->caller},
		{"runas", x->user},
		{"service", x->service},
		{"tty", x->tty},
	};
	return jmp_decide(x, op, f, sizeof(f) / sizeof(f[0]), PAM_AUTH_ERR);
}

/* sudo/su ask no ticket: the agent decides from the invoking user's grants. */
static int jmp_authenticate(struct jmp_ctx *x)
{
	const char *s = x->service;

	if (!strcmp(s, "sudo") || !strcmp(s, "sudo-i"))
		return jmp_ask_elevation(x, "sudo");
	if (!strcmp(s, "su") || !strcmp(s, "su-l"))
		return jmp_ask_elevation(x, "su");
	return jmp_ask_login(x);
}

/* The jmp uid of user from the agent's passwd cache, or -1 if it has none. */
static long jmp_cached_uid(struct jmp_ctx *x)
{
	struct jmp_nss_conf nc;
	struct jmp_cache c;
	struct jmp_pw_line l;
	long uid = -1;

	jmp_nss_conf_load(&nc, x->conf.nss_conf); /* missing file: default paths */
	jmp_cache_init(&c, JMP_CACHE_PASSWD);
	if (jmp_cache_refresh(&c, nc.passwd) == 0) {
		long i = jmp_cache_find_name(&c, x->user);
		if (i >= 0 && jmp_cache_pw(&c, (uint32_t)i, &l) == 0)
			uid = (long)l.uid;
	}
	jmp_cache_clear(&c);
	return uid;
}

static long parse_uid(const char *s)
{
	char *end = NULL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || errno != 0 || end == NULL || *end != '\0' ||
	    v >= UINT32_MAX)
		return -2; /* unusable: deny */
	return (long)v;
}

/* A jmp user must never become a local account: when the name resolves (the
 * files source comes first) to a uid other than the jmp uid, a local account
 * shadows the jmp user and the login would land in it. Returns 0 when fine or
 * unknown to jmp, -1 to deny (logged, told to the user). */
static int jmp_check_not_shadowed(struct jmp_ctx *x, const struct jmp_response *r)
{
	struct passwd pw, *res = NULL;
	char buf[16384], msg[512];
	long want = r != NULL && r->has_uid ? parse_uid(r->uid) : jmp_cached_uid(x);

	if (want == -1)
		return 0; /* jmp does not know this user: nothing to compare */
	int err = getpwnam_r(x->user, &pw, buf, sizeof(buf), &res);
	if (want >= 0 && err == 0 && res != NULL && (long)pw.pw_uid == want)
		return 0;
	if (want >= 0 && err == 0 && res != NULL)
		snprintf(msg, sizeof(msg), "local account %s exists on this host", x->user);
	else if (want >= 0)
		snprintf(msg, sizeof(msg), "%s does not resolve to its jmp uid on this host",
			 x->user);
	else
		snprintf(msg, sizeof(msg), "the agent sent an unusable uid for %s", x->user);
	jmp_log(x, LOG_NOTICE, "account for %s denied: %s (jmp uid %ld, local uid %ld)", x->user,
		msg, want, res != NULL ? (long)pw.pw_uid : -1L);
	jmp_tell_user(x, msg);
	return -1;
}

static int jmp_account(struct jmp_ctx *x)
{
	struct jmp_response r;
	const struct jmp_field f[] = {
		{"user", x->user},
		{"service", x->service},
		{"rhost", x->rhost},
		{"tty", x->tty},
	};
	memset(&r, 0, sizeof(r));
	int rc = jmp_decide_r(x, "account", f, sizeof(f) / sizeof(f[0]), PAM_PERM_DENIED, &r);
	if (rc != PAM_SUCCESS)
		return rc;
	/* The uid of an allow answer, else (fail_mode=allow) the agent's cache. */
	int answered = r.status == JMP_STATUS_ALLOW;
	if (jmp_check_not_shadowed(x, answered ? &r : NULL) != 0)
		return PAM_PERM_DENIED;
	return PAM_SUCCESS;
}

/* Session events are notifications: they never fail a login or logout. */
static void jmp_session(struct jmp_ctx *x, const char *op)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	const struct jmp_field f[] = {
		{"user", x->user}, {"service", x->service}, {"rhost", x->rhost}, {"tty", x->tty},
		{"pid", pid},
	};
	(void)jmp_decide(x, op, f, sizeof(f) / sizeof(f[0]), PAM_SUCCESS);
}

/* ---- PAM entry points --------------------------------------------------- */

PAM_EXTERN JMP_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
					      const char **argv)
{
	struct jmp_ctx x;

	if (jmp_load(&x, pamh, flags, argc, argv) != 0)
		return PAM_AUTH_ERR;
	return jmp_authenticate(&x);
}

PAM_EXTERN JMP_EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

PAM_EXTERN JMP_EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
					   const char **argv)
{
	struct jmp_ctx x;

	if (jmp_load(&x, pamh, flags, argc, argv) != 0)
		return PAM_PERM_DENIED;
	return jmp_account(&x);
}

PAM_EXTERN JMP_EXPORT int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
					      const char **argv)
{
	struct jmp_ctx x;

	if (jmp_load(&x, pamh, flags, argc, argv) == 0)
		jmp_session(&x, "session_open");
	return PAM_SUCCESS;
}

PAM_EXTERN JMP_EXPORT int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
					       const char **argv)
{
	struct jmp_ctx x;

	if (jmp_load(&x, pamh, flags, argc, argv) == 0)
		jmp_session(&x, "session_close");
	return PAM_SUCCESS;
}
