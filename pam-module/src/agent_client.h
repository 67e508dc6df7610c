/*
 * agent_client: asking the local jmp-agent one question. Encode the request
 * (protocol.*), exchange it over the socket (agent_socket.*), parse the
 * answer (protocol.*).
 */
#ifndef JMP_AGENT_CLIENT_H
#define JMP_AGENT_CLIENT_H

#include <stddef.h>

#include "agent_socket.h"
#include "protocol.h"

/* Encode + exchange + parse. The request buffer (which may hold a ticket) is
 * wiped before returning. On JMP_CALL_BAD_RESPONSE, *parse_err (may be NULL)
 * receives the JMP_ERR_* that says which check the line failed (jmp_strerror);
 * otherwise JMP_OK. */
enum jmp_call_result jmp_agent_ask(const char *socket_path, int timeout_ms, const char *op,
				   const struct jmp_field *fields, size_t nfields,
				   struct jmp_response *out, int *parse_err);

#endif
