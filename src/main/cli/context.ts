// What every CLI command gets: where to print, the home folder, and a progress sink
// that draws a bar on a TTY and stays silent otherwise (and always with --json).
import { resolveHomeWithNote } from '../shell/home';
import type { CellarError } from '../../shared/errors';
import type { ParsedArgs } from './args';

export interface Progress {
  (phase: string, done: number, total: number): void;
}

export interface CommandContext {
  args: ParsedArgs;
  json: boolean;
  /** Resolved lazily: commands that need no home (inspect) never create one. */
  home(): string;
  out(text: string): void;
  err(text: string): void;
  progress: Progress;
}

export interface CommandOutput {
  /** The JSON document printed with --json. */
  json: unknown;
  /** Human-readable text printed otherwise. */
  text: string;
  /**
   * The command printed its result but failed (a --dry-run whose plan has blocking
   * problems): exit 1 after the output, with the error on stderr (and in the JSON).
   */
  failure?: CellarError;
  /** Everything was printed already (serve prints as it starts): print nothing at the end. */
  printed?: boolean;
}

export function makeContext(args: ParsedArgs, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream & { isTTY?: boolean } }): CommandContext {
  const json = args.flags.json === true;
  let lastDraw = 0;
  const progress: Progress = (phase, done, total) => {
    if (json || !io.stderr.isTTY) return;
    const now = Date.now();
    if (now - lastDraw < 100 && done < total) return;
    lastDraw = now;
    const width = 30;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    io.stderr.write(`\r${phase.padEnd(24).slice(0, 24)} [${bar}] ${Math.round(frac * 100)}%${done >= total ? '\n' : ''}`);
  };
  return {
    args,
    json,
    home: () => {
      const choice = resolveHomeWithNote(typeof args.flags.home === 'string' ? args.flags.home : undefined);
      if (choice.note) io.stderr.write(`${choice.note}\n`);
      return choice.home;
    },
    out: (text) => io.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => io.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    progress,
  };
}
