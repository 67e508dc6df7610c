/* agent_client: encode, exchange, parse. */
#define _GNU_SOURCE
#include "agent_client.h"

#include <string.h>

enum jmp_call_result jmp_agent_ask(const char *socket_path, int timeout_ms, const char *op,
				   const struct jmp_field *fields, size_t nfields,
				   struct jmp_response *out, int *parse_err)
{
	char req[JMP_LINE_MAX + 1];
	char resp[JMP_LINE_MAX];
	size_t rlen = 0;
	enum jmp_call_result r;
	int perr = JMP_OK;

	memset(out, 0, sizeof(*out));
	long n = jmp_encode_request(req, sizeof(req), op, fields, nfields);
	if (n < 0) {
		r = JMP_CALL_BAD_REQUEST;
	} else {
		r = jmp_agent_exchange(socket_path, timeout_ms, req, (size_t)n, resp, sizeof(resp),
				       &rlen);
		if (r == JMP_CALL_OK && (perr = jmp_parse_response(resp, rlen, out)) != JMP_OK)
			r = JMP_CALL_BAD_RESPONSE;
	}
	explicit_bzero(req, sizeof(req)); /* may hold a ticket */
	if (parse_err != NULL)
		*parse_err = perr;
	return r;
}
