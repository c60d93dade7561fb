#!/usr/bin/env node
// The `cellar` command: runs the TypeScript CLI directly through tsx, so no build
// step is needed after `npm install`.
import { register } from 'tsx/esm/api';

register();
const cli = await import(new URL('../src/main/cli.ts', import.meta.url).href);
process.exitCode = await cli.main(process.argv.slice(2));
