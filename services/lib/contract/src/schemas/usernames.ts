// Names a jmp user may never have. On a target the local /etc/passwd entry
// wins over libnss_jmp, so a jmp user called `postgres` or `admin` would log
// in as that local account (its uid, its sudo rights). Each user also gets a
// private group of the same name, so system group names are reserved too.
// The one list: jmp-api refuses these at user creation; operators add their
// own with JMP_RESERVED_USERNAMES.

/** System accounts and groups of common Linux distributions and cloud images. */
export const SYSTEM_USERNAMES: ReadonlySet<string> = new Set([
  // base system (Debian/Ubuntu/RHEL/Alpine passwd and group)
  'root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy', 'www-data',
  'backup', 'list', 'irc', 'gnats', 'nobody', 'nogroup', 'nfsnobody', 'adm', 'wheel', 'sudo', 'admin', 'staff',
  'users', 'operator', 'halt', 'shutdown', 'ftp', 'tty', 'disk', 'kmem', 'dialout', 'fax', 'voice', 'cdrom',
  'floppy', 'tape', 'audio', 'dip', 'video', 'plugdev', 'netdev', 'input', 'render', 'sgx', 'kvm', 'shadow',
  'utmp', 'sasl', 'src', 'crontab', 'ssh', 'sshd', 'messagebus', 'dbus', 'polkitd', 'polkituser', 'chrony',
  'ntp', 'syslog', 'tss', 'uuidd', 'tcpdump', 'dnsmasq', 'avahi', 'avahi-autoipd', 'rtkit', 'pulse', 'lxd',
  'landscape', 'pollinate', 'dhcpcd', 'usbmux', 'systemd', 'rpc', 'rpcuser', 'statd', 'sssd', 'unbound',
  'named', 'bind', 'postfix', 'postdrop', 'exim', 'dovecot', 'dovenull', 'mailnull', 'smmsp', 'abrt', 'saslauth',
  'geoclue', 'colord', 'saned', 'gdm', 'lightdm', 'docker', 'containerd', 'nscd', 'mlocate', 'locate', 'lock',
  'cloud', 'guest', 'administrator', 'nginx', 'apache', 'httpd', 'git', 'gitlab-runner', 'jenkins', 'vagrant',
  // database and service accounts
  'postgres', 'mysql', 'mariadb', 'redis', 'mongodb', 'memcache', 'memcached', 'rabbitmq', 'elasticsearch',
  'openldap', 'ldap', 'xrdp', 'guacd',
  // default users of cloud images (often with passwordless sudo)
  'ubuntu', 'debian', 'ec2-user', 'centos', 'fedora', 'cloud-user', 'rocky', 'almalinux', 'alpine', 'opc',
  'azureuser', 'core', 'arch', 'freebsd', 'pi',
  // jmp itself: its service accounts and the groups it puts on targets
  'jmp', 'jmp-users',
]);

/** Whole families: systemd's dynamic users, Debian's `_apt`-style accounts, anything jmp's own. */
export const RESERVED_USERNAME_PREFIXES: readonly string[] = ['systemd-', '_', 'jmp-'];

/**
 * Why `name` cannot be a jmp username, or null when it can. `extra` is the
 * operator's list (JMP_RESERVED_USERNAMES), on top of the built-in one.
 */
export function reservedUsernameReason(name: string, extra: Iterable<string> = []): string | null {
  const n = name.toLowerCase();
  const why = 'on targets the local account would win over the jmp user; choose another username';
  if (SYSTEM_USERNAMES.has(n)) return `${name} is a system account or group name: ${why}`;
  const prefix = RESERVED_USERNAME_PREFIXES.find((p) => n.startsWith(p));
  if (prefix) return `names starting with ${prefix} are reserved for system accounts: ${why}`;
  for (const e of extra) if (e.toLowerCase() === n) return `${name} is reserved by this jmp installation (JMP_RESERVED_USERNAMES): ${why}`;
  return null;
}
