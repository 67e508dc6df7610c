/*
 * cache_reader: reads the jmp NSS cache files (passwd(5)/group(5) format)
 * written by jmp-agent. Knows nothing about how they are written, only that
 * they are replaced atomically by rename.
 *
 * A jmp_cache is not locked here: the caller serializes access.
 */
#ifndef JMP_CACHE_READER_H
#define JMP_CACHE_READER_H

#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Longer lines are skipped. A group line lists every member: jmp-users
 * holds every jmp user on the host (20,000 members is ~200 KiB). */
#define JMP_CACHE_LINE_MAX ((size_t)4 * 1024 * 1024)
#define JMP_CACHE_FILE_MAX (256L * 1024 * 1024) /* larger files are refused */

struct jmp_span {
	const char *p;
	size_t len;
};

/* A parsed passwd line: name:passwd:uid:gid:gecos:dir:shell */
struct jmp_pw_line {
	struct jmp_span name, gecos, dir, shell;
	uint32_t uid, gid;
};

/* A parsed group line: name:passwd:gid:mem1,mem2,... */
struct jmp_gr_line {
	struct jmp_span name, members;
	uint32_t gid;
};

/* Parse one line (without its '\n'). Return 0 or -1 if malformed: wrong
 * field count, empty name, bad number, NUL or control byte, too long. */
int jmp_parse_pw_line(const char *line, size_t len, struct jmp_pw_line *out);
int jmp_parse_gr_line(const char *line, size_t len, struct jmp_gr_line *out);

/* Copy into the caller's struct and buffer. The password field is always
 * "*". Return 0, or ERANGE if buflen is too small. */
int jmp_fill_passwd(const struct jmp_pw_line *l, struct passwd *pw, char *buf, size_t buflen);
int jmp_fill_group(const struct jmp_gr_line *l, struct group *gr, char *buf, size_t buflen);

enum jmp_cache_kind { JMP_CACHE_PASSWD, JMP_CACHE_GROUP };

struct jmp_cache_entry {
	uint32_t off, len; /* the line in data */
	uint32_t id;	   /* uid or gid */
	uint32_t hash;	   /* of the name */
	uint32_t name_len;
};

struct jmp_cache {
	enum jmp_cache_kind kind;
	int loaded;
	dev_t dev;
	ino_t ino;
	struct timespec mtim;
	off_t size;
	char *data;
	struct jmp_cache_entry *entries;
	uint32_t n;
	uint32_t *by_name, *by_id; /* open addressing, entry index + 1, 0 = empty */
	uint32_t mask;
};

void jmp_cache_init(struct jmp_cache *c, enum jmp_cache_kind kind);
void jmp_cache_clear(struct jmp_cache *c);
/* Makes c reflect the file at path, reloading only when its (st_dev, st_ino,
 * st_mtim, st_size) changed. A missing, unreadable or unsafe file (not a
 * regular file, group/world-writable, owned by neither root nor the
 * effective uid) leaves c empty. Returns 0 when c holds the file, -1 if not. */
int jmp_cache_refresh(struct jmp_cache *c, const char *path);

/* Index of the first entry with that name / id, or -1. */
long jmp_cache_find_name(const struct jmp_cache *c, const char *name);
long jmp_cache_find_id(const struct jmp_cache *c, uint32_t id);

/* Re-parse entry i (validated at load). Return 0 or -1. */
int jmp_cache_pw(const struct jmp_cache *c, uint32_t i, struct jmp_pw_line *out);
int jmp_cache_gr(const struct jmp_cache *c, uint32_t i, struct jmp_gr_line *out);

/* Whether local (the host's own groups; may be NULL or not loaded) has a
 * group with l's name or gid. */
int jmp_cache_group_clash(const struct jmp_cache *local, const struct jmp_gr_line *l);

/* Appends to the glibc initgroups_dyn array the gid of every group listing
 * user as a member, except skip_gid, gids already present and groups whose
 * name or gid is in local (the host's own groups; may be NULL). Grows the
 * array (respecting limit > 0). Returns 0, or ENOMEM. */
int jmp_cache_initgroups(const struct jmp_cache *c, const struct jmp_cache *local, const char *user,
			 gid_t skip_gid, long *start, long *size, gid_t **groupsp, long limit);

#endif
