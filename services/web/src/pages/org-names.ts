// Names of the organisation for the admin pages: services read as
// "project/service", and the choices of a service select.
import type { z } from 'zod';
import type { Project, Service } from '@jmp/contract/schemas/admin';
import { get } from '../api.js';

export type Proj = z.infer<typeof Project>;
export type Svc = z.infer<typeof Service>;
export const ALL = { limit: 500 };

/** id → "project/service" (a service of an unknown project reads "?/name"). */
export function serviceNames(projects: Proj[], services: Svc[]): Map<number, string> {
  const proj = new Map(projects.map((p) => [p.id, p.name]));
  return new Map(services.map((s) => [s.id, `${proj.get(s.projectId) ?? '?'}/${s.name}`]));
}

/** The options of a service select, sorted by name, after `first` (e.g. "— none —"). */
export function serviceOptions(names: Map<number, string>, first: [string, string]): Array<[string, string]> {
  return [
    first,
    ...[...names].sort((a, b) => a[1].localeCompare(b[1])).map(([id, n]): [string, string] => [String(id), n]),
  ];
}

/** Projects and services with the services' names. */
export async function loadServices(): Promise<{ projects: Proj[]; services: Svc[]; names: Map<number, string> }> {
  const [projects, services] = await Promise.all([
    get<{ items: Proj[] }>('/v1/projects', ALL),
    get<{ items: Svc[] }>('/v1/services', ALL),
  ]);
  return { projects: projects.items, services: services.items, names: serviceNames(projects.items, services.items) };
}

/** "10.0.0.1, 10.0.0.2 fd00::1" → ["10.0.0.1", "10.0.0.2", "fd00::1"]. */
export function splitList(text: unknown): string[] {
  return String(text ?? '')
    .split(/[\s,]+/)
    .filter(Boolean);
}
