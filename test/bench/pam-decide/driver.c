/* pam-decide benchmark driver: pam_authenticate through the real libpam
 * (pam_start_confdir + pam_jmp.so) against a local responder thread that
 * answers "allow" at once. Usage: driver MODULE_PATH WORKDIR CALLS
 * Prints "p50_ms p99_ms". */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

static int lfd;

static void *responder(void *arg)
{
	(void)arg;
	static const char reply[] = "v1 allow mode=online\n";
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		char buf[8192];
		size_t got = 0;
		while (got < sizeof(buf)) {
			ssize_t n = read(fd, buf + got, sizeof(buf) - got);
			if (n <= 0)
				break;
			got += (size_t)n;
			if (memchr(buf, '\n', got))
				break;
		}
		if (send(fd, reply, sizeof(reply) - 1, MSG_NOSIGNAL) < 0)
			perror("send");
		close(fd);
	}
	return NULL;
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *d)
{
	(void)d;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			r[i].resp = strdup("bench-ticket-0123456789");
	*resp = r;
	return PAM_SUCCESS;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s MODULE WORKDIR CALLS\n", argv[0]);
		return 2;
	}
	const char *module = argv[1], *dir = argv[2];
	int calls = atoi(argv[3]);
	char sock[108], path[512], conf[512];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sock, sizeof(sock), "%s/agent.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 128)) {
		perror("responder socket");
		return 1;
	}
	pthread_t th;
	pthread_create(&th, NULL, responder, NULL);

	snprintf(conf, sizeof(conf), "%s/pam.conf", dir);
	FILE *f = fopen(conf, "w");
	if (f == NULL)
		return 1;
	fclose(f);
	snprintf(path, sizeof(path), "%s/jmp-sshd", dir);
	f = fopen(path, "w");
	if (f == NULL)
		return 1;
	fprintf(f, "auth required %s socket=%s conf=%s timeout_ms=3000\n", module, sock, conf);
	fclose(f);

	struct pam_conv pc = { conv, NULL };
	pam_handle_t *pamh;
	if (pam_start_confdir("jmp-sshd", "alice", &pc, dir, &pamh) != PAM_SUCCESS) {
		fprintf(stderr, "pam_start_confdir failed\n");
		return 1;
	}
	pam_set_item(pamh, PAM_RHOST, "127.0.0.1");
	pam_set_item(pamh, PAM_TTY, "ssh");
	double *t = calloc((size_t)calls, sizeof(double));
	for (int i = -100; i < calls; i++) { /* 100 warm-up calls */
		double t0 = now_ms();
		int rc = pam_authenticate(pamh, 0);
		double dt = now_ms() - t0;
		if (rc != PAM_SUCCESS) {
			fprintf(stderr, "pam_authenticate: %s\n", pam_strerror(pamh, rc));
			return 1;
		}
		if (i >= 0)
			t[i] = dt;
	}
	pam_end(pamh, PAM_SUCCESS);
	qsort(t, (size_t)calls, sizeof(double), cmp);
	printf("%.4f %.4f\n", t[calls / 2], t[(size_t)(calls * 0.99)]);
	return 0;
}
