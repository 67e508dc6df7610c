/*
 * agent_socket: one exchange with the local jmp-agent over its unix socket:
 * connect, write one request line, read one response line, all bounded by a
 * deadline. Knows nothing of the line format beyond "ends in '\n'"
 * (protocol.* encodes and parses).
 */
#ifndef JMP_AGENT_SOCKET_H
#define JMP_AGENT_SOCKET_H

#include <stddef.h>

#define JMP_DEFAULT_SOCKET     "/run/jmp/agent.sock"
#define JMP_DEFAULT_TIMEOUT_MS 3000

/* Outcome of one exchange with the agent. */
enum jmp_call_result {
	JMP_CALL_OK = 0,       /* a complete line was received */
	JMP_CALL_NO_AGENT,     /* bad path, no socket, connect refused */
	JMP_CALL_TIMEOUT,      /* the deadline passed */
	JMP_CALL_IO,	       /* read/write error or EOF before '\n' */
	JMP_CALL_TOO_LONG,     /* no '\n' within JMP_LINE_MAX bytes */
	JMP_CALL_BAD_RESPONSE, /* line received but unparseable */
	JMP_CALL_BAD_REQUEST,  /* our request could not be encoded */
};

const char *jmp_call_result_str(enum jmp_call_result r);

/* Connects to socket_path, writes req[0..req_len), reads one line into resp
 * (at most min(cap, JMP_LINE_MAX) bytes). The whole exchange is bounded by
 * timeout_ms (monotonic clock). On JMP_CALL_OK *resp_len is the line length
 * including its '\n'. EINTR-safe, close-on-exec, never raises SIGPIPE. */
enum jmp_call_result jmp_agent_exchange(const char *socket_path, int timeout_ms, const char *req,
					size_t req_len, char *resp, size_t cap, size_t *resp_len);

#endif
