/* libFuzzer: the NSS cache line parsers and the copy into the caller's
 * buffer (first input byte picks the buffer size, to exercise ERANGE). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jmp_pw_line pl;
	struct jmp_gr_line gl;
	struct passwd pw;
	struct group gr;

	if (size < 1)
		return 0;
	size_t buflen = data[0] * 4u;
	const char *line = (const char *)data + 1;
	size_t len = size - 1;
	/* An exact-size heap buffer so ASan catches any overrun. */
	char *buf = malloc(buflen ? buflen : 1);
	if (buf == NULL)
		return 0;

	if (jmp_parse_pw_line(line, len, &pl) == 0) {
		int rc = jmp_fill_passwd(&pl, &pw, buf, buflen);
		if (rc != 0 && rc != ERANGE)
			abort();
		if (rc == 0 &&
		    (strcmp(pw.pw_passwd, "*") != 0 || strlen(pw.pw_name) != pl.name.len))
			abort();
	}
	if (jmp_parse_gr_line(line, len, &gl) == 0) {
		int rc = jmp_fill_group(&gl, &gr, buf, buflen);
		if (rc != 0 && rc != ERANGE)
			abort();
		if (rc == 0) {
			for (char **m = gr.gr_mem; *m != NULL; m++)
				if (**m == '\0' || strchr(*m, ',') != NULL)
					abort();
		}
	}
	free(buf);
	return 0;
}
