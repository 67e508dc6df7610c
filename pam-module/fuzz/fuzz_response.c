/* libFuzzer: the agent response parser, plus encode->parse round trips. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jmp_response r;
	static char enc[3 * JMP_LINE_MAX + 1];
	static char line[4 * JMP_LINE_MAX];

	int rc = jmp_parse_response((const char *)data, size, &r);
	if (rc == JMP_OK) {
		/* Decoded values are NUL-free strings within their buffers. */
		if (r.status < JMP_STATUS_ALLOW || r.status > JMP_STATUS_TICKET)
			abort();
		if (strlen(r.reason) >= sizeof(r.reason) || strlen(r.mode) >= sizeof(r.mode) ||
		    strlen(r.uid) >= sizeof(r.uid) || strlen(r.code) >= sizeof(r.code))
			abort();
	} else {
		/* Every refusal names its check, and the output is left empty. */
		if (rc < JMP_ERR_MISSING_FIELD || rc > JMP_ERR_TOO_LONG || r.status != 0 ||
		    !strcmp(jmp_err_name(rc), "unknown"))
			abort();
	}

	/* Any NUL-free byte string survives encode -> parse unchanged when it is
	 * UTF-8, and is refused as bad_utf8 when it is not. */
	size_t n = strnlen((const char *)data, size);
	if (n > 2000)
		n = 2000;
	long el = jmp_pct_encode(enc, sizeof(enc), (const char *)data, n);
	if (el < 0)
		abort();
	memcpy(line, "v1 deny reason=", 15);
	memcpy(line + 15, enc, (size_t)el);
	line[15 + el] = '\n';
	rc = jmp_parse_response(line, 15 + (size_t)el + 1, &r);
	if (rc == JMP_OK) {
		if (strlen(r.reason) != n || memcmp(r.reason, data, n) != 0)
			abort();
	} else if (rc != JMP_ERR_BAD_UTF8) {
		abort();
	}

	/* And the request encoder never overflows or emits a bad line. */
	char req[JMP_LINE_MAX + 1];
	char val[2001];
	memcpy(val, data, n);
	val[n] = '\0';
	const struct jmp_field f[] = {{"user", val}, {"ticket", val}};
	long rl = jmp_encode_request(req, sizeof(req), "auth", f, 2);
	if (rl > JMP_LINE_MAX || (rl > 0 && req[rl - 1] != '\n'))
		abort();
	return 0;
}
