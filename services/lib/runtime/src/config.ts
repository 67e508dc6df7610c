// Configuration from environment variables, validated with zod. A wrong or
// missing value stops the process with one line naming the variable. Each
// entry carries its help text, so `--help` and the README tables are
// generated from the spec itself (config-docs.ts) and cannot drift from it.
import { z } from 'zod';

export interface ConfigEntry<T extends z.ZodType = z.ZodType> {
  /** The environment variable. */
  readonly env: string;
  readonly schema: T;
  /** What it does, for --help and the README (may use `code`). */
  readonly help: string;
  /** The default as people write it, when the schema's parsed default is not a plain value (e.g. host:port). */
  readonly default?: string;
  /** What unset means when there is no default value (e.g. "required except in dev", "unset: no mail"). */
  readonly unset?: string;
}

export type ConfigSpec = Readonly<Record<string, ConfigEntry>>;
type Out<S extends ConfigSpec, K extends keyof S> = z.output<S[K]['schema']>;
/** Keys whose variable may stay unset (the schema's output includes undefined). */
type OptionalKeys<S extends ConfigSpec> = { [K in keyof S]: undefined extends Out<S, K> ? K : never }[keyof S];
/** The parsed configuration of a spec, as z.infer of an object: each key's type is its schema's output. */
export type ConfigOf<S extends ConfigSpec> = {
  -readonly [K in keyof S as K extends OptionalKeys<S> ? never : K]: Out<S, K>;
} & {
  -readonly [K in keyof S as K extends OptionalKeys<S> ? K : never]?: Out<S, K>;
};

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Parses each variable of `spec` from `env`; throws ConfigError naming the first bad one. */
export function loadConfig<S extends ConfigSpec>(spec: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, { env: name, schema }] of Object.entries(spec)) {
    const raw = env[name];
    const result = schema.safeParse(raw === '' ? undefined : raw);
    if (!result.success) {
      const issue = result.error.issues[0];
      const detail =
        raw === undefined || raw === ''
          ? 'is required but not set'
          : `${issue?.message ?? 'is invalid'} (got ${JSON.stringify(mask(name, raw))})`;
      throw new ConfigError(name, detail);
    }
    out[key] = result.data;
  }
  return out as ConfigOf<S>;
}

/** As loadConfig, but prints the one-line error and exits 1: for main.ts. */
export function loadConfigOrExit<S extends ConfigSpec>(
  service: string,
  spec: S,
  env: NodeJS.ProcessEnv = process.env,
): ConfigOf<S> {
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
    .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'], {
      message: 'must be one of true|false|1|0|yes|no|on|off',
    })
    .default(def ? 'true' : 'false')
    .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));
export const url = () => z.string().url({ message: 'must be a URL' });
export const logLevel = () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');
/** `JMP_LOG_LEVEL`, the same in every service. */
export const logLevelEntry = () =>
  ({
    env: 'JMP_LOG_LEVEL',
    schema: logLevel(),
    help: 'pino level: fatal, error, warn, info, debug, trace or silent',
  }) as const;
