// Bodies, queries and responses of the admin REST API (/v1/users, /v1/hosts,
// /v1/grants, ...). JSON is camelCase; the server maps to the snake_case tables.
// Checks that need the database or a native library (foreign keys, cycles,
// RE2 compilation) are made by jmp-api and reported against the same field.
import { z } from 'zod';
import {
  Hostname,
  HostKind,
  HostState,
  IpAddress,
  IsoTime,
  Name,
  Right,
  RoleName,
  RoleScope,
  ScopeType,
  SshPublicKey,
  SubjectType,
  Username,
} from './primitives.js';

// ---- shared pieces ----

const MAX_INT4 = 2147483647;
/** A row id in a path or query string. */
export const AdminId = z.coerce.number().int().positive().max(MAX_INT4);
/** A row id in a JSON body (no coercion: "3" is not an id). */
export const RefId = z.number().int().positive().max(MAX_INT4);
/** "1"/"true" or "0"/"false" in a query string. */
export const QueryBool = z
  .enum(['1', '0', 'true', 'false'], { message: 'must be 1, 0, true or false' })
  .transform((v) => v === '1' || v === 'true');
/** limit/offset; limit defaults to 100 and is capped at 500. */
export const AdminPage = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .default(100)
    .describe('page size; values above 500 are capped at 500')
    .transform((n) => Math.min(n, 500)),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
});
/** Case-insensitive substring filter. */
const Q = z.string().trim().min(1).max(128);
const Description = z.string().max(4096);
const Timestamp = z.string().describe('ISO 8601 timestamp');

export const IdParams = z.object({ id: AdminId });
export const UserKeyParams = z.object({ id: AdminId, keyId: AdminId });

export function listOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), total: z.number(), limit: z.number(), offset: z.number() });
}

// ---- users ----

export const UserStatus = z.enum(['active', 'disabled']);
/** An absolute path, as in /etc/passwd. */
export const Shell = z
  .string()
  .max(128)
  .regex(/^\/[A-Za-z0-9._+/-]*$/, 'must be an absolute path such as /bin/bash');
export const NewPassword = z.string().min(12, 'must be at least 12 characters').max(1024);
const immutable = (what: string) => z.never({ message: `${what} cannot be changed after creation` }).optional();

const userFields = {
  displayName: z.string().trim().max(128),
  email: z.email({ message: 'must be an email address' }).max(254).nullable(),
  leaderId: RefId.nullable(),
  departmentId: RefId.nullable(),
  status: UserStatus,
  isAdmin: z.boolean(),
  isAuditor: z.boolean(),
  shell: Shell,
};
export const UserCreate = z.strictObject({
  username: Username,
  displayName: userFields.displayName.default(''),
  email: userFields.email.optional(),
  leaderId: userFields.leaderId.optional(),
  departmentId: userFields.departmentId.optional(),
  status: userFields.status.default('active'),
  isAdmin: z.boolean().default(false),
  isAuditor: z.boolean().default(false),
  shell: Shell.default('/bin/bash'),
  /** Optional initial password; it is hashed and never returned. */
  password: NewPassword.optional(),
});
export const UserUpdate = z.strictObject({
  username: immutable('the username'),
  uid: immutable('the uid'),
  displayName: userFields.displayName.optional(),
  email: userFields.email.optional(),
  leaderId: userFields.leaderId.optional(),
  departmentId: userFields.departmentId.optional(),
  status: userFields.status.optional(),
  isAdmin: z.boolean().optional(),
  isAuditor: z.boolean().optional(),
  shell: Shell.optional(),
});
export const UserQuery = AdminPage.extend({
  q: Q.optional(),
  status: UserStatus.optional(),
  departmentId: AdminId.optional(),
  isAdmin: QueryBool.optional(),
});
export const UserDeleteQuery = z.object({ hard: QueryBool.optional() });
export const AdminUser = z.object({
  id: z.number(),
  username: z.string(),
  uid: z.number(),
  displayName: z.string(),
  email: z.string().nullable(),
  leaderId: z.number().nullable(),
  departmentId: z.number().nullable(),
  status: UserStatus,
  isAdmin: z.boolean(),
  isAuditor: z.boolean(),
  shell: z.string(),
  hasPassword: z.boolean(),
  hasTotp: z.boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export const UserList = listOf(AdminUser);
export const SetPassword = z.strictObject({ password: NewPassword });
export const TotpEnrolment = z.object({ secret: z.string(), uri: z.string() });

export const UserKeyCreate = z.strictObject({ publicKey: SshPublicKey, comment: z.string().max(256).optional() });
export const UserKey = z.object({
  id: z.number(),
  userId: z.number(),
  publicKey: z.string(),
  fingerprint: z.string(),
  comment: z.string(),
  createdAt: Timestamp,
});
export const UserKeyList = z.object({ items: z.array(UserKey) });

// ---- org: departments, projects, services ----

export const DepartmentCreate = z.strictObject({
  name: Name,
  parentId: RefId.nullable().optional(),
  leaderId: RefId.nullable().optional(),
});
export const DepartmentUpdate = DepartmentCreate.partial();
export const DepartmentQuery = AdminPage.extend({ q: Q.optional(), parentId: AdminId.optional() });
export const Department = z.object({
  id: z.number(),
  name: z.string(),
  parentId: z.number().nullable(),
  leaderId: z.number().nullable(),
  createdAt: Timestamp,
});
export const DepartmentList = listOf(Department);

export const ProjectCreate = z.strictObject({ name: Name, description: Description.default('') });
export const ProjectUpdate = z.strictObject({ name: Name.optional(), description: Description.optional() });
export const ProjectQuery = AdminPage.extend({ q: Q.optional() });
export const Project = z.object({ id: z.number(), name: z.string(), description: z.string(), createdAt: Timestamp });
export const ProjectList = listOf(Project);

/** hopTickets: people in a live jmp session may hop from and to this service's hosts with `jmp-agent ticket` (DESIGN flow 11). */
export const ServiceCreate = z.strictObject({
  projectId: RefId,
  name: Name,
  description: Description.default(''),
  hopTickets: z.boolean().default(true),
});
export const ServiceUpdate = z.strictObject({
  projectId: RefId.optional(),
  name: Name.optional(),
  description: Description.optional(),
  hopTickets: z.boolean().optional(),
});
export const ServiceQuery = AdminPage.extend({ q: Q.optional(), projectId: AdminId.optional() });
export const Service = z.object({
  id: z.number(),
  projectId: z.number(),
  name: z.string(),
  description: z.string(),
  hopTickets: z.boolean(),
  createdAt: Timestamp,
});
export const ServiceList = listOf(Service);

// ---- hosts ----

/** Host names are stored in lower case: DNS does not distinguish case. */
const HostName = Hostname.transform((h) => h.toLowerCase());
export const HostCreate = z.strictObject({
  hostname: HostName,
  addresses: z.array(IpAddress).max(64).default([]),
  state: HostState.default('online'),
  kind: HostKind.default('linux'),
  serviceId: RefId.nullable().optional(),
  sshHostKeys: z.array(SshPublicKey).max(16).default([]),
  /** The one enrolment token (of the host's service) that may claim this host; cleared when it does. */
  enrolmentTokenId: RefId.nullable().optional(),
});
export const HostUpdate = z.strictObject({
  hostname: HostName.optional(),
  addresses: z.array(IpAddress).max(64).optional(),
  state: HostState.optional(),
  kind: HostKind.optional(),
  serviceId: RefId.nullable().optional(),
  sshHostKeys: z.array(SshPublicKey).max(16).optional(),
  enrolmentTokenId: RefId.nullable().optional(),
  enrolledAt: immutable('enrolledAt (set by the agent)'),
  lastSeenAt: immutable('lastSeenAt (set by the agent)'),
  agentStatus: immutable('agentStatus (set by the agent)'),
});
export const HostQuery = AdminPage.extend({
  q: Q.optional(),
  serviceId: AdminId.optional(),
  projectId: AdminId.optional(),
  state: HostState.optional(),
  kind: HostKind.optional(),
});
export const AdminHost = z.object({
  id: z.number(),
  hostname: z.string(),
  addresses: z.array(z.string()),
  state: HostState,
  kind: HostKind,
  serviceId: z.number().nullable(),
  sshHostKeys: z.array(z.string()),
  /** Read-only, maintained by the agent. */
  enrolled: z.boolean(),
  enrolledAt: Timestamp.nullable(),
  lastSeenAt: Timestamp.nullable(),
  agentStatus: z.record(z.string(), z.unknown()),
  /** The enrolment token bound to claim this not yet enrolled host, or null. */
  enrolmentTokenId: z.number().nullable(),
  createdAt: Timestamp,
});
/** POST /v1/hosts/:id/reset-enrolment: optionally bind the token that may enrol the host again. */
export const HostResetEnrolment = z.strictObject({ enrolmentTokenId: RefId.optional() });
export const HostList = listOf(AdminHost);

// ---- roles ----

const opsLeadNeedsOps = (r: { role?: string | undefined; opsLead?: boolean | undefined }, ctx: z.RefinementCtx) => {
  if (r.opsLead && r.role !== undefined && r.role !== 'ops')
    ctx.addIssue({ code: 'custom', path: ['opsLead'], message: 'only an ops role can be the ops lead' });
};
export const RoleCreate = z
  .strictObject({
    userId: RefId,
    scopeType: RoleScope,
    scopeId: RefId,
    role: RoleName,
    opsLead: z.boolean().default(false),
  })
  .superRefine(opsLeadNeedsOps);
export const RoleUpdate = z
  .strictObject({ role: RoleName.optional(), opsLead: z.boolean().optional() })
  .superRefine(opsLeadNeedsOps);
export const RoleQuery = AdminPage.extend({
  userId: AdminId.optional(),
  scopeType: RoleScope.optional(),
  scopeId: AdminId.optional(),
  role: RoleName.optional(),
});
export const AdminRole = z.object({
  id: z.number(),
  userId: z.number(),
  scopeType: RoleScope,
  scopeId: z.number(),
  role: RoleName,
  opsLead: z.boolean(),
  createdAt: Timestamp,
});
export const RoleList = listOf(AdminRole);

// ---- grants ----

export const GrantCreate = z.strictObject({
  subjectType: SubjectType,
  subjectId: RefId,
  scopeType: ScopeType,
  scopeId: RefId,
  right: Right,
  validFrom: IsoTime.optional(),
  validUntil: IsoTime.nullable().optional(),
});
export const GrantUpdate = z.strictObject({ validFrom: IsoTime.optional(), validUntil: IsoTime.nullable().optional() });
export const GrantQuery = AdminPage.extend({
  subjectType: SubjectType.optional(),
  subjectId: AdminId.optional(),
  scopeType: ScopeType.optional(),
  scopeId: AdminId.optional(),
  right: Right.optional(),
  /** true: in force now (not revoked, started, not expired); false: everything else. */
  active: QueryBool.optional(),
});
export const AdminGrant = z.object({
  id: z.number(),
  subjectType: SubjectType,
  subjectId: z.number(),
  scopeType: ScopeType,
  scopeId: z.number(),
  right: Right,
  validFrom: Timestamp,
  validUntil: Timestamp.nullable(),
  origin: z.string(),
  requestId: z.number().nullable(),
  createdBy: z.number().nullable(),
  revokedAt: Timestamp.nullable(),
  createdAt: Timestamp,
  active: z.boolean(),
});
export const GrantList = listOf(AdminGrant);

// ---- command rules ----

export const RuleAction = z.enum(['alert', 'block']);
export const RuleSeverity = z.enum(['low', 'medium', 'high', 'critical']);
export const RuleListKind = z.enum(['deny', 'allow']);
export const RuleScope = z.enum(['global', 'project', 'service']);
/** RE2 syntax; jmp-api compiles it and names body.pattern with RE2's message when it does not. */
export const RulePattern = z.string().min(1).max(4096);
export const RuleCreate = z.strictObject({
  name: Name,
  pattern: RulePattern,
  action: RuleAction.default('block'),
  severity: RuleSeverity.default('high'),
  list: RuleListKind.default('deny'),
  scopeType: RuleScope.default('global'),
  scopeId: RefId.nullable().optional(),
  enabled: z.boolean().default(true),
});
export const RuleUpdate = z.strictObject({
  name: Name.optional(),
  pattern: RulePattern.optional(),
  action: RuleAction.optional(),
  severity: RuleSeverity.optional(),
  list: RuleListKind.optional(),
  scopeType: RuleScope.optional(),
  scopeId: RefId.nullable().optional(),
  enabled: z.boolean().optional(),
});
export const RuleQuery = AdminPage.extend({
  q: Q.optional(),
  scopeType: RuleScope.optional(),
  scopeId: AdminId.optional(),
  enabled: QueryBool.optional(),
  action: RuleAction.optional(),
});
export const CommandRule = z.object({
  id: z.number(),
  name: z.string(),
  pattern: z.string(),
  action: RuleAction,
  severity: RuleSeverity,
  list: RuleListKind,
  scopeType: RuleScope,
  scopeId: z.number().nullable(),
  enabled: z.boolean(),
  createdAt: Timestamp,
});
export const CommandRuleList = listOf(CommandRule);
export const RuleTest = z.strictObject({ pattern: RulePattern, line: z.string().max(16384) });
export const RuleTestResult = z.object({ match: z.boolean() });

// ---- enrolment tokens ----

export const ENROLMENT_TOKEN_PREFIX = 'jmpe_';
export const EnrolmentTokenCreate = z.strictObject({
  description: z.string().max(256).default(''),
  serviceId: RefId.nullable().optional(),
  hostState: HostState.default('online'),
  maxUses: z.number().int().min(1).max(10_000).default(1),
  ttlSeconds: z
    .number()
    .int()
    .min(60)
    .max(30 * 86400)
    .default(86400),
});
export const EnrolmentTokenQuery = AdminPage.extend({ active: QueryBool.optional(), serviceId: AdminId.optional() });
export const EnrolmentToken = z.object({
  id: z.number(),
  description: z.string(),
  serviceId: z.number().nullable(),
  hostState: HostState,
  maxUses: z.number(),
  uses: z.number(),
  expiresAt: Timestamp,
  createdBy: z.number().nullable(),
  revokedAt: Timestamp.nullable(),
  createdAt: Timestamp,
  active: z.boolean(),
});
export const EnrolmentTokenList = listOf(EnrolmentToken);
/** Returned once, by the create call; only its sha256 is stored. */
export const EnrolmentTokenCreated = EnrolmentToken.extend({ token: z.string() });

// ---- audit ----

export const AuditQuery = z.object({
  /** Exact action, or a prefix ending in ".*" (e.g. "user.*"). */
  action: z
    .string()
    .max(64)
    .regex(/^[a-z_.]+(\.\*)?$/, 'must be an action such as user.created or user.*')
    .optional(),
  actor: z.string().max(128).optional(),
  target: z.string().max(256).optional(),
  since: IsoTime.optional(),
  until: IsoTime.optional(),
  limit: AdminPage.shape.limit,
  offset: AdminPage.shape.offset,
});
export const AuditEntry = z.object({
  id: z.number(),
  at: Timestamp,
  actor: z.string(),
  action: z.string(),
  target: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export const AuditList = z.object({ items: z.array(AuditEntry), limit: z.number(), offset: z.number() });
export const AuditVerify = z.object({ ok: z.boolean(), brokenAt: z.number().nullable(), checked: z.number() });

export type AdminUser = z.infer<typeof AdminUser>;
export type AdminHost = z.infer<typeof AdminHost>;
export type AdminGrant = z.infer<typeof AdminGrant>;
export type CommandRule = z.infer<typeof CommandRule>;
export type EnrolmentToken = z.infer<typeof EnrolmentToken>;
export type AuditEntry = z.infer<typeof AuditEntry>;
