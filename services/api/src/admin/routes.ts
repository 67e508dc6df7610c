// The admin REST API: one module per resource, composed here. Paths are the
// resources themselves (/v1/users, /v1/hosts, /v1/grants, ...). Writes need an
// administrator (session or admin service token); reads also admit auditors.
import type { RouteModule } from '../http/app.js';
import { userRoutes } from './users.js';
import { orgRoutes } from './org.js';
import { hostRoutes } from './hosts.js';
import { grantRoutes } from './grants.js';
import { ruleRoutes } from './rules.js';
import { enrolmentRoutes } from './enrolment.js';
import { auditRoutes } from './audit.js';

const MODULES: RouteModule[] = [
  userRoutes,
  orgRoutes,
  hostRoutes,
  grantRoutes,
  ruleRoutes,
  enrolmentRoutes,
  auditRoutes,
];

export const adminRoutes: RouteModule = (api, ctx, auth) => {
  for (const m of MODULES) m(api, ctx, auth);
};
