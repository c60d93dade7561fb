#!/usr/bin/env node
// The `cellar` command: runs the built CLI (out/main/cli.js, made by `npm install`'s
// prepare step or `npm run build`) in this process; no TypeScript is compiled at run time.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../out/main/cli.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write(`cellar is not built (${fileURLToPath(built)} is missing): run "npm run build" in ${fileURLToPath(new URL('..', import.meta.url))}.\n`);
  process.exit(1);
}
const cli = await import(built.href);
process.exitCode = await cli.main(process.argv.slice(2));
