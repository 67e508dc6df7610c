/*
 * protocol: the jmp agent line protocol, v1 (docs/agent-protocol.md). Encodes
 * request lines and parses response lines. Pure: no I/O, no clocks, no
 * globals. Shared by pam_jmp.so and libnss_jmp.so.2; the socket side is
 * agent_socket.*.
 *
 * Everything here is bounded: a line is at most JMP_LINE_MAX bytes including
 * its '\n', and every write into a buffer is length-checked first.
 */
#ifndef JMP_PROTOCOL_H
#define JMP_PROTOCOL_H

#include <stddef.h>

#define JMP_LINE_MAX	    8192 /* including the terminating '\n' */
#define JMP_KEY_MAX	    32
#define JMP_SHORT_VALUE_MAX 63 /* mode, code, version, uid: decoded bytes */

/* One request field. A NULL value means "absent": the field is not sent. */
struct jmp_field {
	const char *key;
	const char *value;
};

/* Encodes "v1 <op> k=v ...\n" into buf. Returns the line length (including
 * '\n'), or -1 if op/key is invalid or the line would exceed
 * min(cap, JMP_LINE_MAX). */
long jmp_encode_request(char *buf, size_t cap, const char *op, const struct jmp_field *fields,
			size_t nfields);

/* Percent-encodes src[0..len) into dst (NUL-terminated). Returns the encoded
 * length or -1 if it does not fit in cap (including the NUL). */
long jmp_pct_encode(char *dst, size_t cap, const char *src, size_t len);

enum jmp_status {
	JMP_STATUS_ALLOW = 1,
	JMP_STATUS_DENY,
	JMP_STATUS_ERROR,
	JMP_STATUS_PONG,
	JMP_STATUS_TICKET, /* answer to `ticket`: pam_jmp never asks it */
};

/* Decoded response. Only the fields the status defines are kept (decoded,
 * NUL-terminated; has_* says whether the key was present); the others are
 * validated and ignored, like unknown keys. A decoded value never contains a
 * NUL byte and is well-formed UTF-8. An unknown mode is dropped (has_mode 0). */
struct jmp_response {
	enum jmp_status status;
	int has_reason, has_mode, has_code, has_version, has_uid;
	char reason[JMP_LINE_MAX];	       /* allow, deny, error */
	char mode[JMP_SHORT_VALUE_MAX + 1];    /* allow, deny, pong */
	char code[JMP_SHORT_VALUE_MAX + 1];    /* error */
	char version[JMP_SHORT_VALUE_MAX + 1]; /* pong */
	char uid[JMP_SHORT_VALUE_MAX + 1];     /* allow: the jmp uid of the user */
};

/* Why a response line was refused: one code per check, like OpenSSH's
 * SSH_ERR_*. jmp_strerror() turns a code into a sentence. */
enum jmp_err {
	JMP_OK = 0,
	JMP_ERR_INVALID_ARG = -1,     /* NULL buffer or output */
	JMP_ERR_TOO_LONG = -2,	      /* more than JMP_LINE_MAX bytes */
	JMP_ERR_NO_NEWLINE = -3,      /* empty, or does not end in '\n' */
	JMP_ERR_BAD_BYTE = -4,	      /* control (\r, 2nd \n, NUL) or non-ASCII byte */
	JMP_ERR_BAD_VERSION = -5,     /* does not start with "v1 " */
	JMP_ERR_BAD_WORD = -6,	      /* status word missing or not [a-z0-9_]{1,32} */
	JMP_ERR_UNKNOWN_STATUS = -7,  /* well-formed but not a v1 status */
	JMP_ERR_EMPTY_FIELD = -8,     /* two spaces in a row, or a trailing space */
	JMP_ERR_NO_EQUALS = -9,	      /* a field without '=' */
	JMP_ERR_BAD_KEY = -10,	      /* a key that is not [a-z0-9_]{1,32} */
	JMP_ERR_DUP_KEY = -11,	      /* a key appears twice */
	JMP_ERR_BAD_VALUE_CHAR = -12, /* a value holds a byte that must be %-encoded */
	JMP_ERR_BAD_ESCAPE = -13,     /* '%' not followed by two hex digits */
	JMP_ERR_DECODED_NUL = -14,    /* a value decodes to a NUL byte */
	JMP_ERR_BAD_UTF8 = -15,	      /* a value does not decode to UTF-8 */
	JMP_ERR_VALUE_TOO_LONG = -16, /* mode/code/version/uid over 63 bytes */
	JMP_ERR_MISSING_FIELD = -17,  /* a ticket answer without a ticket */
};

/* A sentence for a JMP_ERR_* code (never NULL). */
const char *jmp_strerror(int err);

/* The golden-vector name of a JMP_ERR_* code ("too_long", "dup_key", ...;
 * see test/golden/agent-protocol-v1.txt), or "unknown". */
const char *jmp_err_name(int err);

/* Parses one response line: buf[0..len) must be exactly one line ending in
 * '\n'. Returns JMP_OK, or the JMP_ERR_* of the first check that failed (the
 * checks run in the order of enum jmp_err, left to right along the line). */
int jmp_parse_response(const char *buf, size_t len, struct jmp_response *out);

/* Copies src into dst (cap bytes), replacing control characters and DEL with
 * '?', so an agent-provided reason cannot inject terminal escapes or fake log
 * lines. Always NUL-terminates when cap > 0. */
void jmp_sanitize_text(char *dst, size_t cap, const char *src);

#endif
