/* nss-lookup benchmark driver: getpwnam_r of random users through glibc,
 * with the passwd database served by one NSS module ("files" or "jmp").
 * Usage: driver MODULE USERS LOOKUPS -> prints "ns_per_lookup". */
#define _GNU_SOURCE
#include <nss.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static unsigned long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s files|jmp USERS LOOKUPS\n", argv[0]);
		return 2;
	}
	const char *module = argv[1];
	long users = atol(argv[2]), lookups = atol(argv[3]);
	if (__nss_configure_lookup("passwd", module) != 0) {
		fprintf(stderr, "cannot configure passwd: %s\n", module);
		return 1;
	}
	struct passwd pw, *res;
	char buf[4096], name[32];
	unsigned int seed = 12345; /* same sequence for both modules */

	/* Warm-up: loads the module (and, for jmp, builds its index). */
	snprintf(name, sizeof(name), "user%05ld", users - 1);
	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
		fprintf(stderr, "%s: warm-up lookup of %s failed\n", module, name);
		return 1;
	}
	unsigned long long t0 = now_ns();
	for (long i = 0; i < lookups; i++) {
		seed = seed * 1103515245u + 12345u;
		long k = (long)((seed >> 8) % (unsigned long)users);
		snprintf(name, sizeof(name), "user%05ld", k);
		if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || res == NULL ||
		    pw.pw_uid != (uid_t)(200000 + k)) {
			fprintf(stderr, "%s: lookup of %s failed\n", module, name);
			return 1;
		}
	}
	unsigned long long dt = now_ns() - t0;
	printf("%llu\n", dt / (unsigned long long)lookups);
	return 0;
}
