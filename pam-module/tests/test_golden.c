/*
 * Golden vectors shared with the agent's TypeScript tests (test/golden/): the
 * codec parses every response line to the same meaning or refuses it with the
 * same check, encodes every request to the same bytes, and the NSS module
 * reads the rendered cache files to the expected entries.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "protocol.h"
#include "responder.h"

#ifndef JMP_GOLDEN_DIR
#error "JMP_GOLDEN_DIR must name test/golden"
#endif

void jmp_nss_test_set_conf(const char *path);
enum nss_status _nss_jmp_getpwnam_r(const char *, struct passwd *, char *, size_t, int *);
enum nss_status _nss_jmp_getpwuid_r(uid_t, struct passwd *, char *, size_t, int *);
enum nss_status _nss_jmp_getgrnam_r(const char *, struct group *, char *, size_t, int *);
enum nss_status _nss_jmp_getgrgid_r(gid_t, struct group *, char *, size_t, int *);
enum nss_status _nss_jmp_setpwent(int);
enum nss_status _nss_jmp_getpwent_r(struct passwd *, char *, size_t, int *);
enum nss_status _nss_jmp_endpwent(void);

#define COL_MAX 8
#define BUF_MAX (4 * JMP_LINE_MAX)

/* ---- reading the vector files ------------------------------------------- */

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Expands \\ \t \r \n \xHH and \[N]c (test/golden/agent-protocol-v1.txt).
 * Returns the length written (out is NUL-terminated too). */
static size_t unescape(const char *in, char *out, size_t cap)
{
	size_t o = 0;

	for (const char *p = in; *p != '\0'; p++) {
		if (*p != '\\') {
			assert_true(o + 1 < cap);
			out[o++] = *p;
			continue;
		}
		p++;
		if (*p == '[') {
			char *end = NULL;
			unsigned long n = strtoul(p + 1, &end, 10);
			assert_true(end != NULL && *end == ']' && end[1] != '\0');
			assert_true(o + n < cap);
			memset(out + o, end[1], n);
			o += n;
			p = end + 1;
			continue;
		}
		char c = *p == '\\'  ? '\\'
			 : *p == 't' ? '\t'
			 : *p == 'r' ? '\r'
			 : *p == 'n' ? '\n'
				     : 0;
		if (*p == 'x') {
			int hi = hexv(p[1]), lo = hexv(hi >= 0 ? p[2] : 0);
			if (hi < 0 || lo < 0)
				fail_msg("bad \\x escape in \"%s\"", in);
			c = (char)(hi << 4 | lo);
			p += 2;
		} else if (c == 0) {
			fail_msg("unknown escape \\%c in \"%s\"", *p, in);
		}
		assert_true(o + 1 < cap);
		out[o++] = c;
	}
	out[o] = '\0';
	return o;
}

/* Splits line (modified) at TABs into at most COL_MAX columns. */
static int split_tabs(char *line, char **col)
{
	int n = 0;

	line[strcspn(line, "\n")] = '\0';
	for (char *p = line;; p++) {
		col[n++] = p;
		p = strchr(p, '\t');
		if (p == NULL || n == COL_MAX)
			return n;
		*p = '\0';
	}
}

static FILE *open_golden(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", JMP_GOLDEN_DIR, name);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	return f;
}

/* Calls fn for every vector line of a golden file; returns how many. */
static int each_vector(const char *name, void (*fn)(char **col, int n, int lineno))
{
	FILE *f = open_golden(name);
	char *line = NULL;
	size_t cap = 0;
	int count = 0, lineno = 0;

	while (getline(&line, &cap, f) > 0) {
		char *col[COL_MAX];
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		fn(col, split_tabs(line, col), lineno);
		count++;
	}
	free(line);
	fclose(f);
	return count;
}

/* Canonical percent-encoding, as in the MEANING column. */
static const char *canon(const char *v, char *buf, size_t cap)
{
	assert_true(jmp_pct_encode(buf, cap, v, strlen(v)) >= 0);
	return buf;
}

/* Decodes a canonical %-encoded value (a test fixture, so well-formed). */
static void pct_to_str(const char *v, char *out, size_t cap)
{
	size_t o = 0;
	for (; *v != '\0'; v++) {
		assert_true(o + 1 < cap);
		if (*v == '%') {
			out[o++] = (char)(hexv(v[1]) << 4 | hexv(v[2]));
			v += 2;
		} else {
			out[o++] = *v;
		}
	}
	out[o] = '\0';
}

/* ---- protocol ------------------------------------------------------------ */

static const char *status_name(enum jmp_status s)
{
	switch (s) {
	case JMP_STATUS_ALLOW:
		return "allow";
	case JMP_STATUS_DENY:
		return "deny";
	case JMP_STATUS_ERROR:
		return "error";
	case JMP_STATUS_PONG:
		return "pong";
	case JMP_STATUS_TICKET:
		return "ticket";
	}
	return "?";
}

/* The fields the C codec keeps; pam_jmp does not keep a ticket's. */
static const char *kept(const struct jmp_response *r, const char *key, int *has)
{
	*has = 0;
	if (!strcmp(key, "reason"))
		return *has = r->has_reason, r->reason;
	if (!strcmp(key, "mode"))
		return *has = r->has_mode, r->mode;
	if (!strcmp(key, "code"))
		return *has = r->has_code, r->code;
	if (!strcmp(key, "version"))
		return *has = r->has_version, r->version;
	if (!strcmp(key, "uid"))
		return *has = r->has_uid, r->uid;
	return NULL;
}

static char line_buf[BUF_MAX], want_buf[BUF_MAX], enc_buf[BUF_MAX];
static int n_response, n_request;

static void check_response(char **col, int n, int lineno)
{
	static struct jmp_response r;

	if (strcmp(col[0], "response") != 0)
		return;
	assert_int_equal(n, 3);
	n_response++;
	size_t len = unescape(col[1], line_buf, sizeof(line_buf) - 1);
	line_buf[len++] = '\n';
	int rc = jmp_parse_response(line_buf, len, &r);
	unescape(col[2], want_buf, sizeof(want_buf));

	if (!strncmp(want_buf, "error:", 6)) {
		if (strcmp(jmp_err_name(rc), want_buf + 6) != 0)
			fail_msg("line %d: %.80s: got %s, want %s", lineno, col[1],
				 jmp_err_name(rc), want_buf);
		return;
	}
	if (rc != JMP_OK)
		fail_msg("line %d: %.80s: refused (%s), want %s", lineno, col[1], jmp_err_name(rc),
			 col[2]);

	/* MEANING: status, then KEY=VALUE for each field the status defines. */
	char *save = NULL, *tok = strtok_r(want_buf, " ", &save);
	if (strcmp(tok, status_name(r.status)) != 0)
		fail_msg("line %d: status %s, want %s", lineno, status_name(r.status), tok);
	int listed = 0;
	while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
		char *eq = strchr(tok, '=');
		assert_non_null(eq);
		*eq = '\0';
		int has;
		const char *got = kept(&r, tok, &has);
		if (got == NULL)
			continue; /* a field pam_jmp does not keep (ticket's) */
		if (!has)
			fail_msg("line %d: %s missing", lineno, tok);
		if (strcmp(canon(got, enc_buf, sizeof(enc_buf)), eq + 1) != 0)
			fail_msg("line %d: %s=%.60s, want %.60s", lineno, tok, enc_buf, eq + 1);
		listed++;
	}
	int present = r.has_reason + r.has_mode + r.has_code + r.has_version + r.has_uid;
	if (present != listed)
		fail_msg("line %d: the codec kept %d fields, the meaning lists %d", lineno, present,
			 listed);
}

static void check_request(char **col, int n, int lineno)
{
	static char vals[COL_MAX * 4][JMP_LINE_MAX];
	static char fields_col[BUF_MAX], out[JMP_LINE_MAX + 1];
	struct jmp_field f[COL_MAX * 4];
	size_t nf = 0;

	if (strcmp(col[0], "request") != 0)
		return;
	assert_int_equal(n, 4);
	n_request++;
	unescape(col[1], fields_col, sizeof(fields_col));
	char *save = NULL, *op = strtok_r(fields_col, " ", &save), *tok;
	while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
		assert_true(nf < sizeof(f) / sizeof(f[0]));
		char *eq = strchr(tok, '=');
		assert_non_null(eq);
		*eq = '\0';
		pct_to_str(eq + 1, vals[nf], sizeof(vals[nf]));
		f[nf].key = tok;
		f[nf].value = vals[nf];
		nf++;
	}
	long got = jmp_encode_request(out, sizeof(out), op, f, nf);
	unescape(col[2], want_buf, sizeof(want_buf));
	if (!strncmp(want_buf, "error:", 6)) {
		if (got != -1)
			fail_msg("line %d: encoded %.80s, want %s", lineno, out, want_buf);
		return;
	}
	size_t wl = strlen(want_buf);
	if (got != (long)wl + 1 || memcmp(out, want_buf, wl) != 0 || out[wl] != '\n')
		fail_msg("line %d: encoded %.80s (%ld), want %.80s", lineno,
			 got < 0 ? "(refused)" : out, got, want_buf);
}

static void golden_responses(void **state)
{
	(void)state;
	each_vector("agent-protocol-v1.txt", check_response);
	assert_true(n_response >= 90);
}

static void golden_requests(void **state)
{
	(void)state;
	each_vector("agent-protocol-v1.txt", check_request);
	assert_true(n_request >= 20);
}

/* Every refusal the codec has appears among the golden vectors, so the agent
 * refuses those lines too. */
static int names_seen[32];

static void note_error(char **col, int n, int lineno)
{
	(void)lineno;
	if (strcmp(col[0], "response") != 0 || n < 3 || strncmp(col[2], "error:", 6) != 0)
		return;
	for (int err = JMP_ERR_TOO_LONG; err >= JMP_ERR_MISSING_FIELD; err--)
		if (!strcmp(jmp_err_name(err), col[2] + 6))
			names_seen[-err] = 1;
}

static void golden_covers_every_check(void **state)
{
	(void)state;
	each_vector("agent-protocol-v1.txt", note_error);
	for (int err = JMP_ERR_TOO_LONG; err >= JMP_ERR_MISSING_FIELD; err--) {
		if (err == JMP_ERR_NO_NEWLINE)
			continue; /* every golden line gets its newline */
		if (!names_seen[-err])
			fail_msg("no golden vector for %s", jmp_err_name(err));
	}
}

/* ---- NSS cache files ----------------------------------------------------- */

static char dir[64], conf_path[128];

static void copy_golden(const char *name, const char *to)
{
	FILE *in = open_golden(name);
	char path[256], tmp[270];
	snprintf(path, sizeof(path), "%s/%s", dir, to);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *out = fopen(tmp, "w");
	assert_non_null(out);
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	fclose(out);
	chmod(tmp, 0644); /* the reader refuses group/world-writable files */
	assert_int_equal(rename(tmp, path), 0);
}

static int nss_setup(void **state)
{
	(void)state;
	test_tmpdir(dir, sizeof(dir));
	copy_golden("nss/passwd", "passwd");
	copy_golden("nss/group", "group");
	copy_golden("nss/local-group", "local-group");
	snprintf(conf_path, sizeof(conf_path), "%s/nss.conf", dir);
	FILE *f = fopen(conf_path, "w");
	assert_non_null(f);
	fprintf(f,
		"passwd = %s/passwd\ngroup = %s/group\nlocal_group = %s/local-group\nenumerate = yes\n",
		dir, dir, dir);
	fclose(f);
	jmp_nss_test_set_conf(conf_path);
	return 0;
}

static int nss_teardown(void **state)
{
	(void)state;
	test_rmrf(dir);
	return 0;
}

static char nss_buf[1 << 20];
static int n_passwd;

static void check_pw(const struct passwd *pw, char **col, int lineno)
{
	if (strcmp(pw->pw_name, col[1]) != 0 || strcmp(pw->pw_passwd, "*") != 0 ||
	    pw->pw_uid != strtoul(col[2], NULL, 10) || pw->pw_gid != strtoul(col[3], NULL, 10) ||
	    strcmp(pw->pw_gecos, col[4]) != 0 || strcmp(pw->pw_dir, col[5]) != 0 ||
	    strcmp(pw->pw_shell, col[6]) != 0)
		fail_msg("line %d: got %s:%s:%u:%u:%s:%s:%s", lineno, pw->pw_name, pw->pw_passwd,
			 (unsigned)pw->pw_uid, (unsigned)pw->pw_gid, pw->pw_gecos, pw->pw_dir,
			 pw->pw_shell);
}

static void check_gr(const struct group *gr, char **col, int lineno)
{
	static char members[1 << 16];
	size_t o = 0;

	members[0] = '\0';
	for (char **m = gr->gr_mem; *m != NULL; m++)
		o += (size_t)snprintf(members + o, sizeof(members) - o, "%s%s", o ? "," : "", *m);
	if (strcmp(gr->gr_name, col[1]) != 0 || gr->gr_gid != strtoul(col[2], NULL, 10) ||
	    strcmp(members, col[3]) != 0)
		fail_msg("line %d: got %s:%u:%.80s", lineno, gr->gr_name, (unsigned)gr->gr_gid,
			 members);
}

static void check_entry(char **col, int n, int lineno)
{
	struct passwd pw;
	struct group gr;
	int err = 0;

	if (!strcmp(col[0], "passwd")) {
		assert_int_equal(n, 7);
		n_passwd++;
		if (_nss_jmp_getpwnam_r(col[1], &pw, nss_buf, sizeof(nss_buf), &err) !=
		    NSS_STATUS_SUCCESS)
			fail_msg("line %d: getpwnam(%s) not found", lineno, col[1]);
		check_pw(&pw, col, lineno);
		if (_nss_jmp_getpwuid_r((uid_t)strtoul(col[2], NULL, 10), &pw, nss_buf,
					sizeof(nss_buf), &err) != NSS_STATUS_SUCCESS)
			fail_msg("line %d: getpwuid(%s) not found", lineno, col[2]);
		check_pw(&pw, col, lineno);
	} else if (!strcmp(col[0], "group")) {
		assert_int_equal(n, 4);
		if (_nss_jmp_getgrnam_r(col[1], &gr, nss_buf, sizeof(nss_buf), &err) !=
		    NSS_STATUS_SUCCESS)
			fail_msg("line %d: getgrnam(%s) not found", lineno, col[1]);
		check_gr(&gr, col, lineno);
		if (_nss_jmp_getgrgid_r((gid_t)strtoul(col[2], NULL, 10), &gr, nss_buf,
					sizeof(nss_buf), &err) != NSS_STATUS_SUCCESS)
			fail_msg("line %d: getgrgid(%s) not found", lineno, col[2]);
		check_gr(&gr, col, lineno);
		/* A group larger than glibc's first 1 KiB try is ERANGE there. */
		if (strlen(col[3]) > 1024) {
			assert_int_equal(_nss_jmp_getgrnam_r(col[1], &gr, nss_buf, 1024, &err),
					 NSS_STATUS_TRYAGAIN);
			assert_int_equal(err, ERANGE);
		}
	} else if (!strcmp(col[0], "absent-user")) {
		assert_int_equal(_nss_jmp_getpwnam_r(col[1], &pw, nss_buf, sizeof(nss_buf), &err),
				 NSS_STATUS_NOTFOUND);
	} else if (!strcmp(col[0], "absent-uid")) {
		assert_int_equal(_nss_jmp_getpwuid_r((uid_t)strtoul(col[1], NULL, 10), &pw, nss_buf,
						     sizeof(nss_buf), &err),
				 NSS_STATUS_NOTFOUND);
	} else if (!strcmp(col[0], "absent-group")) {
		assert_int_equal(_nss_jmp_getgrnam_r(col[1], &gr, nss_buf, sizeof(nss_buf), &err),
				 NSS_STATUS_NOTFOUND);
	} else if (!strcmp(col[0], "absent-gid")) {
		assert_int_equal(_nss_jmp_getgrgid_r((gid_t)strtoul(col[1], NULL, 10), &gr, nss_buf,
						     sizeof(nss_buf), &err),
				 NSS_STATUS_NOTFOUND);
	} else {
		fail_msg("line %d: unknown kind %s", lineno, col[0]);
	}
}

static void golden_nss(void **state)
{
	(void)state;
	struct passwd pw;
	int err = 0, listed = 0;

	assert_true(each_vector("nss/entries.txt", check_entry) > 20);
	/* Enumeration lists exactly the passwd entries: nothing else parses. */
	_nss_jmp_setpwent(0);
	while (_nss_jmp_getpwent_r(&pw, nss_buf, sizeof(nss_buf), &err) == NSS_STATUS_SUCCESS)
		listed++;
	_nss_jmp_endpwent();
	assert_int_equal(listed, n_passwd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(golden_responses),
		cmocka_unit_test(golden_requests),
		cmocka_unit_test(golden_covers_every_check),
		cmocka_unit_test_setup_teardown(golden_nss, nss_setup, nss_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
