// `cellar`: each command is a thin call into the engine. Conventions (SPEC §5):
// exit 0 on success, 1 on a user error (first stderr line names the problem; with
// --json stdout holds {"error": {...}}), 2 on usage errors; no stack traces.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CellarError, toErrorValue } from '../shared/errors';
import { formatHelp, parseArgs, UsageError, type CommandSpec } from './cli/args';
import { makeContext, type CommandContext, type CommandOutput } from './cli/context';
import { resolveHomeWithNote } from './shell/home';

interface CommandModule {
  spec: CommandSpec;
  run(ctx: CommandContext): Promise<CommandOutput>;
}

/** Commands load lazily so `cellar inspect` never pays for SQLite or Arrow. */
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  inspect: () => import('./cli/commands/inspect'),
  import: () => import('./cli/commands/import'),
  concat: () => import('./cli/commands/concat'),
  append: () => import('./cli/commands/append'),
  embed: () => import('./cli/commands/embed'),
  annotate: () => import('./cli/commands/annotate'),
  query: () => import('./cli/commands/query'),
  export: () => import('./cli/commands/export'),
  de: () => import('./cli/commands/de'),
  genes: () => import('./cli/commands/genes'),
  qc: () => import('./cli/commands/qc'),
  neighbors: () => import('./cli/commands/neighbors'),
  umap: () => import('./cli/commands/umap'),
  cluster: () => import('./cli/commands/cluster'),
  versions: () => import('./cli/commands/versions'),
  diff: () => import('./cli/commands/diff'),
  restore: () => import('./cli/commands/restore'),
  compact: () => import('./cli/commands/compact'),
  verify: () => import('./cli/commands/verify'),
  list: () => import('./cli/commands/list'),
  rename: () => import('./cli/commands/rename'),
  delete: () => import('./cli/commands/delete'),
  lineage: () => import('./cli/commands/lineage'),
  collection: () => import('./cli/commands/collection'),
  serve: () => import('./cli/commands/serve'),
};

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

function overview(): string {
  return [
    'Cellar: manage single-cell datasets (.h5ad) in a local, versioned array store.',
    '',
    'Usage: cellar COMMAND [options]    (cellar COMMAND --help for details)',
    '',
    'Commands:',
    ...Object.keys(COMMANDS).map((name) => `  ${name}`),
    '',
    'Every command takes --home DIR (default: $CELLAR_HOME, else the default home, shared with the desktop app: see the README) and --json.',
  ].join('\n');
}

/**
 * Global options may come before the command (`cellar --home DIR list`): they are moved
 * after it, where every command's parser accepts them.
 */
export function hoistGlobalOptions(argv: string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg === '--json') leading.push(arg);
    else if (arg.startsWith('--home=')) leading.push(arg);
    else if (arg === '--home' && i + 1 < argv.length) leading.push(arg, argv[++i]!);
    else break;
    i++;
  }
  if (!leading.length) return argv;
  if (i >= argv.length) return [];
  return [argv[i]!, ...leading, ...argv.slice(i + 1)];
}

export async function main(rawArgv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const argv = hoistGlobalOptions(rawArgv);
  watchForClosedStdout(io.stdout, argv);
  const [name, ...rest] = argv;
  const wantsJson = rest.includes('--json');
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${overview()}\n`);
    return name ? 0 : 2;
  }
  if (name === '--version') {
    io.stdout.write('cellar 0.1.0\n');
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    return reportError(new UsageError(`Unknown command "${name}". Run "cellar --help" for the list of commands.`), wantsJson, io, argv);
  }
  const command = await load();
  try {
    const args = parseArgs(command.spec, rest);
    if (args.flags.help) {
      io.stdout.write(`${formatHelp(command.spec)}\n`);
      return 0;
    }
    const ctx = makeContext(args, io);
    const output = await command.run(ctx);
    if (output.failure) {
      // The result is printed (a dry run's plan), then the command fails as any user error does.
      const value = toErrorValue(output.failure);
      const error = { code: value.code, message: value.message, problems: value.problems ?? [] };
      if (ctx.json) io.stdout.write(`${JSON.stringify({ ...(output.json as object), error }, jsonReplacer, 2)}\n`);
      else if (output.text) io.stdout.write(output.text.endsWith('\n') ? output.text : `${output.text}\n`);
      io.stderr.write(`${value.message}\n`);
      logLine(argv, `error ${value.code}: ${value.message}`);
      return 1;
    }
    if (output.printed) {
      // Printed as it ran.
    } else if (ctx.json) io.stdout.write(`${JSON.stringify(output.json, jsonReplacer, 2)}\n`);
    else if (output.text) io.stdout.write(output.text.endsWith('\n') ? output.text : `${output.text}\n`);
    logLine(argv, 'ok');
    return 0;
  } catch (err) {
    return reportError(err, wantsJson, io, argv);
  }
}

/**
 * A reader that stops early (`cellar query --format csv | head -1`) closes the pipe: the
 * rest of the output has nowhere to go, which is what the user asked for. End quietly
 * (exit 0, no stack trace) and say so in the log.
 */
const watchedStreams = new WeakSet<NodeJS.WritableStream>();
function watchForClosedStdout(stdout: NodeJS.WritableStream, argv: string[]): void {
  // One listener per stream, however often main() runs in a process (tests).
  if (watchedStreams.has(stdout)) return;
  watchedStreams.add(stdout);
  let noted = false;
  stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') {
      process.stderr.write(`Could not write the output: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    if (noted) return;
    noted = true;
    logLine(argv, 'stdout closed by its reader (EPIPE): the output was cut short there, as the reader asked; exit 0');
  });
}

function reportError(err: unknown, json: boolean, io: Io, argv: string[]): number {
  const value = toErrorValue(err);
  const isUsage = err instanceof UsageError || (err instanceof CellarError && err.code === 'usage');
  io.stderr.write(`${value.message}\n`);
  for (const problem of value.problems ?? []) io.stderr.write(`  - ${problem}\n`);
  if (json) io.stdout.write(`${JSON.stringify({ error: { code: value.code, message: value.message, problems: value.problems ?? [] } }, null, 2)}\n`);
  const detail = value.code === 'internal' && err instanceof Error ? `\n${err.stack ?? ''}` : '';
  logLine(argv, `error ${value.code}: ${value.message}${detail}`);
  return isUsage ? 2 : 1;
}

/** BigInt (int64 values) prints as a number when exact, else as a string. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  return value;
}

/** Every command and error goes to home/logs/cellar.log for bug reports. */
function logLine(argv: string[], outcome: string): void {
  try {
    const homeIdx = argv.indexOf('--home');
    const { home } = resolveHomeWithNote(homeIdx >= 0 ? argv[homeIdx + 1] : argv.find((a) => a.startsWith('--home='))?.slice(7));
    const dir = join(home, 'logs');
    mkdirSync(dir, { recursive: true });
    appendFileSync(join(dir, 'cellar.log'), `${new Date().toISOString()} pid=${process.pid} cellar ${argv.join(' ')} -> ${outcome}\n`);
  } catch {
    // Logging must never turn a success into a failure.
  }
}
