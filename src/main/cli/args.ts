// A small, strict argument parser: every command declares its flags, and anything
// unknown is a usage error (exit code 2) rather than silently ignored.
import { CellarError } from '../../shared/errors';

export interface FlagSpec {
  /** 'boolean' flags take no value; 'string' flags take one; 'multi' may repeat. */
  type: 'boolean' | 'string' | 'multi';
  description: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: Record<string, FlagSpec>;
  /** Minimum and maximum number of positional arguments. */
  positionals: [number, number];
}

export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | boolean | string[] | undefined>;
}

export class UsageError extends CellarError {
  constructor(message: string) {
    super('usage', message);
  }
}

export const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  home: { type: 'string', description: 'Cellar home folder (default: $CELLAR_HOME, else the default home, shared with the desktop app)' },
  json: { type: 'boolean', description: 'print one JSON document on stdout' },
  help: { type: 'boolean', description: 'show help for this command' },
};

export function parseArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  const known = { ...GLOBAL_FLAGS, ...spec.flags };
  const flags: ParsedArgs['flags'] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) throw new UsageError(`Unknown option ${arg} for "cellar ${spec.name}".`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const flag = known[name];
    if (!flag) throw new UsageError(`Unknown option --${name} for "cellar ${spec.name}".`);
    if (flag.type === 'boolean') {
      if (eq !== -1) throw new UsageError(`Option --${name} takes no value.`);
      flags[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || (value.startsWith('--') && value.length > 2)) throw new UsageError(`Option --${name} needs a value.`);
      i++;
    }
    if (flag.type === 'multi') flags[name] = [...((flags[name] as string[] | undefined) ?? []), value];
    else flags[name] = value;
  }
  const [min, max] = spec.positionals;
  if (!flags.help && positionals.length < min) throw new UsageError(`Missing argument for "cellar ${spec.name}". Usage: ${spec.usage}`);
  if (positionals.length > max) throw new UsageError(`Too many arguments for "cellar ${spec.name}". Usage: ${spec.usage}`);
  return { positionals, flags };
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function intFlag(args: ParsedArgs, name: string, min = Number.MIN_SAFE_INTEGER): number | undefined {
  const v = stringFlag(args, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`Option --${name} must be an integer (got "${v}").`);
  const n = Number(v);
  if (n < min) throw new UsageError(`Option --${name} must be at least ${min} (got ${n}).`);
  return n;
}

/** A flag that takes one of a few words; anything else is a usage error naming them. */
export function choiceFlag<T extends string>(args: ParsedArgs, name: string, choices: readonly T[]): T | undefined {
  const v = stringFlag(args, name);
  if (v === undefined) return undefined;
  if (!(choices as readonly string[]).includes(v)) throw new UsageError(`Unknown --${name} ${v}; use ${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}.`);
  return v as T;
}

/** A finite decimal number (`--resolution 0.5`). */
export function numberFlag(args: ParsedArgs, name: string): number | undefined {
  const v = stringFlag(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`Option --${name} must be a number (got "${v}").`);
  return n;
}

export function boolFlag(args: ParsedArgs, name: string): boolean {
  return args.flags[name] === true;
}

export function formatHelp(spec: CommandSpec): string {
  const lines = [`Usage: ${spec.usage}`, '', spec.summary, '', 'Options:'];
  for (const [name, f] of Object.entries({ ...spec.flags, ...GLOBAL_FLAGS })) {
    const left = `  --${name}${f.type === 'boolean' ? '' : ' VALUE'}`;
    lines.push(`${left.padEnd(26)}${f.description}`);
  }
  return lines.join('\n');
}
