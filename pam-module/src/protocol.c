/* protocol: jmp agent protocol v1, encode requests and parse responses. */
#define _GNU_SOURCE
#include "protocol.h"

#include <string.h>

static int is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static int is_key_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static int hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A word (op, status) or key: 1..JMP_KEY_MAX chars of [a-z0-9_]. */
static int valid_word(const char *s, size_t len)
{
	if (len == 0 || len > JMP_KEY_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_key_char((unsigned char)s[i]))
			return 0;
	return 1;
}

/* ---- encoding ------------------------------------------------------------ */

long jmp_pct_encode(char *dst, size_t cap, const char *src, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (cap == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		if (is_unreserved(c)) {
			if (cap - o < 2)
				return -1;
			dst[o++] = (char)c;
		} else {
			if (cap - o < 4)
				return -1;
			dst[o++] = '%';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 0xf];
		}
	}
	dst[o] = '\0';
	return (long)o;
}

/* Appends s[0..len) at *o; fails if it would not leave room for the NUL. */
static int append(char *buf, size_t cap, size_t *o, const char *s, size_t len)
{
	if (len >= cap - *o)
		return -1;
	memcpy(buf + *o, s, len);
	*o += len;
	buf[*o] = '\0';
	return 0;
}

long jmp_encode_request(char *buf, size_t cap, const char *op, const struct jmp_field *fields,
			size_t nfields)
{
	size_t o = 0;

	if (buf == NULL || cap == 0 || op == NULL)
		return -1;
	if (cap > JMP_LINE_MAX + 1)
		cap = JMP_LINE_MAX + 1; /* line incl. '\n' <= JMP_LINE_MAX, + NUL */
	buf[0] = '\0';
	if (!valid_word(op, strlen(op)))
		return -1;
	if (append(buf, cap, &o, "v1 ", 3) || append(buf, cap, &o, op, strlen(op)))
		goto fail;
	for (size_t i = 0; i < nfields; i++) {
		const char *k = fields[i].key, *v = fields[i].value;
		if (k == NULL || !valid_word(k, strlen(k)))
			goto fail;
		if (v == NULL)
			continue; /* absent, not empty */
		if (append(buf, cap, &o, " ", 1) || append(buf, cap, &o, k, strlen(k)) ||
		    append(buf, cap, &o, "=", 1))
			goto fail;
		long n = jmp_pct_encode(buf + o, cap - o, v, strlen(v));
		if (n < 0)
			goto fail;
		o += (size_t)n;
	}
	if (append(buf, cap, &o, "\n", 1))
		goto fail;
	return (long)o;
fail:
	explicit_bzero(buf, cap);
	return -1;
}

/* ---- decoding values ----------------------------------------------------- */

/* Incremental UTF-8 check (Unicode 3-7: no overlongs, surrogates or values
 * over U+10FFFF), the same bytes TextDecoder('utf-8', {fatal}) accepts. */
struct utf8_state {
	unsigned need;	      /* continuation bytes still expected */
	unsigned char lo, hi; /* range of the next continuation byte */
};

static int utf8_step(struct utf8_state *u, unsigned char c)
{
	if (u->need > 0) {
		if (c < u->lo || c > u->hi)
			return -1;
		u->need--;
		u->lo = 0x80;
		u->hi = 0xBF;
		return 0;
	}
	u->lo = 0x80;
	u->hi = 0xBF;
	if (c < 0x80)
		return 0;
	if (c >= 0xC2 && c <= 0xDF)
		u->need = 1;
	else if (c == 0xE0)
		u->need = 2, u->lo = 0xA0;
	else if (c == 0xED)
		u->need = 2, u->hi = 0x9F;
	else if (c >= 0xE1 && c <= 0xEF)
		u->need = 2;
	else if (c == 0xF0)
		u->need = 3, u->lo = 0x90;
	else if (c >= 0xF1 && c <= 0xF3)
		u->need = 3;
	else if (c == 0xF4)
		u->need = 3, u->hi = 0x8F;
	else
		return -1;
	return 0;
}

/* Validates and decodes v[0..vlen) into dst (cap bytes incl. NUL) when dst is
 * non-NULL. Syntax errors stop at once; a decoded NUL, bad UTF-8 and a value
 * too long for dst are reported after the whole value, in that order (the
 * agent's line.ts checks in the same order). */
static int pct_decode(const char *v, size_t vlen, char *dst, size_t cap, size_t *outlen)
{
	struct utf8_state u = {0, 0x80, 0xBF};
	int nul = 0, bad_utf8 = 0, overflow = 0;
	size_t o = 0, n = 0; /* bytes written to dst, bytes decoded */

	for (size_t i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '%') {
			if (vlen - i < 3)
				return JMP_ERR_BAD_ESCAPE;
			int hi = hex_val((unsigned char)v[i + 1]);
			int lo = hex_val((unsigned char)v[i + 2]);
			if (hi < 0 || lo < 0)
				return JMP_ERR_BAD_ESCAPE;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (!is_unreserved(c)) {
			return JMP_ERR_BAD_VALUE_CHAR;
		}
		nul |= c == '\0';
		bad_utf8 |= utf8_step(&u, c) != 0;
		if (dst != NULL && !overflow) {
			if (cap - o < 2)
				overflow = 1;
			else
				dst[o++] = (char)c;
		}
		n++;
	}
	if (dst != NULL)
		dst[o] = '\0';
	*outlen = n;
	if (nul)
		return JMP_ERR_DECODED_NUL;
	if (bad_utf8 || u.need > 0)
		return JMP_ERR_BAD_UTF8;
	if (overflow)
		return JMP_ERR_VALUE_TOO_LONG;
	return JMP_OK;
}

/* ---- parsing responses --------------------------------------------------- */

struct span {
	const char *p;
	size_t len;
};

static int span_is(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && memcmp(s.p, lit, n) == 0;
}

static const struct {
	const char *word;
	enum jmp_status status;
} statuses[] = {
	{"allow", JMP_STATUS_ALLOW}, {"deny", JMP_STATUS_DENY},	    {"error", JMP_STATUS_ERROR},
	{"pong", JMP_STATUS_PONG},   {"ticket", JMP_STATUS_TICKET},
};

/* Where a key of this status is kept; NULL dst for a key the status does not
 * define (validated, then ignored). */
struct slot {
	char *dst;
	size_t cap;
	int *has;
};

static struct slot slot_for(struct jmp_response *r, struct span key)
{
	enum jmp_status s = r->status;
	struct slot none = {NULL, 0, NULL};

	if (span_is(key, "reason") &&
	    (s == JMP_STATUS_ALLOW || s == JMP_STATUS_DENY || s == JMP_STATUS_ERROR))
		return (struct slot){r->reason, sizeof(r->reason), &r->has_reason};
	if (span_is(key, "mode") &&
	    (s == JMP_STATUS_ALLOW || s == JMP_STATUS_DENY || s == JMP_STATUS_PONG))
		return (struct slot){r->mode, sizeof(r->mode), &r->has_mode};
	if (span_is(key, "code") && s == JMP_STATUS_ERROR)
		return (struct slot){r->code, sizeof(r->code), &r->has_code};
	if (span_is(key, "version") && s == JMP_STATUS_PONG)
		return (struct slot){r->version, sizeof(r->version), &r->has_version};
	if (span_is(key, "uid") && s == JMP_STATUS_ALLOW)
		return (struct slot){r->uid, sizeof(r->uid), &r->has_uid};
	return none;
}

/* Whether key occurs among the (already validated) fields in buf[from..to). */
static int key_seen(const char *buf, size_t from, size_t to, struct span key)
{
	size_t i = from;

	while (i < to) {
		const char *eq = memchr(buf + i, '=', to - i);
		if (eq == NULL)
			return 0;
		size_t klen = (size_t)(eq - (buf + i));
		if (klen == key.len && memcmp(buf + i, key.p, klen) == 0)
			return 1;
		const char *sp = memchr(eq, ' ', (size_t)(buf + to - eq));
		if (sp == NULL)
			return 0;
		i = (size_t)(sp - buf) + 1;
	}
	return 0;
}

static int known_mode(const char *m)
{
	return !strcmp(m, "online") || !strcmp(m, "offline") || !strcmp(m, "default");
}

/* Parses the fields in buf[i..end), each preceded by exactly one space. */
static int parse_fields(const char *buf, size_t i, size_t end, struct jmp_response *out,
			int *has_ticket)
{
	size_t first = i + 1;

	while (i < end) {
		i++; /* the space before the field */
		size_t ks = i;
		if (i >= end || buf[i] == ' ')
			return JMP_ERR_EMPTY_FIELD;
		while (i < end && buf[i] != '=' && buf[i] != ' ')
			i++;
		if (i >= end || buf[i] != '=')
			return JMP_ERR_NO_EQUALS;
		struct span key = {buf + ks, i - ks};
		if (!valid_word(key.p, key.len))
			return JMP_ERR_BAD_KEY;
		if (key_seen(buf, first, ks, key))
			return JMP_ERR_DUP_KEY;
		size_t vs = ++i;
		while (i < end && buf[i] != ' ')
			i++;

		struct slot sl = slot_for(out, key);
		size_t vlen = 0;
		int rc = pct_decode(buf + vs, i - vs, sl.dst, sl.cap, &vlen);
		if (rc != JMP_OK)
			return rc;
		if (sl.has != NULL)
			*sl.has = 1;
		if (span_is(key, "ticket") && out->status == JMP_STATUS_TICKET)
			*has_ticket = vlen > 0;
	}
	return JMP_OK;
}

int jmp_parse_response(const char *buf, size_t len, struct jmp_response *out)
{
	size_t i, end, ws;
	int has_ticket = 0, rc;

	if (buf == NULL || out == NULL)
		return JMP_ERR_INVALID_ARG;
	memset(out, 0, sizeof(*out));
	if (len > JMP_LINE_MAX)
		return JMP_ERR_TOO_LONG;
	if (len == 0 || buf[len - 1] != '\n')
		return JMP_ERR_NO_NEWLINE;
	end = len - 1; /* index of the '\n' */
	for (i = 0; i < end; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] > 0x7e)
			return JMP_ERR_BAD_BYTE;

	/* "v1", then one space and the status word. */
	for (i = 0; i < end && buf[i] != ' '; i++)
		;
	if (i != 2 || memcmp(buf, "v1", 2) != 0)
		return JMP_ERR_BAD_VERSION;
	ws = ++i;
	while (i < end && buf[i] != ' ')
		i++;
	struct span st = {buf + ws, ws <= end ? i - ws : 0};
	if (ws > end || !valid_word(st.p, st.len))
		return JMP_ERR_BAD_WORD;
	for (size_t k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++)
		if (span_is(st, statuses[k].word))
			out->status = statuses[k].status;
	if (out->status == 0)
		return JMP_ERR_UNKNOWN_STATUS;

	rc = parse_fields(buf, i, end, out, &has_ticket);
	if (rc != JMP_OK) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	/* An error without a code is still a refusal (pam_jmp denies it), so it
	 * parses; a ticket answer without a ticket is no answer. */
	if (out->status == JMP_STATUS_TICKET && !has_ticket) {
		memset(out, 0, sizeof(*out));
		return JMP_ERR_MISSING_FIELD;
	}
	if (out->has_mode && !known_mode(out->mode)) {
		out->has_mode = 0; /* like an unknown key: forward compatible */
		out->mode[0] = '\0';
	}
	return JMP_OK;
}

/* ---- errors -------------------------------------------------------------- */

static const struct {
	int err;
	const char *name;
	const char *text;
} errors[] = {
	{JMP_OK, "ok", "success"},
	{JMP_ERR_INVALID_ARG, "invalid_arg", "invalid argument (no buffer)"},
	{JMP_ERR_TOO_LONG, "too_long", "the line is longer than 8192 bytes"},
	{JMP_ERR_NO_NEWLINE, "no_newline", "the line is empty or does not end in a newline"},
	{JMP_ERR_BAD_BYTE, "bad_byte",
	 "the line contains a control character (\\r, NUL, a second newline) or a non-ASCII byte"},
	{JMP_ERR_BAD_VERSION, "bad_version", "the line does not start with \"v1 \""},
	{JMP_ERR_BAD_WORD, "bad_word", "the status word is missing or not [a-z0-9_]{1,32}"},
	{JMP_ERR_UNKNOWN_STATUS, "unknown_status", "the status is not one of v1's"},
	{JMP_ERR_EMPTY_FIELD, "empty_field", "fields are not separated by exactly one space"},
	{JMP_ERR_NO_EQUALS, "no_equals", "a field has no \"=\""},
	{JMP_ERR_BAD_KEY, "bad_key", "a key is not [a-z0-9_]{1,32}"},
	{JMP_ERR_DUP_KEY, "dup_key", "a key appears more than once"},
	{JMP_ERR_BAD_VALUE_CHAR, "bad_value_char",
	 "a value contains a character that must be percent-encoded"},
	{JMP_ERR_BAD_ESCAPE, "bad_escape", "a \"%\" in a value is not followed by two hex digits"},
	{JMP_ERR_DECODED_NUL, "decoded_nul", "a value decodes to a NUL byte"},
	{JMP_ERR_BAD_UTF8, "bad_utf8", "a value does not decode to well-formed UTF-8"},
	{JMP_ERR_VALUE_TOO_LONG, "value_too_long",
	 "a mode, code, version or uid value is longer than 63 bytes"},
	{JMP_ERR_MISSING_FIELD, "missing_field", "a ticket answer has no ticket (or an empty one)"},
};

const char *jmp_strerror(int err)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].err == err)
			return errors[i].text;
	return "unknown error";
}

const char *jmp_err_name(int err)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].err == err)
			return errors[i].name;
	return "unknown";
}

void jmp_sanitize_text(char *dst, size_t cap, const char *src)
{
	size_t o = 0;

	if (cap == 0)
		return;
	for (; src != NULL && *src != '\0' && o + 1 < cap; src++) {
		unsigned char c = (unsigned char)*src;
		dst[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[o] = '\0';
}
