// Configuration from environment variables, validated with zod. A wrong or
// missing value stops the process with one line naming the variable.
import { z } from 'zod';

export type ConfigSpec = Record<string, readonly [envName: string, schema: z.ZodType]>;
export type ConfigOf<S extends ConfigSpec> = { [K in keyof S]: z.output<S[K][1]> };

export class ConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Parses each variable of `spec` from `env`; throws ConfigError naming the first bad one. */
export function loadConfig<S extends ConfigSpec>(spec: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, [name, schema]] of Object.entries(spec)) {
    const raw = env[name];
    const result = schema.safeParse(raw === '' ? undefined : raw);
    if (!result.success) {
      const issue = result.error.issues[0];
      const detail = raw === undefined || raw === '' ? 'is required but not set' : `${issue?.message ?? 'is invalid'} (got ${JSON.stringify(mask(name, raw))})`;
      throw new ConfigError(name, detail);
    }
    out[key] = result.data;
  }
  return out as ConfigOf<S>;
}

/** As loadConfig, but prints the one-line error and exits 1: for main.ts. */
export function loadConfigOrExit<S extends ConfigSpec>(service: string, spec: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  try {
    return loadConfig(spec, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${service}: configuration error: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

function mask(name: string, value: string): string {
  return /SECRET|TOKEN|PASSWORD|KEY/.test(name) ? '***' : value;
}

// Reusable field schemas.
export const port = (def: number) => z.coerce.number().int().min(0).max(65535).default(def);
export const positiveInt = (def: number) => z.coerce.number().int().positive().default(def);
export const bool = (def: boolean) =>
  z
    .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'], { message: 'must be one of true|false|1|0|yes|no|on|off' })
    .default(def ? 'true' : 'false')
    .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));
export const url = () => z.string().url({ message: 'must be a URL' });
export const logLevel = () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');
