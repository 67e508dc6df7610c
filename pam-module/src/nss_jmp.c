/*
 * libnss_jmp.so.2: glibc NSS module over the jmp-agent cache files.
 * Local files only, never the network. One mutex guards the config and both
 * caches; each lookup is a stat() plus a hash probe, the file is re-read only
 * when it was replaced.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <string.h>

#include "cache_reader.h"
#include "conf.h"

#define JMP_EXPORT __attribute__((visibility("default")))

#ifndef JMP_NSS_CONF_FILE
#define JMP_NSS_CONF_FILE JMP_NSS_CONF_PATH
#endif

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const char *conf_file = JMP_NSS_CONF_FILE;
static struct jmp_nss_conf conf;
static int conf_loaded;
static struct jmp_cache pw_cache = {.kind = JMP_CACHE_PASSWD};
static struct jmp_cache gr_cache = {.kind = JMP_CACHE_GROUP};
static struct jmp_cache local_gr = {.kind = JMP_CACHE_GROUP}; /* /etc/group */
static uint32_t pw_next, gr_next;			      /* enumeration positions */

/* Takes the lock and refreshes the wanted cache. The config is read once per
 * process (like nsswitch.conf itself); paths never come from the
 * environment, since setuid programs load this module. */
static struct jmp_cache *enter(enum jmp_cache_kind kind)
{
	pthread_mutex_lock(&lock);
	if (!conf_loaded) {
		jmp_nss_conf_load(&conf, conf_file); /* missing file: defaults */
		conf_loaded = 1;
	}
	struct jmp_cache *c = kind == JMP_CACHE_PASSWD ? &pw_cache : &gr_cache;
	jmp_cache_refresh(c, kind == JMP_CACHE_PASSWD ? conf.passwd : conf.group);
	if (kind == JMP_CACHE_GROUP)
		jmp_cache_refresh(&local_gr, conf.local_group); /* missing: no local groups */
	return c;
}

/* Called with the lock held. A jmp group whose name or gid is a local
 * group's never answers and never adds anyone to it: the agent leaves such
 * groups out, and a stale or hand-made cache file must not bring them back. */
static int local_group_clash(long idx)
{
	struct jmp_gr_line l;

	return idx >= 0 && jmp_cache_gr(&gr_cache, (uint32_t)idx, &l) == 0 &&
	       jmp_cache_group_clash(&local_gr, &l);
}

static enum nss_status leave(enum nss_status s, int err, int *errnop)
{
	pthread_mutex_unlock(&lock);
	if (s != NSS_STATUS_SUCCESS && errnop != NULL)
		*errnop = err;
	return s;
}

/* Called with the lock held. idx < 0: not found. */
static enum nss_status pw_at(long idx, struct passwd *pw, char *buf, size_t buflen, int *errnop)
{
	struct jmp_pw_line l;

	if (idx < 0 || jmp_cache_pw(&pw_cache, (uint32_t)idx, &l) != 0)
		return leave(NSS_STATUS_NOTFOUND, ENOENT, errnop);
	if (jmp_fill_passwd(&l, pw, buf, buflen) != 0)
		return leave(NSS_STATUS_TRYAGAIN, ERANGE, errnop);
	return leave(NSS_STATUS_SUCCESS, 0, errnop);
}

static enum nss_status gr_at(long idx, struct group *gr, char *buf, size_t buflen, int *errnop)
{
	struct jmp_gr_line l;

	if (idx < 0 || local_group_clash(idx) || jmp_cache_gr(&gr_cache, (uint32_t)idx, &l) != 0)
		return leave(NSS_STATUS_NOTFOUND, ENOENT, errnop);
	if (jmp_fill_group(&l, gr, buf, buflen) != 0)
		return leave(NSS_STATUS_TRYAGAIN, ERANGE, errnop);
	return leave(NSS_STATUS_SUCCESS, 0, errnop);
}

JMP_EXPORT enum nss_status _nss_jmp_getpwnam_r(const char *name, struct passwd *pw, char *buf,
					       size_t buflen, int *errnop)
{
	struct jmp_cache *c = enter(JMP_CACHE_PASSWD);
	return pw_at(jmp_cache_find_name(c, name), pw, buf, buflen, errnop);
}

JMP_EXPORT enum nss_status _nss_jmp_getpwuid_r(uid_t uid, struct passwd *pw, char *buf,
					       size_t buflen, int *errnop)
{
	struct jmp_cache *c = enter(JMP_CACHE_PASSWD);
	return pw_at(jmp_cache_find_id(c, uid), pw, buf, buflen, errnop);
}

JMP_EXPORT enum nss_status _nss_jmp_getgrnam_r(const char *name, struct group *gr, char *buf,
					       size_t buflen, int *errnop)
{
	struct jmp_cache *c = enter(JMP_CACHE_GROUP);
	return gr_at(jmp_cache_find_name(c, name), gr, buf, buflen, errnop);
}

JMP_EXPORT enum nss_status _nss_jmp_getgrgid_r(gid_t gid, struct group *gr, char *buf,
					       size_t buflen, int *errnop)
{
	struct jmp_cache *c = enter(JMP_CACHE_GROUP);
	return gr_at(jmp_cache_find_id(c, gid), gr, buf, buflen, errnop);
}

JMP_EXPORT enum nss_status _nss_jmp_initgroups_dyn(const char *user, gid_t group, long int *start,
						   long int *size, gid_t **groupsp, long int limit,
						   int *errnop)
{
	struct jmp_cache *c = enter(JMP_CACHE_GROUP);
	if (!c->loaded || user == NULL)
		return leave(NSS_STATUS_NOTFOUND, ENOENT, errnop);
	int err = jmp_cache_initgroups(c, &local_gr, user, group, start, size, groupsp, limit);
	return leave(err ? NSS_STATUS_TRYAGAIN : NSS_STATUS_SUCCESS, err, errnop);
}

/* Enumeration is off unless "enumerate = yes": listing every user is slow
 * and rarely wanted (getent passwd, some desktop greeters). */

JMP_EXPORT enum nss_status _nss_jmp_setpwent(int stayopen)
{
	(void)stayopen;
	enter(JMP_CACHE_PASSWD);
	pw_next = 0;
	return leave(NSS_STATUS_SUCCESS, 0, NULL);
}

JMP_EXPORT enum nss_status _nss_jmp_endpwent(void)
{
	pthread_mutex_lock(&lock);
	pw_next = 0;
	return leave(NSS_STATUS_SUCCESS, 0, NULL);
}

JMP_EXPORT enum nss_status _nss_jmp_getpwent_r(struct passwd *pw, char *buf, size_t buflen,
					       int *errnop)
{
	struct jmp_cache *c = enter(JMP_CACHE_PASSWD);
	if (!conf.enumerate || pw_next >= c->n)
		return leave(NSS_STATUS_NOTFOUND, ENOENT, errnop);
	struct jmp_pw_line l;
	if (jmp_cache_pw(c, pw_next, &l) != 0)
		return leave(NSS_STATUS_NOTFOUND, ENOENT, errnop);
	if (jmp_fill_passwd(&l, pw, buf, buflen) != 0)
		return leave(NSS_STATUS_TRYAGAIN, ERANGE, errnop); /* same entry next time */
	pw_next++;
	return leave(NSS_STATUS_SUCCESS, 0, errnop);
}

JMP_EXPORT enum nss_status _nss_jmp_setgrent(int stayopen)
{
	(void)stayopen;
	enter(JMP_CACHE_GROUP);
	gr_next = 0;
	return leave(NSS_STATUS_SUCCESS, 0, NULL);
}

JMP_EXPORT enum nss_status _nss_jmp_endgrent(void)
{
	pthread_mutex_lock(&lock);
	gr_next = 0;
	return leave(NSS_STATUS_SUCCESS, 0, NULL);
}

JMP_EXPORT enum nss_status _nss_jmp_getgrent_r(struct group *gr, char *buf, size_t buflen,
					       int *errnop)
{
	struct jmp_cache *c = enter(JMP_CACHE_GROUP);
	if (!conf.enumerate || gr_next >= c->n)
		return leave(NSS_STATUS_NOTFOUND, ENOENT, errnop);
	struct jmp_gr_line l;
	while (gr_next < c->n && local_group_clash(gr_next))
		gr_next++;
	if (gr_next >= c->n || jmp_cache_gr(c, gr_next, &l) != 0)
		return leave(NSS_STATUS_NOTFOUND, ENOENT, errnop);
	if (jmp_fill_group(&l, gr, buf, buflen) != 0)
		return leave(NSS_STATUS_TRYAGAIN, ERANGE, errnop); /* same entry next time */
	gr_next++;
	return leave(NSS_STATUS_SUCCESS, 0, errnop);
}

#ifdef JMP_NSS_TESTING
/* Test builds only (never in libnss_jmp.so.2): point the module at another
 * config file and forget every cached state. */
JMP_EXPORT void jmp_nss_test_set_conf(const char *path)
{
	pthread_mutex_lock(&lock);
	conf_file = path;
	conf_loaded = 0;
	jmp_cache_clear(&pw_cache);
	jmp_cache_clear(&gr_cache);
	jmp_cache_clear(&local_gr);
	pw_next = gr_next = 0;
	pthread_mutex_unlock(&lock);
}
#endif
