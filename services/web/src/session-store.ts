// Who is logged in, and the CSRF token from the login answer. The cookie is
// HttpOnly; the CSRF token is kept in localStorage so that a reload or a
// second tab can still change things (it is useless without the cookie).
import type { AuthUser } from '@jmp/contract/schemas/auth';

const CSRF_KEY = 'jmp.csrf';
let user: AuthUser | null = null;
let lostHandler: ((why: string) => void) | null = null;

export const currentUser = (): AuthUser | null => user;
export const csrfToken = (): string | null => localStorage.getItem(CSRF_KEY);

export function setSession(u: AuthUser, csrf?: string): void {
  user = u;
  if (csrf) localStorage.setItem(CSRF_KEY, csrf);
}

export function clearSession(): void {
  user = null;
  localStorage.removeItem(CSRF_KEY);
}

export function onSessionLost(why: string): void {
  if (!user) return;
  clearSession();
  lostHandler?.(why);
}

export function whenSessionLost(fn: (why: string) => void): void {
  lostHandler = fn;
}

export const isReader = (u: AuthUser | null): boolean => !!u && (u.isAdmin || u.isAuditor);
