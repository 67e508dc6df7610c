// Pure pieces of the organisation page: who is in a department, and the
// role select's three choices (ops, owner, ops lead) to and from the API's
// role + opsLead.
export type RoleChoice = 'ops' | 'owner' | 'lead';

/** Usernames of the people whose department is `deptId`, sorted. */
export function membersOf(deptId: number, users: Array<{ username: string; departmentId: number | null }>): string[] {
  return users
    .filter((u) => u.departmentId === deptId)
    .map((u) => u.username)
    .sort();
}

/** A department's members as one line: the names, and how many more when the page of names is not all of them. */
export function memberLine(names: readonly string[], total: number): string {
  if (names.length === 0) return '—';
  const more = total - names.length;
  return more > 0 ? `${names.join(', ')} and ${more} more` : names.join(', ');
}

export const roleChoice = (r: { role: string; opsLead: boolean }): RoleChoice =>
  r.opsLead ? 'lead' : r.role === 'owner' ? 'owner' : 'ops';

export const roleOfChoice = (choice: string): { role: string; opsLead: boolean } =>
  choice === 'lead' ? { role: 'ops', opsLead: true } : { role: choice, opsLead: false };
