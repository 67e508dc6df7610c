// Access requests and approvals (DESIGN: Access model). Anything beyond the
// default rights is requested for a bounded time and approved along a chain.
import { z } from 'zod';
import { Hostname, Id, Right, RoleScope, ScopeType } from './primitives.js';

/** Ids inside JSON bodies are real numbers, never strings. */
const BodyId = z
  .number({ message: 'must be a positive integer' })
  .int('must be a positive integer')
  .positive('must be a positive integer');

export const RequestStatus = z.enum(['pending', 'approved', 'rejected', 'cancelled', 'expired']);

/** What is asked for: a host (by id or by name), a service or a project. */
export const RequestScope = z
  .object({ type: ScopeType, id: BodyId.optional(), hostname: Hostname.optional() })
  .strict()
  .superRefine((s, ctx) => {
    if (s.hostname !== undefined && s.type !== 'host')
      ctx.addIssue({ code: 'custom', path: ['hostname'], message: 'only a host scope may be named by hostname' });
    else if (s.hostname !== undefined && s.id !== undefined)
      ctx.addIssue({ code: 'custom', path: ['id'], message: 'give either id or hostname, not both' });
    else if (s.hostname === undefined && s.id === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['id'],
        message: s.type === 'host' ? 'is required (or hostname)' : 'is required',
      });
  });

/** Longest duration anyone may ask for, whatever a policy says: one year. */
export const MAX_REQUEST_SECONDS = 365 * 86400;
const Duration = z
  .number({ message: 'must be a number of seconds' })
  .int('must be a whole number of seconds')
  .min(60, 'must be at least 60 s')
  .max(MAX_REQUEST_SECONDS, `must be at most ${MAX_REQUEST_SECONDS} s`);

export const CreateAccessRequest = z.object({
  scope: RequestScope,
  right: Right,
  durationSeconds: Duration,
  reason: z.string().trim().min(1, 'must say why the access is needed').max(2000),
  /** Absent: the request is for the requester. A department: for all its members (leaders and admins only). */
  subject: z
    .object({ type: z.literal('department'), id: BodyId })
    .strict()
    .optional(),
});

export const RequestListQuery = z.object({
  /** 1 (default): the caller's own requests. 0: everyone's — administrators and auditors only. */
  mine: z.enum(['0', '1']).default('1'),
  status: RequestStatus.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** Paging: only requests with a smaller id. */
  before: Id.optional(),
});

export const RequestIdParams = z.object({ id: Id });
export const DecisionBody = z.object({ note: z.string().trim().max(2000).optional() }).strict();

const UserRef = z.object({ id: z.number(), username: z.string() });

export const AccessRequestView = z.object({
  id: z.number(),
  status: RequestStatus,
  requester: UserRef,
  subject: z.object({ type: z.enum(['user', 'department']), id: z.number(), name: z.string() }),
  scope: z.object({
    type: ScopeType,
    id: z.number(),
    name: z.string(),
    serviceId: z.number().nullable(),
    projectId: z.number().nullable(),
  }),
  right: Right,
  durationSeconds: z.number(),
  reason: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  decidedAt: z.string().nullable(),
  decidedBy: UserRef.nullable(),
  decisionNote: z.string().nullable(),
  grantId: z.number().nullable(),
  /** Who may approve it, as a sentence (administrators always may). */
  approvers: z.string(),
});
export const AccessRequestDetail = AccessRequestView.extend({
  approvals: z.array(
    z.object({ approver: UserRef, decision: z.enum(['approve', 'reject']), note: z.string(), at: z.string() }),
  ),
});
export const AccessRequestList = z.object({ requests: z.array(AccessRequestView) });

/** Limits per project/service and right. */
export const RequestPolicy = z
  .object({
    scopeType: RoleScope,
    scopeId: BodyId,
    right: Right,
    maxSeconds: Duration,
    /** null: anyone may ask; else members of these departments or their sub-departments. */
    allowedDepartmentIds: z.array(BodyId).max(1000).nullable().default(null),
    allowDepartmentSubjects: z.boolean().default(true),
  })
  .strict();
export const RequestPolicyView = z.object({
  id: z.number(),
  scopeType: RoleScope,
  scopeId: z.number(),
  right: Right,
  maxSeconds: z.number(),
  allowedDepartmentIds: z.array(z.number()).nullable(),
  allowDepartmentSubjects: z.boolean(),
});
export const RequestPolicyList = z.object({ policies: z.array(RequestPolicyView) });
export const RequestPolicyQuery = z.object({
  scopeType: RoleScope.optional(),
  scopeId: Id.optional(),
  right: Right.optional(),
});
export const RequestPolicyKey = z.object({ scopeType: RoleScope, scopeId: Id, right: Right });

export type RequestStatus = z.infer<typeof RequestStatus>;
export type RequestScope = z.infer<typeof RequestScope>;
export type CreateAccessRequest = z.infer<typeof CreateAccessRequest>;
export type AccessRequestView = z.infer<typeof AccessRequestView>;
export type AccessRequestDetail = z.infer<typeof AccessRequestDetail>;
export type RequestPolicy = z.infer<typeof RequestPolicy>;
export type RequestPolicyView = z.infer<typeof RequestPolicyView>;
