// Reading the text files of a Matrix Market folder as streams: gzip through Node's zlib,
// whole lines across chunk boundaries, and a gzip stream cut short named as such.
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createGunzip } from 'node:zlib';
import { CellarError } from '../../../../shared/errors';

export function isGzip(path: string): boolean {
  return path.toLowerCase().endsWith('.gz');
}

/** The file's bytes (decompressed when .gz) in chunks of about `chunkSize`. */
export async function* byteChunks(path: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const source = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = isGzip(path) ? source.pipe(createGunzip({ chunkSize: 1 << 20 })) : source;
  if (stream !== source) source.on('error', (err) => stream.destroy(err));
  try {
    for await (const chunk of stream) {
      if (signal?.aborted) throw new CellarError('cancelled', `Reading ${basename(path)} was cancelled.`);
      yield chunk as Buffer;
    }
  } catch (err) {
    throw readError(path, err);
  } finally {
    stream.destroy();
    source.destroy();
  }
}

function readError(path: string, err: unknown): unknown {
  if (err instanceof CellarError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return new CellarError('not_found', `${path} does not exist.`);
  if (e.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(e.message ?? '')) return new CellarError('bad_element', `${basename(path)} is truncated: its gzip stream ends early.`);
  if (e.code?.startsWith('Z_') || e.code === 'ERR_ZLIB_INITIALIZATION_FAILED') return new CellarError('bad_element', `${basename(path)} is not a readable gzip file (${e.message}).`);
  return new CellarError('io_error', `${basename(path)} could not be read: ${e.message ?? String(err)}`);
}

/** Every line of a (small) text file, without line ends; a last empty line is not a line. */
export async function readLines(path: string, signal?: AbortSignal): Promise<string[]> {
  const parts: Buffer[] = [];
  for await (const chunk of byteChunks(path, signal)) parts.push(chunk);
  const text = Buffer.concat(parts).toString('utf8');
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
