import { z } from 'zod';

/** Usernames as they appear on targets (DESIGN: Identity on targets). */
export const Username = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must match ^[a-z_][a-z0-9_-]{0,31}$');
export const Hostname = z.string().min(1).max(253).regex(/^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/, 'must be a DNS host name');
export const Name = z.string().trim().min(1).max(128);
export const Id = z.coerce.number().int().positive();
export const IpAddress = z.union([z.ipv4(), z.ipv6()], { message: 'must be an IPv4 or IPv6 address' });
/** An OpenSSH public key line: "type base64 [comment]". */
export const SshPublicKey = z.string().trim().max(16384).regex(/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( .*)?$/, 'must be an OpenSSH public key line');
export const Right = z.enum(['login', 'root']);
export const ScopeType = z.enum(['host', 'service', 'project']);
export const SubjectType = z.enum(['user', 'department']);
export const HostState = z.enum(['online', 'offline']);
export const HostKind = z.enum(['linux', 'windows', 'netdev']);
export const RoleName = z.enum(['owner', 'ops']);
export const RoleScope = z.enum(['project', 'service']);
export const IsoTime = z.iso.datetime({ offset: true });

export type Right = z.infer<typeof Right>;
export type ScopeType = z.infer<typeof ScopeType>;
export type SubjectType = z.infer<typeof SubjectType>;
export type HostState = z.infer<typeof HostState>;
