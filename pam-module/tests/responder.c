#define _GNU_SOURCE
#include "responder.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

long long test_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void test_tmpdir(char *buf, size_t cap)
{
	snprintf(buf, cap, "/tmp/jmp-test.XXXXXX");
	if (mkdtemp(buf) == NULL) {
		perror("mkdtemp");
		abort();
	}
}

void test_rmrf(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void handle(struct responder *r, int fd)
{
	char buf[16384];
	size_t got = 0;

	/* Read one line (or until EOF / 2 s). */
	while (got < sizeof(buf) - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 2000) <= 0)
			break;
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\n', got) != NULL)
			break;
	}
	buf[got] = '\0';
	pthread_mutex_lock(&r->mu);
	memcpy(r->last_req, buf, got + 1);
	r->last_req_len = got;
	r->nreq++;
	pthread_mutex_unlock(&r->mu);

	switch (r->mode) {
	case RESPOND_REPLY: {
		size_t off = 0;
		while (off < r->reply_len) {
			ssize_t n = send(fd, r->reply + off, r->reply_len - off, MSG_NOSIGNAL);
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		close(fd);
		break;
	}
	case RESPOND_SILENT:
		pthread_mutex_lock(&r->mu);
		if (r->nheld < (int)(sizeof(r->held) / sizeof(r->held[0])))
			r->held[r->nheld++] = fd;
		else
			close(fd);
		pthread_mutex_unlock(&r->mu);
		break;
	case RESPOND_CLOSE:
		close(fd);
		break;
	}
}

static void *run(void *arg)
{
	struct responder *r = arg;

	for (;;) {
		pthread_mutex_lock(&r->mu);
		int stop = r->stop;
		pthread_mutex_unlock(&r->mu);
		if (stop)
			break;
		struct pollfd p = {.fd = r->lfd, .events = POLLIN};
		if (poll(&p, 1, 20) <= 0)
			continue;
		int fd = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			handle(r, fd);
	}
	return NULL;
}

int responder_start(struct responder *r, enum responder_mode mode, const char *reply)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	r->mode = mode;
	r->reply = reply;
	r->reply_len = reply ? strlen(reply) : 0;
	test_tmpdir(r->dir, sizeof(r->dir));
	snprintf(r->path, sizeof(r->path), "%s/agent.sock", r->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", r->path);
	r->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->lfd < 0 || bind(r->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(r->lfd, 64) != 0) {
		perror("responder");
		return -1;
	}
	return pthread_create(&r->th, NULL, run, r);
}

void responder_stop(struct responder *r)
{
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->th, NULL);
	for (int i = 0; i < r->nheld; i++)
		close(r->held[i]);
	close(r->lfd);
	test_rmrf(r->dir);
	pthread_mutex_destroy(&r->mu);
}

void responder_last(struct responder *r, char *buf, size_t cap)
{
	pthread_mutex_lock(&r->mu);
	snprintf(buf, cap, "%s", r->last_req);
	pthread_mutex_unlock(&r->mu);
}

int responder_count(struct responder *r)
{
	pthread_mutex_lock(&r->mu);
	int n = r->nreq;
	pthread_mutex_unlock(&r->mu);
	return n;
}
