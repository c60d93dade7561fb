import { existsSync } from 'node:fs';
import { registerFileToken } from '../../service/file-tokens';
import { join } from 'node:path';
import { RENDERER_DIR } from '../../shell/app-files';
import { createService } from '../../service/handlers';
import { DEFAULT_UPLOAD_LIMITS, startServer, type UploadLimits } from '../../serve/server';
import { parseByteSize, resolveServeHost } from '../../serve/host';
import { closeUploadSession, openUploadSession, removeAbandonedUploads, uploadedBytes } from '../../serve/uploads';
import { formatBytes } from '../../../shared/format-number';
import { managedStorageDir } from '../../engine/ops/import';
import { boolFlag, intFlag, stringFlag, UsageError, type CommandSpec } from '../args';
import type { CommandContext, CommandOutput } from '../context';

export const spec: CommandSpec = {
  name: 'serve',
  summary: 'Serve the Cellar app to a browser on this machine (loopback only, with a per-launch token).',
  usage: 'cellar serve [--port P] [--host 127.0.0.1] [--allow-remote] [--max-upload SIZE] [--max-uploads-total SIZE]',
  flags: {
    port: { type: 'string', description: 'port to listen on (0 = any free port, the default)' },
    host: { type: 'string', description: 'loopback address to bind (127.0.0.1, ::1 or localhost)' },
    'allow-remote': { type: 'boolean', description: 'allow --host to be an address other machines can reach (not recommended)' },
    'max-upload': { type: 'string', description: `largest single upload, e.g. 8G (default ${formatBytes(DEFAULT_UPLOAD_LIMITS.perFileBytes)}; env CELLAR_MAX_UPLOAD)` },
    'max-uploads-total': { type: 'string', description: `largest total of uploads waiting in the home (default ${formatBytes(DEFAULT_UPLOAD_LIMITS.totalBytes)}; env CELLAR_MAX_UPLOADS_TOTAL)` },
  },
  positionals: [0, 0],
};

/** The page is the desktop app's renderer, built with the rest of the app (`npm run build`). */
function builtRenderer(): string {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) throw new UsageError(`The app's page is not built (${RENDERER_DIR} is missing); run "npm run build".`);
  return RENDERER_DIR;
}

/** Uploads older than this with no live server owning them are removed at start-up. */
const ABANDONED_UPLOAD_GRACE_MS = 60 * 60 * 1000;

function sizeOption(ctx: CommandContext, flag: string, env: string, fallback: number): number {
  const text = stringFlag(ctx.args, flag) ?? process.env[env];
  if (text === undefined || text === '') return fallback;
  const bytes = parseByteSize(text);
  if (bytes === null) throw new UsageError(`--${flag} (or ${env}) must be a size such as 512M or 8G, not ${text}.`);
  return bytes;
}

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const allowRemote = boolFlag(ctx.args, 'allow-remote');
  let host: string;
  try {
    host = resolveServeHost(stringFlag(ctx.args, 'host') ?? '127.0.0.1', allowRemote).bind;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const port = intFlag(ctx.args, 'port', 0) ?? 0;
  const uploadLimits: Partial<UploadLimits> = {
    perFileBytes: sizeOption(ctx, 'max-upload', 'CELLAR_MAX_UPLOAD', DEFAULT_UPLOAD_LIMITS.perFileBytes),
    totalBytes: sizeOption(ctx, 'max-uploads-total', 'CELLAR_MAX_UPLOADS_TOTAL', DEFAULT_UPLOAD_LIMITS.totalBytes),
  };
  const home = ctx.home();
  const staticDir = builtRenderer();
  const uploadRoot = join(managedStorageDir(home), 'uploads');
  const removed = removeAbandonedUploads(uploadRoot, ABANDONED_UPLOAD_GRACE_MS);
  if (removed.entries) ctx.err(`Removed ${formatBytes(removed.bytes)} of uploads left by a server that is no longer running.`);
  const uploads = openUploadSession(uploadRoot);
  const reportUploads = (bytes: number) => ctx.err(`Uploads waiting for import: ${formatBytes(bytes)} of ${formatBytes(uploadLimits.totalBytes!)} allowed, in ${uploadRoot} (removed when this server stops).`);
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
    allowRemote,
    uploadDir: uploads.dir,
    uploadRoot,
    uploadLimits,
    onUploadsChanged: ({ bytes }) => reportUploads(bytes),
    registerFile: (path) => registerFileToken(files, path).fileToken,
  });
  // Listen for Ctrl+C before saying where we serve: whoever reads that line may stop us at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  if (ctx.json) {
    // One JSON document, printed when serving starts (a script waits for it); nothing after.
    const url = new URL(server.url);
    ctx.out(JSON.stringify({ serving: { url: server.url, host: url.hostname, port: Number(url.port) } }));
  } else ctx.out(`Cellar is serving at ${server.url}`);
  if (allowRemote) ctx.err(`Warning: --allow-remote: Cellar listens on ${host}, so other machines may reach it; the token travels unencrypted over HTTP, and anyone who has it can read and change this home.`);
  const waiting = uploadedBytes(uploadRoot);
  if (waiting) reportUploads(waiting);
  await stopped;
  await server.close();
  service.close();
  // File tokens die with this process, so its uploads can never be used again.
  closeUploadSession(uploads);
  return { json: null, text: '', printed: true };
}
