import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { RENDERER_DIR } from '../../app-files';
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

/** The page is the desktop app's renderer, built with the rest of the app (`npm run build`). */
function builtRenderer(): string {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) throw new UsageError(`The app's page is not built (${RENDERER_DIR} is missing); run "npm run build".`);
  return RENDERER_DIR;
}

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const host = stringFlag(ctx.args, 'host') ?? '127.0.0.1';
  if (!['127.0.0.1', '::1', 'localhost'].includes(host) && !host.startsWith('127.')) {
    throw new UsageError(`cellar serve binds to loopback only (127.0.0.1, ::1 or localhost), not ${host}.`);
  }
  const port = intFlag(ctx.args, 'port', 0) ?? 0;
  const home = ctx.home();
  const staticDir = builtRenderer();
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
  // Listen for Ctrl+C before saying where we serve: whoever reads that line may stop us at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  ctx.out(`Cellar is serving at ${server.url}`);
  await stopped;
  await server.close();
  service.close();
  return { json: null, text: '' };
}
