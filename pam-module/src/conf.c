/* conf: config files and module arguments. */
#define _GNU_SOURCE
#include "conf.h"
#include "agent_socket.h"
#include "protocol.h" /* JMP_KEY_MAX */

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static void logf_(jmp_log_fn log, void *ctx, int prio, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void logf_(jmp_log_fn log, void *ctx, int prio, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log(ctx, prio, msg);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Calls fn(key, value) for each "key = value" line of path. Lines longer
 * than JMP_CONF_LINE_MAX and lines without '=' are skipped (reported through
 * fn with value NULL so the caller can log them). Returns -1 if the file
 * cannot be opened (errno set). */
typedef void (*kv_fn)(void *arg, const char *key, const char *value, int lineno);

static int parse_file(const char *path, kv_fn fn, void *arg)
{
	char line[JMP_CONF_LINE_MAX];
	int lineno = 0;
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		size_t n = strlen(line);
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n')
				; /* skip the rest of an overlong line */
			fn(arg, "", NULL, lineno);
			continue;
		}
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			fn(arg, s, NULL, lineno);
			continue;
		}
		*eq = '\0';
		fn(arg, trim(s), trim(eq + 1), lineno);
	}
	fclose(f);
	return 0;
}

const char *jmp_fail_mode_str(enum jmp_fail_mode m)
{
	switch (m) {
	case JMP_FAIL_DENY:
		return "deny";
	case JMP_FAIL_IGNORE:
		return "ignore";
	case JMP_FAIL_ALLOW:
		return "allow";
	}
	return "deny";
}

void jmp_pam_conf_defaults(struct jmp_pam_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->socket, sizeof(c->socket), "%s", JMP_DEFAULT_SOCKET);
	c->timeout_ms = JMP_DEFAULT_TIMEOUT_MS;
	c->fail_mode = JMP_FAIL_DENY;
	c->debug = 0;
	snprintf(c->nss_conf, sizeof(c->nss_conf), "%s", JMP_NSS_CONF_PATH);
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1")) {
		*out = 1;
		return 0;
	}
	if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0")) {
		*out = 0;
		return 0;
	}
	return -1;
}

int jmp_pam_conf_set(struct jmp_pam_conf *c, const char *key, const char *value, jmp_log_fn log,
		     void *ctx)
{
	if (!strcmp(key, "socket")) {
		size_t n = value != NULL ? strlen(value) : 0;
		if (n == 0 || value[0] != '/' || n >= sizeof(c->socket)) {
			logf_(log, ctx, LOG_ERR, "jmp: bad socket path, keeping %s", c->socket);
			return -1;
		}
		memcpy(c->socket, value, n + 1);
		return 0;
	}
	if (!strcmp(key, "nss_conf")) {
		size_t n = value != NULL ? strlen(value) : 0;
		if (n == 0 || value[0] != '/' || n >= sizeof(c->nss_conf)) {
			logf_(log, ctx, LOG_ERR, "jmp: bad nss_conf path, keeping %s", c->nss_conf);
			return -1;
		}
		memcpy(c->nss_conf, value, n + 1);
		return 0;
	}
	if (!strcmp(key, "timeout_ms")) {
		char *end = NULL;
		long v;
		errno = 0;
		v = value != NULL ? strtol(value, &end, 10) : 0;
		if (value == NULL || *value == '\0' || errno != 0 || *end != '\0' || v < 1 ||
		    v > 600000) {
			logf_(log, ctx, LOG_ERR, "jmp: bad timeout_ms, keeping %d", c->timeout_ms);
			return -1;
		}
		c->timeout_ms = (int)v;
		return 0;
	}
	if (!strcmp(key, "fail_mode")) {
		if (value != NULL && !strcmp(value, "deny"))
			c->fail_mode = JMP_FAIL_DENY;
		else if (value != NULL && !strcmp(value, "ignore"))
			c->fail_mode = JMP_FAIL_IGNORE;
		else if (value != NULL && !strcmp(value, "allow"))
			c->fail_mode = JMP_FAIL_ALLOW;
		else {
			logf_(log, ctx, LOG_ERR, "jmp: bad fail_mode, keeping %s",
			      jmp_fail_mode_str(c->fail_mode));
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "debug")) {
		int b;
		if (value == NULL) { /* bare "debug" module argument */
			c->debug = 1;
			return 0;
		}
		if (parse_bool(value, &b) != 0) {
			logf_(log, ctx, LOG_ERR, "jmp: bad debug value, keeping %s",
			      c->debug ? "yes" : "no");
			return -1;
		}
		c->debug = b;
		return 0;
	}
	logf_(log, ctx, LOG_WARNING, "jmp: ignoring unknown setting '%.64s'", key);
	return -1;
}

struct pam_load_arg {
	struct jmp_pam_conf *c;
	jmp_log_fn log;
	void *ctx;
	const char *path;
};

static void pam_kv(void *arg, const char *key, const char *value, int lineno)
{
	struct pam_load_arg *a = arg;

	if (value == NULL) {
		logf_(a->log, a->ctx, LOG_WARNING, "jmp: %s:%d: ignoring malformed line", a->path,
		      lineno);
		return;
	}
	jmp_pam_conf_set(a->c, key, value, a->log, a->ctx);
}

int jmp_pam_conf_load(struct jmp_pam_conf *c, const char *path, int must_exist, jmp_log_fn log,
		      void *ctx)
{
	struct pam_load_arg a = {c, log, ctx, path};

	if (parse_file(path, pam_kv, &a) != 0) {
		if (errno != ENOENT || must_exist) {
			logf_(log, ctx, LOG_ERR, "jmp: cannot read %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

void jmp_pam_conf_from_args(struct jmp_pam_conf *c, int argc, const char **argv, jmp_log_fn log,
			    void *ctx)
{
	const char *path = JMP_PAM_CONF_PATH;
	int explicit_path = 0;

	jmp_pam_conf_defaults(c);
	/* "debug" and "conf=" first, so loading the file is already logged
	 * the way the arguments ask for. */
	for (int i = 0; i < argc; i++) {
		if (argv[i] == NULL)
			continue;
		if (!strcmp(argv[i], "debug"))
			c->debug = 1;
		else if (!strncmp(argv[i], "conf=", 5)) {
			path = argv[i] + 5;
			explicit_path = 1;
		}
	}
	int debug_arg = c->debug;
	jmp_pam_conf_load(c, path, explicit_path, log, ctx);
	if (debug_arg)
		c->debug = 1;
	for (int i = 0; i < argc; i++) {
		if (argv[i] == NULL || !strncmp(argv[i], "conf=", 5))
			continue;
		char key[JMP_KEY_MAX + 1];
		const char *eq = strchr(argv[i], '=');
		size_t kl = eq != NULL ? (size_t)(eq - argv[i]) : strlen(argv[i]);
		if (kl == 0 || kl >= sizeof(key)) {
			logf_(log, ctx, LOG_WARNING, "jmp: ignoring bad module argument");
			continue;
		}
		memcpy(key, argv[i], kl);
		key[kl] = '\0';
		jmp_pam_conf_set(c, key, eq != NULL ? eq + 1 : NULL, log, ctx);
	}
}

void jmp_nss_conf_defaults(struct jmp_nss_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->passwd, sizeof(c->passwd), "%s", JMP_NSS_PASSWD_PATH);
	snprintf(c->group, sizeof(c->group), "%s", JMP_NSS_GROUP_PATH);
	snprintf(c->local_group, sizeof(c->local_group), "%s", JMP_LOCAL_GROUP_PATH);
	c->enumerate = 0;
}

static void nss_kv(void *arg, const char *key, const char *value, int lineno)
{
	struct jmp_nss_conf *c = arg;
	size_t n;

	(void)lineno;
	if (value == NULL)
		return; /* NSS runs inside every process: stay silent */
	n = strlen(value);
	if (!strcmp(key, "passwd") || !strcmp(key, "group") || !strcmp(key, "local_group")) {
		char *dst = key[0] == 'p' ? c->passwd : key[0] == 'g' ? c->group : c->local_group;
		if (n > 0 && value[0] == '/' && n < JMP_PATH_MAX)
			memcpy(dst, value, n + 1);
	} else if (!strcmp(key, "enumerate")) {
		int b;
		if (parse_bool(value, &b) == 0)
			c->enumerate = b;
	}
}

int jmp_nss_conf_load(struct jmp_nss_conf *c, const char *path)
{
	jmp_nss_conf_defaults(c);
	return parse_file(path, nss_kv, c);
}
