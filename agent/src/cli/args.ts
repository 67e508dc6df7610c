// Command-line parsing: `jmp-agent COMMAND [ARGS] [--flag value]...`.
export interface ParsedArgs {
  command: string | undefined;
  positional: string[];
  flags: Map<string, string[]>;
  bools: Set<string>;
}

/** Flags that take no value. */
const BOOLEAN_FLAGS = new Set(['help', 'version', 'force', 'json', 'no-sync']);

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { command: undefined, positional: [], flags: new Map(), bools: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h') {
      out.bools.add('help');
      continue;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      if (BOOLEAN_FLAGS.has(name)) {
        if (eq >= 0) throw new UsageError(`--${name} takes no value`);
        out.bools.add(name);
        continue;
      }
      const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      out.flags.set(name, [...(out.flags.get(name) ?? []), value]);
      continue;
    }
    if (out.command === undefined) out.command = a;
    else out.positional.push(a);
  }
  return out;
}

export function flag(args: ParsedArgs, name: string): string | undefined {
  return args.flags.get(name)?.at(-1);
}

/** Rejects flags a command does not know (a typo must not silently change behaviour). */
export function allowFlags(args: ParsedArgs, allowed: readonly string[]): void {
  for (const name of [...args.flags.keys(), ...args.bools]) {
    if (name !== 'help' && name !== 'config' && !allowed.includes(name))
      throw new UsageError(`unknown option --${name} for ${args.command}`);
  }
}
