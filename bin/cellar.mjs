#!/usr/bin/env node
// The `cellar` command: runs the built CLI (out/main/cli.js, made by `npm install`'s
// prepare step or `npm run build`); no TypeScript is compiled at run time. On Linux it first restarts itself with glibc malloc settings
// suited to large arrays (src/main/malloc-tuning.mjs); the restarted process does the work.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TUNED_MARK, tunedEnvironment } from '../src/main/malloc-tuning.mjs';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

function restartTuned(env) {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env });
  // Ctrl+C and Ctrl+\ from a terminal already reach the restarted process (same process
  // group): passing them on as well would make a graceful stop abrupt. Anything else is passed on.
  const fromTerminal = new Set(process.stdin.isTTY ? ['SIGINT', 'SIGQUIT'] : []);
  const forward = (signal) => {
    if (!fromTerminal.has(signal)) child.kill(signal);
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  child.on('error', (err) => {
    process.stderr.write(`cellar could not start: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    for (const s of FORWARDED) process.off(s, forward);
    // End the same way the work did, so callers see its exit code or signal.
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}

const env = tunedEnvironment(process.env);
if (env) {
  restartTuned(env);
} else {
  if (process.env[TUNED_MARK] === '1') {
    // The starter was killed outright (no signal to forward): do not work on as an orphan.
    const starter = process.ppid;
    setInterval(() => {
      if (process.ppid !== starter) process.kill(process.pid, 'SIGTERM');
    }, 1000).unref();
  }
  const built = new URL('../out/main/cli.js', import.meta.url);
  if (!existsSync(built)) {
    process.stderr.write(`cellar is not built (${fileURLToPath(built)} is missing): run "npm run build" in ${fileURLToPath(new URL('..', import.meta.url))}.\n`);
    process.exit(1);
  }
  const cli = await import(built.href);
  process.exitCode = await cli.main(process.argv.slice(2));
}
