/* agent_socket: bounded unix-socket exchange with the jmp-agent. */
#define _GNU_SOURCE
#include "agent_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "protocol.h" /* JMP_LINE_MAX */

const char *jmp_call_result_str(enum jmp_call_result r)
{
	switch (r) {
	case JMP_CALL_OK:
		return "ok";
	case JMP_CALL_NO_AGENT:
		return "agent unreachable";
	case JMP_CALL_TIMEOUT:
		return "agent did not answer in time";
	case JMP_CALL_IO:
		return "agent connection failed";
	case JMP_CALL_TOO_LONG:
		return "agent response too long";
	case JMP_CALL_BAD_RESPONSE:
		return "agent response malformed";
	case JMP_CALL_BAD_REQUEST:
		return "request could not be encoded";
	}
	return "unknown error";
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline. Returns 1 ready, 0 timeout,
 * -1 error. Restarts on EINTR with the remaining time. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = {.fd = fd, .events = events};
		int r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			continue; /* re-check the deadline */
		if (p.revents & (events | POLLHUP | POLLERR))
			return 1;
		if (p.revents & POLLNVAL)
			return -1;
	}
}

/* Waits for `events`; JMP_CALL_OK when the socket is ready, else why not. */
static enum jmp_call_result await_ready(int fd, short events, long long deadline)
{
	int r = wait_fd(fd, events, deadline);
	if (r > 0)
		return JMP_CALL_OK;
	return r == 0 ? JMP_CALL_TIMEOUT : JMP_CALL_IO;
}

static enum jmp_call_result do_connect(int fd, const struct sockaddr_un *sa, long long deadline)
{
	for (;;) {
		if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return JMP_CALL_OK;
		if (errno == EINTR)
			continue;
		if (errno == EINPROGRESS) {
			int r = wait_fd(fd, POLLOUT, deadline), err = 0;
			socklen_t el = sizeof(err);
			if (r == 0)
				return JMP_CALL_TIMEOUT;
			if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 ||
			    err != 0)
				return JMP_CALL_NO_AGENT;
			return JMP_CALL_OK;
		}
		if (errno == EAGAIN) {
			/* Unix sockets: the listen backlog is full. Retry shortly,
			 * still bounded by the deadline. */
			long long left = deadline - now_ms();
			if (left <= 0)
				return JMP_CALL_TIMEOUT;
			struct timespec ts = {0, (left < 5 ? left : 5) * 1000000L};
			nanosleep(&ts, NULL);
			continue;
		}
		return JMP_CALL_NO_AGENT;
	}
}

enum jmp_call_result jmp_agent_exchange(const char *socket_path, int timeout_ms, const char *req,
					size_t req_len, char *resp, size_t cap, size_t *resp_len)
{
	struct sockaddr_un sa;
	enum jmp_call_result res;
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	size_t plen, off = 0, got = 0;
	int fd;

	if (resp_len != NULL)
		*resp_len = 0;
	if (socket_path == NULL || req == NULL || resp == NULL || cap == 0)
		return JMP_CALL_BAD_REQUEST;
	plen = strlen(socket_path);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (plen == 0 || plen >= sizeof(sa.sun_path))
		return JMP_CALL_NO_AGENT;
	memcpy(sa.sun_path, socket_path, plen);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return JMP_CALL_IO;
	res = do_connect(fd, &sa, deadline);
	if (res != JMP_CALL_OK)
		goto out;

	while (off < req_len) {
		ssize_t n = send(fd, req + off, req_len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			res = await_ready(fd, POLLOUT, deadline);
			if (res != JMP_CALL_OK)
				goto out;
			continue;
		}
		res = JMP_CALL_IO;
		goto out;
	}

	if (cap > JMP_LINE_MAX)
		cap = JMP_LINE_MAX;
	for (;;) {
		if (got >= cap) {
			res = JMP_CALL_TOO_LONG;
			goto out;
		}
		ssize_t n = recv(fd, resp + got, cap - got, 0);
		if (n > 0) {
			void *nl = memchr(resp + got, '\n', (size_t)n);
			if (nl != NULL) {
				/* Bytes after the first '\n' are ignored: one line only. */
				got = (size_t)((char *)nl - resp) + 1;
				break;
			}
			got += (size_t)n;
			continue;
		}
		if (n == 0) {
			res = JMP_CALL_IO; /* EOF before a full line */
			goto out;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			res = await_ready(fd, POLLIN, deadline);
			if (res != JMP_CALL_OK)
				goto out;
			continue;
		}
		res = JMP_CALL_IO;
		goto out;
	}
	if (resp_len != NULL)
		*resp_len = got;
	res = JMP_CALL_OK;
out:
	close(fd);
	return res;
}
