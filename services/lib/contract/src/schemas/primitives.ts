import { z } from 'zod';

// Postgres text cannot hold NUL, and a lone UTF-16 surrogate is not valid
// UTF-8: either would fail deep in a query as a 500. Code units, not code
// points (no `u` flag), so an unpaired half is found.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const UNSTORABLE_MESSAGE = 'must not contain NUL bytes or unpaired UTF-16 surrogates';

/** True when Postgres (and every other store) can keep the string as it is. */
export function isStorable(s: string): boolean {
  return !UNSTORABLE.test(s);
}

/**
 * The path of the first string (value or object key) in a parsed JSON value,
 * query or path parameters that is not storable, or null. Iterative, so a
 * deeply nested body cannot overflow the stack.
 */
export function findUnstorable(value: unknown, where: string): string | null {
  const stack: Array<{ v: unknown; path: string }> = [{ v: value, path: where }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (!isStorable(v)) return path;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${path}.${i}` });
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (!isStorable(k)) return `${path} (a key)`;
        stack.push({ v: child, path: `${path}.${k}` });
      }
    }
  }
  return null;
}

/** A string Postgres can store; the base of every free-text field. */
export const Text = z.string().refine(isStorable, UNSTORABLE_MESSAGE);

/** Usernames as they appear on targets (DESIGN: Identity on targets). */
export const Username = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must match ^[a-z_][a-z0-9_-]{0,31}$');
export const Hostname = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/, 'must be a DNS host name');
export const Name = z.string().trim().min(1).max(128).refine(isStorable, UNSTORABLE_MESSAGE);
/** Postgres integer ids: a larger number would fail in the query as a 500. */
export const Id = z.coerce.number().int().positive().max(2147483647);
export const IpAddress = z.union([z.ipv4(), z.ipv6()], { message: 'must be an IPv4 or IPv6 address' });
/** An OpenSSH public key line: "type base64 [comment]". */
export const SshPublicKey = z
  .string()
  .trim()
  .max(16384)
  .regex(
    /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( .*)?$/,
    'must be an OpenSSH public key line',
  )
  .refine(isStorable, UNSTORABLE_MESSAGE);
/** Database rights: per kind of database on a host, each level including the ones below it. */
export const DbKind = z.enum(['mariadb', 'redis']);
export const DbLevel = z.enum(['read', 'write', 'admin']);
export const DB_RIGHTS = [
  'mariadb_read',
  'mariadb_write',
  'mariadb_admin',
  'redis_read',
  'redis_write',
  'redis_admin',
] as const;
export const Right = z.enum(['login', 'root', 'device', ...DB_RIGHTS]);
export const ScopeType = z.enum(['host', 'service', 'project']);
export const SubjectType = z.enum(['user', 'department']);
export const HostState = z.enum(['online', 'offline']);
export const HostKind = z.enum(['linux', 'windows', 'netdev']);
export const RoleName = z.enum(['owner', 'ops']);
export const RoleScope = z.enum(['project', 'service']);
export const IsoTime = z.iso.datetime({ offset: true });

export type Right = z.infer<typeof Right>;
export type DbKind = z.infer<typeof DbKind>;
export type DbLevel = z.infer<typeof DbLevel>;
export type ScopeType = z.infer<typeof ScopeType>;
export type SubjectType = z.infer<typeof SubjectType>;
export type HostState = z.infer<typeof HostState>;
