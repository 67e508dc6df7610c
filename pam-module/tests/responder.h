/* Test helper: a fake jmp-agent on a temporary unix socket, in a thread. */
#ifndef JMP_TEST_RESPONDER_H
#define JMP_TEST_RESPONDER_H

#include <pthread.h>
#include <stddef.h>

enum responder_mode {
	RESPOND_REPLY,	/* read one line, write reply, close */
	RESPOND_SILENT, /* accept, read, never answer (held open until stop) */
	RESPOND_CLOSE,	/* accept, read, close without answering */
};

struct responder {
	char dir[64];
	char path[108];
	int lfd;
	pthread_t th;
	pthread_mutex_t mu;
	enum responder_mode mode;
	const char *reply; /* may be longer than a line, for too-long tests */
	size_t reply_len;
	char last_req[16384];
	size_t last_req_len;
	int nreq;
	int stop;
	int held[64];
	int nheld;
};

/* reply is copied by pointer: keep it alive until responder_stop. */
int responder_start(struct responder *r, enum responder_mode mode, const char *reply);
void responder_stop(struct responder *r);
/* Copy of the last request line (NUL-terminated) into buf. */
void responder_last(struct responder *r, char *buf, size_t cap);
int responder_count(struct responder *r);

/* A fresh temp directory (mkdtemp) path into buf. */
void test_tmpdir(char *buf, size_t cap);
void test_rmrf(const char *dir);
long long test_now_ms(void);

#endif
