/* pam-decide benchmark driver: pam_authenticate through the real libpam
 * (pam_start_confdir + pam_jmp.so) against a local responder thread that
 * answers "allow" at once, against a baseline in the same process: libpam
 * with pam_permit.so plus one bare round trip (connect, a request line, the
 * answer) to the same responder, i.e. what pam_jmp cannot avoid.
 * Alternating rounds after a warm-up round (test/bench/README.md).
 * Usage: driver MODULE_PATH WORKDIR CALLS ROUNDS
 * Every round on stderr; on stdout one line per counted round:
 * "base_p50 base_p99 jmp_p50 jmp_p99" (ms). */
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

static struct sockaddr_un sa = {.sun_family = AF_UNIX};

/* The bare client: the question a PAM module would send, and its answer. */
static int round_trip(void)
{
	static const char line[] = "v1 auth user=alice service=jmp-sshd rhost=127.0.0.1 tty=ssh "
				   "ticket=bench-ticket-0123456789\n";
	char buf[256];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    send(fd, line, sizeof(line) - 1, MSG_NOSIGNAL) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 && memchr(buf, '\n', (size_t)n) ? 0 : -1;
}

/* One block of `calls` timed calls: pam_authenticate, plus a bare round trip when `bare`. */
static int block(pam_handle_t *pamh, int bare, int calls, double *t)
{
	for (int i = 0; i < calls; i++) {
		double t0 = now_ms();
		int rc = pam_authenticate(pamh, 0);
		if (rc != PAM_SUCCESS) {
			fprintf(stderr, "pam_authenticate: %s\n", pam_strerror(pamh, rc));
			return -1;
		}
		if (bare && round_trip() != 0) {
			perror("bare round trip to the responder");
			return -1;
		}
		t[i] = now_ms() - t0;
	}
	qsort(t, (size_t)calls, sizeof(double), cmp);
	return 0;
}

static pam_handle_t *start(const char *service, const char *dir)
{
	static struct pam_conv pc = {conv, NULL};
	pam_handle_t *pamh;
	if (pam_start_confdir(service, "alice", &pc, dir, &pamh) != PAM_SUCCESS) {
		fprintf(stderr, "pam_start_confdir %s failed\n", service);
		exit(1);
	}
	pam_set_item(pamh, PAM_RHOST, "127.0.0.1");
	pam_set_item(pamh, PAM_TTY, "ssh");
	return pamh;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s MODULE WORKDIR CALLS ROUNDS\n", argv[0]);
		return 2;
	}
	const char *module = argv[1], *dir = argv[2];
	int calls = atoi(argv[3]), rounds = atoi(argv[4]);
	if (calls < 100 || rounds < 1) {
		fprintf(stderr, "CALLS must be >= 100 and ROUNDS >= 1\n");
		return 2;
	}
	char sock[108], path[512], conf[512];

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
	snprintf(path, sizeof(path), "%s/permit-sshd", dir);
	f = fopen(path, "w");
	if (f == NULL)
		return 1;
	fprintf(f, "auth required pam_permit.so\n");
	fclose(f);

	pam_handle_t *jmp = start("jmp-sshd", dir), *permit = start("permit-sshd", dir);
	double *tb = calloc((size_t)calls, sizeof(double)),
	       *tj = calloc((size_t)calls, sizeof(double));
	if (tb == NULL || tj == NULL)
		return 1;
	size_t p50 = (size_t)calls / 2, p99 = (size_t)(calls * 0.99);
	for (int r = 0; r <= rounds; r++) { /* round 0: warm-up, not counted */
		if (block(permit, 1, calls, tb) || block(jmp, 0, calls, tj))
			return 1;
		fprintf(stderr,
			"pam-decide: %s%d/%d baseline (pam_permit + bare round trip) p50 %.4f ms p99 %.4f ms, "
			"pam_jmp p50 %.4f ms p99 %.4f ms, p99 ratio %.3f%s\n",
			r ? "round " : "warm-up ", r, rounds, tb[p50], tb[p99], tj[p50], tj[p99],
			tj[p99] / tb[p99], r ? "" : " (not counted)");
		if (r)
			printf("%.4f %.4f %.4f %.4f\n", tb[p50], tb[p99], tj[p50], tj[p99]);
	}
	pam_end(jmp, PAM_SUCCESS);
	pam_end(permit, PAM_SUCCESS);
	return 0;
}
