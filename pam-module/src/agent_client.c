/* agent_client: jmp agent protocol v1 encode/decode and bounded socket I/O. */
#define _GNU_SOURCE
#include "agent_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
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

long jmp_encode_request(char *buf, size_t cap, const char *op,
			const struct jmp_field *fields, size_t nfields)
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

/* Validates and decodes v[0..vlen) into dst (cap bytes incl. NUL) when dst is
 * non-NULL. Returns 0, or -1 on a bad byte, bad escape, NUL or overflow. */
static int pct_decode(const char *v, size_t vlen, char *dst, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '%') {
			if (vlen - i < 3)
				return -1;
			int hi = hex_val((unsigned char)v[i + 1]);
			int lo = hex_val((unsigned char)v[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			if (c == '\0')
				return -1;
			i += 2;
		} else if (!is_unreserved(c)) {
			return -1;
		}
		if (dst != NULL) {
			if (cap - o < 2)
				return -1;
			dst[o++] = (char)c;
		}
	}
	if (dst != NULL)
		dst[o] = '\0';
	return 0;
}

struct span {
	const char *p;
	size_t len;
};

static int span_is(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && memcmp(s.p, lit, n) == 0;
}

int jmp_parse_response(const char *buf, size_t len, struct jmp_response *out)
{
	struct span seen[JMP_RESP_FIELDS_MAX];
	size_t nseen = 0, i, end;

	if (buf == NULL || out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if (len < 4 || len > JMP_LINE_MAX || buf[len - 1] != '\n')
		return -1;
	end = len - 1; /* index of the '\n'; no other '\n'/'\r' may appear */
	if (memcmp(buf, "v1 ", 3) != 0)
		return -1;

	i = 3;
	size_t ws = i;
	while (i < end && buf[i] != ' ')
		i++;
	struct span st = { buf + ws, i - ws };
	if (!valid_word(st.p, st.len))
		return -1;
	if (span_is(st, "allow"))
		out->status = JMP_STATUS_ALLOW;
	else if (span_is(st, "deny"))
		out->status = JMP_STATUS_DENY;
	else if (span_is(st, "error"))
		out->status = JMP_STATUS_ERROR;
	else if (span_is(st, "pong"))
		out->status = JMP_STATUS_PONG;
	else
		return -1;

	while (i < end) {
		/* buf[i] == ' ': exactly one space, then key=value */
		i++;
		size_t ks = i;
		while (i < end && buf[i] != '=' && buf[i] != ' ')
			i++;
		if (i >= end || buf[i] != '=')
			return -1;
		struct span key = { buf + ks, i - ks };
		if (!valid_word(key.p, key.len))
			return -1;
		i++; /* '=' */
		size_t vs = i;
		while (i < end && buf[i] != ' ')
			i++;
		struct span val = { buf + vs, i - vs };

		for (size_t k = 0; k < nseen; k++)
			if (seen[k].len == key.len && memcmp(seen[k].p, key.p, key.len) == 0)
				return -1; /* duplicate key */
		if (nseen >= JMP_RESP_FIELDS_MAX)
			return -1;
		seen[nseen++] = key;

		char *dst = NULL;
		size_t cap = 0;
		int *has = NULL;
		if (span_is(key, "reason")) {
			dst = out->reason; cap = sizeof(out->reason); has = &out->has_reason;
		} else if (span_is(key, "mode")) {
			dst = out->mode; cap = sizeof(out->mode); has = &out->has_mode;
		} else if (span_is(key, "code")) {
			dst = out->code; cap = sizeof(out->code); has = &out->has_code;
		} else if (span_is(key, "version")) {
			dst = out->version; cap = sizeof(out->version); has = &out->has_version;
		} else if (span_is(key, "uid")) {
			dst = out->uid; cap = sizeof(out->uid); has = &out->has_uid;
		}
		/* Unknown keys are validated but ignored (forward compatibility). */
		if (pct_decode(val.p, val.len, dst, cap) != 0)
			return -1;
		if (has != NULL)
			*has = 1;
	}
	return 0;
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

const char *jmp_call_result_str(enum jmp_call_result r)
{
	switch (r) {
	case JMP_CALL_OK: return "ok";
	case JMP_CALL_NO_AGENT: return "agent unreachable";
	case JMP_CALL_TIMEOUT: return "agent did not answer in time";
	case JMP_CALL_IO: return "agent connection failed";
	case JMP_CALL_TOO_LONG: return "agent response too long";
	case JMP_CALL_BAD_RESPONSE: return "agent response malformed";
	case JMP_CALL_BAD_REQUEST: return "request could not be encoded";
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
		struct pollfd p = { .fd = fd, .events = events };
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

static enum jmp_call_result do_connect(int fd, const struct sockaddr_un *sa,
				       long long deadline)
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
			if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0)
				return JMP_CALL_NO_AGENT;
			return JMP_CALL_OK;
		}
		if (errno == EAGAIN) {
			/* Unix sockets: the listen backlog is full. Retry shortly,
			 * still bounded by the deadline. */
			long long left = deadline - now_ms();
			if (left <= 0)
				return JMP_CALL_TIMEOUT;
			struct timespec ts = { 0, (left < 5 ? left : 5) * 1000000L };
			nanosleep(&ts, NULL);
			continue;
		}
		return JMP_CALL_NO_AGENT;
	}
}

enum jmp_call_result jmp_agent_exchange(const char *socket_path, int timeout_ms,
					const char *req, size_t req_len,
					char *resp, size_t cap, size_t *resp_len)
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
			int r = wait_fd(fd, POLLOUT, deadline);
			if (r == 0) { res = JMP_CALL_TIMEOUT; goto out; }
			if (r < 0) { res = JMP_CALL_IO; goto out; }
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
			int r = wait_fd(fd, POLLIN, deadline);
			if (r == 0) { res = JMP_CALL_TIMEOUT; goto out; }
			if (r < 0) { res = JMP_CALL_IO; goto out; }
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

enum jmp_call_result jmp_agent_ask(const char *socket_path, int timeout_ms,
				   const char *op, const struct jmp_field *fields,
				   size_t nfields, struct jmp_response *out)
{
	char req[JMP_LINE_MAX + 1];
	char resp[JMP_LINE_MAX];
	size_t rlen = 0;
	enum jmp_call_result r;

	memset(out, 0, sizeof(*out));
	long n = jmp_encode_request(req, sizeof(req), op, fields, nfields);
	if (n < 0) {
		r = JMP_CALL_BAD_REQUEST;
	} else {
		r = jmp_agent_exchange(socket_path, timeout_ms, req, (size_t)n,
				       resp, sizeof(resp), &rlen);
		if (r == JMP_CALL_OK && jmp_parse_response(resp, rlen, out) != 0)
			r = JMP_CALL_BAD_RESPONSE;
	}
	explicit_bzero(req, sizeof(req)); /* may hold a ticket */
	return r;
}
