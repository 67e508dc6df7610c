/*
 * conf: the module configuration files (/etc/jmp/pam.conf, /etc/jmp/nss.conf)
 * and PAM module arguments. "key = value" lines, '#' comments. Unknown keys
 * and bad values are logged and ignored (the default stays).
 */
#ifndef JMP_CONF_H
#define JMP_CONF_H

#include <stddef.h>

#define JMP_PAM_CONF_PATH    "/etc/jmp/pam.conf"
#define JMP_NSS_CONF_PATH    "/etc/jmp/nss.conf"
#define JMP_NSS_PASSWD_PATH  "/var/lib/jmp/passwd"
#define JMP_NSS_GROUP_PATH   "/var/lib/jmp/group"
#define JMP_LOCAL_GROUP_PATH "/etc/group"
#define JMP_PATH_MAX	     4096
#define JMP_CONF_LINE_MAX    4096

enum jmp_fail_mode {
	JMP_FAIL_DENY = 0, /* default */
	JMP_FAIL_IGNORE,
	JMP_FAIL_ALLOW,
};

struct jmp_pam_conf {
	char socket[108]; /* sizeof(sockaddr_un.sun_path) */
	int timeout_ms;
	enum jmp_fail_mode fail_mode;
	int debug;
	/* Where the NSS cache paths are read from (the account step compares the
	 * jmp uid with what getpwnam gives). */
	char nss_conf[JMP_PATH_MAX];
};

struct jmp_nss_conf {
	char passwd[JMP_PATH_MAX];
	char group[JMP_PATH_MAX];
	/* The host's own groups (the files source): a jmp group never answers
	 * for, nor adds anyone to, a local group's name or gid. */
	char local_group[JMP_PATH_MAX];
	int enumerate;
};

/* Receives one log line (already formatted, no trailing newline). */
typedef void (*jmp_log_fn)(void *ctx, int priority, const char *msg);

void jmp_pam_conf_defaults(struct jmp_pam_conf *c);
/* Applies "key = value" settings from path. A missing file is not an error
 * unless must_exist. Returns 0, or -1 if the file could not be read. */
int jmp_pam_conf_load(struct jmp_pam_conf *c, const char *path, int must_exist, jmp_log_fn log,
		      void *ctx);
/* Applies one setting (from a file line or a module argument). Returns 0, or
 * -1 for an unknown key or bad value (logged; the setting is unchanged). */
int jmp_pam_conf_set(struct jmp_pam_conf *c, const char *key, const char *value, jmp_log_fn log,
		     void *ctx);
/* Full PAM configuration: defaults, then the file (conf=PATH or the default
 * path), then the module arguments, which override the file. */
void jmp_pam_conf_from_args(struct jmp_pam_conf *c, int argc, const char **argv, jmp_log_fn log,
			    void *ctx);

void jmp_nss_conf_defaults(struct jmp_nss_conf *c);
int jmp_nss_conf_load(struct jmp_nss_conf *c, const char *path);

const char *jmp_fail_mode_str(enum jmp_fail_mode m);

#endif
