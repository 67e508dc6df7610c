/* cache_reader: parse and index the jmp NSS cache files. */
#define _GNU_SOURCE
#include "cache_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- line parsing ------------------------------------------------------ */

/* Splits line into exactly nf ':'-separated fields. Rejects NUL and control
 * bytes anywhere (a CRLF file is malformed, not silently half-read). */
static int split_fields(const char *line, size_t len, struct jmp_span *f, int nf)
{
	int k = 0;
	size_t start = 0;

	if (len == 0 || len > JMP_CACHE_LINE_MAX)
		return -1;
	for (size_t i = 0; i <= len; i++) {
		if (i < len) {
			unsigned char c = (unsigned char)line[i];
			if (c < 0x20 || c == 0x7f)
				return -1;
			if (c != ':')
				continue;
		}
		if (k >= nf)
			return -1;
		f[k].p = line + start;
		f[k].len = i - start;
		k++;
		start = i + 1;
	}
	return k == nf ? 0 : -1;
}

/* Decimal id, no sign, no leading junk; (uint32_t)-1 is not a valid id. */
static int parse_id(struct jmp_span s, uint32_t *out)
{
	uint64_t v = 0;

	if (s.len == 0 || s.len > 10)
		return -1;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	if (v >= UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Names: non-empty, not NIS compat ('+'/'-' prefix), no space or ','. */
static int valid_name(struct jmp_span s)
{
	if (s.len == 0 || s.p[0] == '+' || s.p[0] == '-')
		return 0;
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] == ' ' || s.p[i] == ',')
			return 0;
	return 1;
}

int jmp_parse_pw_line(const char *line, size_t len, struct jmp_pw_line *out)
{
	struct jmp_span f[7];

	if (line == NULL || out == NULL || split_fields(line, len, f, 7) != 0)
		return -1;
	if (!valid_name(f[0]) || parse_id(f[2], &out->uid) || parse_id(f[3], &out->gid))
		return -1;
	out->name = f[0];
	out->gecos = f[4];
	out->dir = f[5];
	out->shell = f[6];
	return 0;
}

int jmp_parse_gr_line(const char *line, size_t len, struct jmp_gr_line *out)
{
	struct jmp_span f[4];

	if (line == NULL || out == NULL || split_fields(line, len, f, 4) != 0)
		return -1;
	if (!valid_name(f[0]) || parse_id(f[2], &out->gid))
		return -1;
	for (size_t i = 0; i < f[3].len; i++)
		if (f[3].p[i] == ' ')
			return -1;
	out->name = f[0];
	out->members = f[3];
	return 0;
}

/* ---- filling the caller's buffers -------------------------------------- */

static char *put(char **cur, struct jmp_span s)
{
	char *dst = *cur;
	memcpy(dst, s.p, s.len);
	dst[s.len] = '\0';
	*cur += s.len + 1;
	return dst;
}

int jmp_fill_passwd(const struct jmp_pw_line *l, struct passwd *pw, char *buf, size_t buflen)
{
	static const struct jmp_span star = {"*", 1};
	size_t need = l->name.len + 1 + 2 + l->gecos.len + 1 + l->dir.len + 1 + l->shell.len + 1;
	char *cur = buf;

	if (buf == NULL || buflen < need)
		return ERANGE;
	pw->pw_name = put(&cur, l->name);
	pw->pw_passwd = put(&cur, star);
	pw->pw_uid = l->uid;
	pw->pw_gid = l->gid;
	pw->pw_gecos = put(&cur, l->gecos);
	pw->pw_dir = put(&cur, l->dir);
	pw->pw_shell = put(&cur, l->shell);
	return 0;
}

/* Calls fn for each non-empty member of a comma list. */
static size_t count_members(struct jmp_span m, size_t *bytes)
{
	size_t n = 0, b = 0, start = 0;

	for (size_t i = 0; i <= m.len; i++) {
		if (i < m.len && m.p[i] != ',')
			continue;
		if (i > start) {
			n++;
			b += i - start + 1;
		}
		start = i + 1;
	}
	*bytes = b;
	return n;
}

int jmp_fill_group(const struct jmp_gr_line *l, struct group *gr, char *buf, size_t buflen)
{
	static const struct jmp_span star = {"*", 1};
	size_t mbytes, nmem = count_members(l->members, &mbytes);
	size_t head = l->name.len + 1 + 2;
	size_t pad, need;
	char *cur = buf;

	if (buf == NULL)
		return ERANGE;
	/* The member pointer array must be aligned inside the caller's buffer. */
	pad = (sizeof(char *) - ((uintptr_t)(buf + head) % sizeof(char *))) % sizeof(char *);
	need = head + pad + (nmem + 1) * sizeof(char *) + mbytes;
	if (buflen < need)
		return ERANGE;
	gr->gr_name = put(&cur, l->name);
	gr->gr_passwd = put(&cur, star);
	gr->gr_gid = l->gid;
	cur += pad;
	char **mem = (char **)(void *)cur;
	cur += (nmem + 1) * sizeof(char *);
	size_t k = 0, start = 0;
	for (size_t i = 0; i <= l->members.len; i++) {
		if (i < l->members.len && l->members.p[i] != ',')
			continue;
		if (i > start) {
			struct jmp_span s = {l->members.p + start, i - start};
			mem[k++] = put(&cur, s);
		}
		start = i + 1;
	}
	mem[k] = NULL;
	gr->gr_mem = mem;
	return 0;
}

/* ---- the cache --------------------------------------------------------- */

static uint32_t hash_bytes(const char *p, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 16777619u;
	}
	return h;
}

static uint32_t hash_id(uint32_t id)
{
	uint32_t h = id * 2654435761u;
	return h ^ (h >> 16);
}

void jmp_cache_init(struct jmp_cache *c, enum jmp_cache_kind kind)
{
	memset(c, 0, sizeof(*c));
	c->kind = kind;
}

void jmp_cache_clear(struct jmp_cache *c)
{
	enum jmp_cache_kind kind = c->kind;
	free(c->data);
	free(c->entries);
	free(c->by_name);
	free(c->by_id);
	jmp_cache_init(c, kind);
}

static int parse_entry(const struct jmp_cache *c, const char *line, size_t len,
		       struct jmp_cache_entry *e)
{
	if (c->kind == JMP_CACHE_PASSWD) {
		struct jmp_pw_line l;
		if (jmp_parse_pw_line(line, len, &l) != 0)
			return -1;
		e->id = l.uid;
		e->name_len = (uint32_t)l.name.len;
	} else {
		struct jmp_gr_line l;
		if (jmp_parse_gr_line(line, len, &l) != 0)
			return -1;
		e->id = l.gid;
		e->name_len = (uint32_t)l.name.len;
	}
	e->hash = hash_bytes(line, e->name_len);
	return 0;
}

/* Builds entries and both hash indexes from c->data[0..size). The first line
 * for a name/id wins, as with the files module. */
static int build_index(struct jmp_cache *c, size_t size)
{
	size_t cap = 0, n = 0;
	struct jmp_cache_entry *ents = NULL;
	size_t pos = 0;

	while (pos < size) {
		const char *line = c->data + pos;
		const char *nl = memchr(line, '\n', size - pos);
		size_t len = nl != NULL ? (size_t)(nl - line) : size - pos;
		size_t next = pos + len + 1;
		if (len > 0 && line[0] != '#' && len <= JMP_CACHE_LINE_MAX) {
			struct jmp_cache_entry e = {.off = (uint32_t)pos, .len = (uint32_t)len};
			if (parse_entry(c, line, len, &e) == 0) {
				if (n == cap) {
					size_t ncap = cap ? cap * 2 : 1024;
					void *p = reallocarray(ents, ncap, sizeof(*ents));
					if (p == NULL) {
						free(ents);
						return -1;
					}
					ents = p;
					cap = ncap;
				}
				ents[n++] = e;
			}
		}
		pos = next;
	}

	size_t slots = 16;
	while (slots < n * 2)
		slots *= 2;
	uint32_t *by_name = calloc(slots, sizeof(uint32_t));
	uint32_t *by_id = calloc(slots, sizeof(uint32_t));
	if (by_name == NULL || by_id == NULL) {
		free(by_name);
		free(by_id);
		free(ents);
		return -1;
	}
	uint32_t mask = (uint32_t)(slots - 1);
	for (size_t i = 0; i < n; i++) {
		const struct jmp_cache_entry *e = &ents[i];
		const char *name = c->data + e->off;
		uint32_t s = e->hash & mask;
		for (;;) {
			uint32_t v = by_name[s];
			if (v == 0) {
				by_name[s] = (uint32_t)i + 1;
				break;
			}
			const struct jmp_cache_entry *o = &ents[v - 1];
			if (o->name_len == e->name_len &&
			    memcmp(c->data + o->off, name, e->name_len) == 0)
				break; /* duplicate name: keep the first */
			s = (s + 1) & mask;
		}
		s = hash_id(e->id) & mask;
		for (;;) {
			uint32_t v = by_id[s];
			if (v == 0) {
				by_id[s] = (uint32_t)i + 1;
				break;
			}
			if (ents[v - 1].id == e->id)
				break;
			s = (s + 1) & mask;
		}
	}
	c->entries = ents;
	c->n = (uint32_t)n;
	c->by_name = by_name;
	c->by_id = by_id;
	c->mask = mask;
	return 0;
}

static int same_file(const struct jmp_cache *c, const struct stat *st)
{
	return c->loaded && c->dev == st->st_dev && c->ino == st->st_ino &&
	       c->size == st->st_size && c->mtim.tv_sec == st->st_mtim.tv_sec &&
	       c->mtim.tv_nsec == st->st_mtim.tv_nsec;
}

/* Setuid programs (sudo, su) read this file: refuse one that someone other
 * than root (or the calling user itself) could have written. */
static int safe_file(const struct stat *st)
{
	if (!S_ISREG(st->st_mode) || (st->st_mode & (S_IWGRP | S_IWOTH)))
		return 0;
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return 0;
	return st->st_size >= 0 && st->st_size <= JMP_CACHE_FILE_MAX;
}

static int load(struct jmp_cache *c, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t got = 0, size;
	char *data;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !safe_file(&st))
		goto fail;
	size = (size_t)st.st_size;
	data = malloc(size + 1);
	if (data == NULL)
		goto fail;
	while (got < size) {
		ssize_t r = read(fd, data + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break; /* shrank under us: index what we have */
		got += (size_t)r;
	}
	close(fd);
	data[got] = '\0';
	c->data = data;
	if (build_index(c, got) != 0) {
		jmp_cache_clear(c);
		return -1;
	}
	c->loaded = 1;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->mtim = st.st_mtim;
	c->size = st.st_size;
	return 0;
fail:
	close(fd);
	return -1;
}

int jmp_cache_refresh(struct jmp_cache *c, const char *path)
{
	struct stat st;

	if (path == NULL || stat(path, &st) != 0) {
		jmp_cache_clear(c);
		return -1;
	}
	if (same_file(c, &st))
		return 0;
	jmp_cache_clear(c);
	return load(c, path);
}

long jmp_cache_find_name(const struct jmp_cache *c, const char *name)
{
	size_t len;

	if (!c->loaded || name == NULL)
		return -1;
	len = strlen(name);
	if (len == 0 || len > JMP_CACHE_LINE_MAX)
		return -1;
	uint32_t h = hash_bytes(name, len);
	for (uint32_t s = h & c->mask;; s = (s + 1) & c->mask) {
		uint32_t v = c->by_name[s];
		if (v == 0)
			return -1;
		const struct jmp_cache_entry *e = &c->entries[v - 1];
		if (e->hash == h && e->name_len == len && memcmp(c->data + e->off, name, len) == 0)
			return (long)(v - 1);
	}
}

long jmp_cache_find_id(const struct jmp_cache *c, uint32_t id)
{
	if (!c->loaded)
		return -1;
	for (uint32_t s = hash_id(id) & c->mask;; s = (s + 1) & c->mask) {
		uint32_t v = c->by_id[s];
		if (v == 0)
			return -1;
		if (c->entries[v - 1].id == id)
			return (long)(v - 1);
	}
}

int jmp_cache_pw(const struct jmp_cache *c, uint32_t i, struct jmp_pw_line *out)
{
	if (!c->loaded || c->kind != JMP_CACHE_PASSWD || i >= c->n)
		return -1;
	return jmp_parse_pw_line(c->data + c->entries[i].off, c->entries[i].len, out);
}

int jmp_cache_gr(const struct jmp_cache *c, uint32_t i, struct jmp_gr_line *out)
{
	if (!c->loaded || c->kind != JMP_CACHE_GROUP || i >= c->n)
		return -1;
	return jmp_parse_gr_line(c->data + c->entries[i].off, c->entries[i].len, out);
}

static int has_member(struct jmp_span m, const char *user, size_t ulen)
{
	size_t start = 0;

	for (size_t i = 0; i <= m.len; i++) {
		if (i < m.len && m.p[i] != ',')
			continue;
		if (i - start == ulen && memcmp(m.p + start, user, ulen) == 0)
			return 1;
		start = i + 1;
	}
	return 0;
}

int jmp_cache_group_clash(const struct jmp_cache *local, const struct jmp_gr_line *l)
{
	if (local == NULL || !local->loaded)
		return 0;
	if (jmp_cache_find_id(local, l->gid) >= 0)
		return 1;
	uint32_t h = hash_bytes(l->name.p, l->name.len);
	for (uint32_t s = h & local->mask;; s = (s + 1) & local->mask) {
		uint32_t v = local->by_name[s];
		if (v == 0)
			return 0;
		const struct jmp_cache_entry *e = &local->entries[v - 1];
		if (e->hash == h && e->name_len == l->name.len &&
		    memcmp(local->data + e->off, l->name.p, l->name.len) == 0)
			return 1;
	}
}

int jmp_cache_initgroups(const struct jmp_cache *c, const struct jmp_cache *local, const char *user,
			 gid_t skip_gid, long *start, long *size, gid_t **groupsp, long limit)
{
	size_t ulen = strlen(user);

	if (!c->loaded || c->kind != JMP_CACHE_GROUP || ulen == 0)
		return 0;
	for (uint32_t i = 0; i < c->n; i++) {
		struct jmp_gr_line l;
		if (jmp_cache_gr(c, i, &l) != 0 || l.gid == skip_gid ||
		    !has_member(l.members, user, ulen) || jmp_cache_group_clash(local, &l))
			continue;
		int dup = 0;
		for (long k = 0; k < *start; k++)
			if ((*groupsp)[k] == l.gid)
				dup = 1;
		if (dup)
			continue;
		if (limit > 0 && *start >= limit)
			return 0; /* glibc asked for no more than limit */
		if (*start >= *size) {
			long nsize = *size > 0 ? *size * 2 : 16;
			if (limit > 0 && nsize > limit)
				nsize = limit;
			gid_t *ng = reallocarray(*groupsp, (size_t)nsize, sizeof(gid_t));
			if (ng == NULL)
				return ENOMEM;
			*groupsp = ng;
			*size = nsize;
		}
		(*groupsp)[(*start)++] = l.gid;
	}
	return 0;
}
