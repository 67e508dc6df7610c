// The load of the failover test: logins through the balancer's SSH port,
// each one complete only when the jump-shell menu with the person's host is
// on screen. No retries: a login that fails is reported as failed.
import { login, shell } from '../../services/ssh/test/jmp-ssh.js';

export interface LoginFailure {
  index: number;
  method: string;
  error: string;
  atMs: number;
}
export interface LoginRun {
  ok: number;
  failures: LoginFailure[];
  durationsMs: number[];
  elapsedMs: number;
}

export interface LoginPlan {
  port: number;
  user: { username: string; password: string; privateKey: string };
  hostname: string;
  total: number;
  parallel: number;
  /** Every n-th login uses the password (keyboard-interactive); the others the key. */
  passwordEvery: number;
  /** Called after each completed login (ok or not) with the number completed so far. */
  onProgress?: (completed: number) => void;
}

/** Logs in, waits for the menu listing `hostname`, logs out. Throws on any failure. */
export async function loginToMenu(
  port: number,
  user: LoginPlan['user'],
  hostname: string,
  method: 'password' | 'publickey',
): Promise<void> {
  const { client } = await login(
    port,
    user.username,
    method === 'password' ? { password: user.password } : { privateKey: user.privateKey },
  );
  try {
    const sh = await shell(client);
    await sh.until(new RegExp(`${hostname}[\\s\\S]*\\$ $`), 15_000);
  } finally {
    client.end();
  }
}

export async function runLogins(plan: LoginPlan): Promise<LoginRun> {
  const start = Date.now();
  const failures: LoginFailure[] = [];
  const durationsMs: number[] = [];
  let next = 0,
    completed = 0,
    ok = 0;
  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= plan.total) return;
      const method = index % plan.passwordEvery === plan.passwordEvery - 1 ? 'password' : 'publickey';
      const t0 = Date.now();
      try {
        await loginToMenu(plan.port, plan.user, plan.hostname, method);
        ok++;
        durationsMs.push(Date.now() - t0);
      } catch (err) {
        failures.push({ index, method, error: (err as Error).message.split('\n')[0]!, atMs: Date.now() - start });
      }
      plan.onProgress?.(++completed);
    }
  };
  await Promise.all(Array.from({ length: plan.parallel }, worker));
  return { ok, failures, durationsMs, elapsedMs: Date.now() - start };
}
