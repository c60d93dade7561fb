import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { appRoot } from '../../engine/paths';
import { createService } from '../../service/handlers';
import { startServer } from '../../serve/server';
import { managedStorageDir } from '../../engine/ops/import';
import { intFlag, stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';

export const spec: CommandSpec = {
  name: 'serve',
  summary: 'Serve the Cellar app to a browser on this machine (loopback only, with a per-launch token).',
  usage: 'cellar serve [--port P] [--host 127.0.0.1]',
  flags: {
    port: { type: 'string', description: 'port to listen on (0 = any free port, the default)' },
    host: { type: 'string', description: 'loopback address to bind (127.0.0.1, ::1 or localhost)' },
  },
  positionals: [0, 0],
};

const ROOT = appRoot();

/** The renderer is built on first use, so `npm install` + `cellar serve` just works. */
function ensureRendererBuilt(ctx: CommandContext): string {
  const dir = join(ROOT, 'out', 'renderer');
  if (!existsSync(join(dir, 'index.html'))) {
    ctx.err('Building the Cellar app for the browser (first run only)…');
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'vite.renderer.config.ts', '--logLevel', 'error'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0 || !existsSync(join(dir, 'index.html'))) throw new UsageError('Building the app failed; run "npm run build" to see why.');
  }
  return dir;
}

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const host = stringFlag(ctx.args, 'host') ?? '127.0.0.1';
  if (!['127.0.0.1', '::1', 'localhost'].includes(host) && !host.startsWith('127.')) {
    throw new UsageError(`cellar serve binds to loopback only (127.0.0.1, ::1 or localhost), not ${host}.`);
  }
  const port = intFlag(ctx.args, 'port', 0) ?? 0;
  const home = ctx.home();
  const staticDir = ensureRendererBuilt(ctx);
  const files = new Map<string, string>();
  // The server is created after the service; events and downloads go through this holder.
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  const service = createService({
    home,
    mode: 'browser',
    version: '0.1.0',
    files,
    emit: (event, payload) => server?.emit(event, payload),
    offerDownload: (path) => server?.offerDownload(path) ?? '',
  });
  server = await startServer({
    host,
    port,
    staticDir,
    handlers: service.handlers,
    validators: service.validators,
    uploadDir: join(managedStorageDir(home), 'uploads'),
    registerFile: (path) => {
      const token = randomUUID();
      files.set(token, path);
      return token;
    },
  });
  ctx.out(`Cellar is serving at ${server.url}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  service.close();
  return { json: null, text: '' };
}
