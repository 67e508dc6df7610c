/*
 * agent_client: the jmp agent protocol (docs/agent-protocol.md, v1) and the
 * socket I/O to the local jmp-agent. Shared by pam_jmp.so and libnss_jmp.so.2.
 *
 * Everything here is bounded: a line is at most JMP_LINE_MAX bytes including
 * its '\n', and every write into a buffer is length-checked first.
 */
#ifndef JMP_AGENT_CLIENT_H
#define JMP_AGENT_CLIENT_H

#include <stddef.h>

#define JMP_LINE_MAX 8192   /* including the terminating '\n' */
#define JMP_KEY_MAX 32
#define JMP_RESP_FIELDS_MAX 64
#define JMP_DEFAULT_SOCKET "/run/jmp/agent.sock"
#define JMP_DEFAULT_TIMEOUT_MS 3000

/* One request field. A NULL value means "absent": the field is not sent. */
struct jmp_field {
	const char *key;
	const char *value;
};

/* Encodes "v1 <op> k=v ...\n" into buf. Returns the line length (including
 * '\n'), or -1 if op/key is invalid or the line would exceed
 * min(cap, JMP_LINE_MAX). */
long jmp_encode_request(char *buf, size_t cap, const char *op,
			const struct jmp_field *fields, size_t nfields);

/* Percent-encodes src[0..len) into dst (NUL-terminated). Returns the encoded
 * length or -1 if it does not fit in cap (including the NUL). */
long jmp_pct_encode(char *dst, size_t cap, const char *src, size_t len);

enum jmp_status {
	JMP_STATUS_ALLOW = 1,
	JMP_STATUS_DENY,
	JMP_STATUS_ERROR,
	JMP_STATUS_PONG,
};

/* Decoded response. The known fields are copied (decoded, NUL-terminated);
 * has_* says whether the key was present. A decoded value never contains a
 * NUL byte and is at most JMP_LINE_MAX - 1 bytes. */
struct jmp_response {
	enum jmp_status status;
	int has_reason, has_mode, has_code, has_version, has_uid;
	char reason[JMP_LINE_MAX];
	char mode[64];
	char code[64];
	char version[64];
	char uid[64]; /* allow: the jmp uid of the user the answer is about */
};

/* Parses one response line: buf[0..len) must be exactly one line ending in
 * '\n' (no '\r', no other '\n'). Returns 0 on success, -1 if the line is
 * malformed (bad version, unknown status, bad key, bad escape, decoded NUL,
 * duplicate key, known field too long, too many fields, too long). */
int jmp_parse_response(const char *buf, size_t len, struct jmp_response *out);

/* Outcome of one exchange with the agent. */
enum jmp_call_result {
	JMP_CALL_OK = 0,        /* a complete line was received */
	JMP_CALL_NO_AGENT,      /* bad path, no socket, connect refused */
	JMP_CALL_TIMEOUT,       /* the deadline passed */
	JMP_CALL_IO,            /* read/write error or EOF before '\n' */
	JMP_CALL_TOO_LONG,      /* no '\n' within JMP_LINE_MAX bytes */
	JMP_CALL_BAD_RESPONSE,  /* line received but unparseable */
	JMP_CALL_BAD_REQUEST,   /* our request could not be encoded */
};

const char *jmp_call_result_str(enum jmp_call_result r);

/* Connects to socket_path, writes req[0..req_len), reads one line into resp
 * (cap >= JMP_LINE_MAX recommended). The whole exchange is bounded by
 * timeout_ms (monotonic clock). On JMP_CALL_OK *resp_len is the line length
 * including its '\n'. EINTR-safe, close-on-exec, never raises SIGPIPE. */
enum jmp_call_result jmp_agent_exchange(const char *socket_path, int timeout_ms,
					const char *req, size_t req_len,
					char *resp, size_t cap, size_t *resp_len);

/* Encode + exchange + parse. The request buffer (which may hold a ticket) is
 * wiped before returning. */
enum jmp_call_result jmp_agent_ask(const char *socket_path, int timeout_ms,
				   const char *op, const struct jmp_field *fields,
				   size_t nfields, struct jmp_response *out);

/* Copies src into dst (cap bytes), replacing control characters and DEL with
 * '?', so an agent-provided reason cannot inject terminal escapes or fake log
 * lines. Always NUL-terminates when cap > 0. */
void jmp_sanitize_text(char *dst, size_t cap, const char *src);

#endif
