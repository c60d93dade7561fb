// Prepares the h5wasm-plugins filters (lzf, zstd, blosc, bz2, lz4, …) so that
// they decode every chunk h5py and hdf5plugin write. Two defects of the
// packaged builds are repaired on a copy, at the WebAssembly level:
//
// 1. lzf and blosc2 import libc's __errno_location (blosc: strerror), which
//    the h5wasm main module does not export; calling it aborts the module.
//    A tiny side module provides both, and each plugin that imports them
//    lists it as a needed library in its dylink.0 section, so the dynamic
//    linker resolves them there.
// 2. The lzf filter gives up when a chunk decompresses into more bytes than
//    it guessed. h5py records no size for variable-length strings, so every
//    lzf-compressed string dataset (anndata's compression="lzf") failed. The
//    filter function is replaced by one that doubles its buffer and retries.
//
// The patched copies live in the user's own cache folder (never a shared,
// predictable folder of the system's temp directory, where another user could
// plant a plugin or own the folder), in a subfolder named after the packaged
// files they were built from; files are written atomically, so concurrent
// processes agree.
import { createHash, randomBytes } from 'node:crypto';
import { threadId } from 'node:worker_threads';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const PATCH_VERSION = 'cellar-plugins-1';
const LIBC_SHIM_SYMBOLS = ['__errno_location', 'strerror'];

/** The user's cache folder for Cellar: $XDG_CACHE_HOME/cellar, ~/Library/Caches/Cellar, %LOCALAPPDATA%\Cellar\Cache. */
export function userCacheDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'Cellar');
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'Cellar', 'Cache');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'cellar');
}

/** True when only this user can write the folder (POSIX; Windows folders under the profile are private already). */
export function isPrivateFolder(path: string): boolean {
  try {
    const stat = lstatSync(path);
    if (!stat.isDirectory() || stat.isSymbolicLink()) return false;
    if (process.platform === 'win32' || typeof process.getuid !== 'function') return true;
    return stat.uid === process.getuid() && (stat.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

let privateTemp: string | null = null;

/**
 * Where plugins are cached: the user's cache folder when it is private to this user, else a
 * fresh private folder of this process in the temp directory (removed when the process ends).
 */
export function pluginCacheRoot(cacheDir: string = userCacheDir()): string {
  const root = join(cacheDir, 'h5plugins');
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    if (isPrivateFolder(cacheDir) && isPrivateFolder(root)) return root;
  } catch {
    // A read-only or missing home: fall back below.
  }
  if (!privateTemp) {
    const dir = mkdtempSync(join(tmpdir(), 'cellar-h5plugins-'));
    privateTemp = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return privateTemp;
}

/** Returns a folder of plugins ready for insert_plugin_search_path. */
export function preparePluginDir(packagedDir: string, cacheRoot: string = pluginCacheRoot()): string {
  const names = readdirSync(packagedDir).filter((name) => name.endsWith('.so')).sort();
  // Name, size and mtime identify the packaged build without reading megabytes on every start.
  const hash = createHash('sha256').update(PATCH_VERSION);
  for (const name of names) {
    const stat = statSync(join(packagedDir, name));
    hash.update(`${name}:${stat.size}:${stat.mtimeMs}\n`);
  }
  const cache = join(cacheRoot, hash.digest('hex').slice(0, 16));
  const pluginDir = join(cache, 'plugins');
  const marker = join(cache, 'complete');
  if (existsSync(marker)) return pluginDir;

  const shimPath = join(cache, 'lib', 'libcellar_libc_shim.so');
  mkdirSync(pluginDir, { recursive: true });
  mkdirSync(dirname(shimPath), { recursive: true });
  writeAtomically(shimPath, LIBC_SHIM);
  for (const name of names) {
    const original = readFileSync(join(packagedDir, name));
    writeAtomically(join(pluginDir, name), patchPlugin(name, original, shimPath));
  }
  writeAtomically(marker, Buffer.from('ok\n'));
  return pluginDir;
}

function patchPlugin(name: string, original: Buffer, shimPath: string): Buffer {
  try {
    let module = original;
    if (name === 'libH5Zlzf.so') module = replaceLzfFilter(module);
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(new Uint8Array(module)));
    if (imports.some((i) => i.kind === 'function' && LIBC_SHIM_SYMBOLS.includes(i.name))) {
      module = addNeededLibrary(module, shimPath);
    }
    new WebAssembly.Module(new Uint8Array(module)); // validates the patched module
    return module;
  } catch {
    // An unexpected build: keep it as shipped rather than break every other filter.
    return original;
  }
}

function writeAtomically(path: string, bytes: Uint8Array): void {
  // Unique per writer: worker threads of one process prepare the same folder at the same time.
  const temp = `${path}.${process.pid}.${threadId}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temp, bytes);
  renameSync(temp, path);
}

// ---------------------------------------------------------------- wasm encoding

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function wasmString(text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [...uleb(bytes.length), ...bytes];
}

function wasmSection(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

class WasmReader {
  constructor(
    readonly bytes: Uint8Array,
    public at = 0,
  ) {}

  uleb(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const byte = this.bytes[this.at++];
      result += (byte & 0x7f) * scale;
      scale *= 128;
      if (!(byte & 0x80)) return result;
    }
  }

  string(): string {
    const length = this.uleb();
    const text = Buffer.from(this.bytes.subarray(this.at, this.at + length)).toString('utf8');
    this.at += length;
    return text;
  }
}

interface Section {
  id: number;
  /** Start of the whole section (its id byte) and end of its content. */
  start: number;
  contentStart: number;
  end: number;
  customName?: string;
}

function sectionsOf(module: Uint8Array): Section[] {
  const reader = new WasmReader(module, 8);
  const sections: Section[] = [];
  while (reader.at < module.length) {
    const start = reader.at;
    const id = module[reader.at++];
    const size = reader.uleb();
    const contentStart = reader.at;
    const section: Section = { id, start, contentStart, end: contentStart + size };
    if (id === 0) section.customName = new WasmReader(module, contentStart).string();
    sections.push(section);
    reader.at = section.end;
  }
  return sections;
}

// ---------------------------------------------------------------- patch 1: needed library

/** Adds `library` to the WASM_DYLINK_NEEDED list of a side module's dylink.0 section (which comes first). */
function addNeededLibrary(module: Buffer, library: string): Buffer {
  const [dylink] = sectionsOf(module);
  if (dylink?.customName !== 'dylink.0') throw new Error('no leading dylink.0 section');
  const reader = new WasmReader(module, dylink.contentStart);
  reader.string();
  const kept: number[] = [];
  const needed = [library];
  while (reader.at < dylink.end) {
    const type = module[reader.at++];
    const size = reader.uleb();
    const bodyEnd = reader.at + size;
    if (type === 2) {
      for (let count = reader.uleb(); count > 0; count--) needed.push(reader.string());
    } else {
      kept.push(type, ...uleb(size), ...module.subarray(reader.at, bodyEnd));
    }
    reader.at = bodyEnd;
  }
  const neededBody = [...uleb(needed.length), ...needed.flatMap(wasmString)];
  const section = wasmSection(0, [...wasmString('dylink.0'), ...kept, 2, ...uleb(neededBody.length), ...neededBody]);
  return Buffer.concat([module.subarray(0, 8), Buffer.from(section), module.subarray(dylink.end)]);
}

/**
 * A side module exporting `__errno_location` (a 4-byte errno in its own
 * memory) and `strerror` (always "unknown error"): dylink.0 memory info, two
 * function types, imports of env.memory and env.__memory_base, two one-line
 * functions and a data segment at __memory_base.
 */
const LIBC_SHIM = (() => {
  const message = [...Buffer.from('unknown error\0')];
  const memorySize = 4 + message.length;
  const body = (code: number[]): number[] => [...uleb(code.length + 1), 0x00, ...code];
  const memInfo = [...uleb(memorySize), 2, 0, 0];
  return Buffer.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...wasmSection(0, [...wasmString('dylink.0'), 1, ...uleb(memInfo.length), ...memInfo]),
    ...wasmSection(1, [2, 0x60, 0, 1, 0x7f, 0x60, 1, 0x7f, 1, 0x7f]),
    ...wasmSection(2, [
      2,
      ...wasmString('env'), ...wasmString('memory'), 0x02, 0x00, 0x00,
      ...wasmString('env'), ...wasmString('__memory_base'), 0x03, 0x7f, 0x00,
    ]),
    ...wasmSection(3, [2, 0, 1]),
    ...wasmSection(7, [2, ...wasmString('__errno_location'), 0x00, 0, ...wasmString('strerror'), 0x00, 1]),
    ...wasmSection(10, [
      2,
      ...body([0x23, 0x00, 0x0b]), // return __memory_base
      ...body([0x23, 0x00, 0x41, 0x04, 0x6a, 0x0b]), // return __memory_base + 4
    ]),
    ...wasmSection(11, [1, 0x00, 0x23, 0x00, 0x0b, ...uleb(memorySize), 0, 0, 0, 0, ...message]),
  ]);
})();

// ---------------------------------------------------------------- patch 2: lzf retry

/** Function index by name, from the module's imports and its "name" section. */
function functionIndices(module: Uint8Array, sections: Section[]): { byName: Map<string, number>; importedFunctions: number } {
  const byName = new Map<string, number>();
  let importedFunctions = 0;
  const importSection = sections.find((s) => s.id === 2);
  if (importSection) {
    const reader = new WasmReader(module, importSection.contentStart);
    for (let count = reader.uleb(); count > 0; count--) {
      reader.string();
      const name = reader.string();
      const kind = module[reader.at++];
      if (kind === 0) {
        byName.set(name, importedFunctions++);
        reader.uleb();
      } else if (kind === 1) {
        reader.at++;
        skipLimits(reader);
      } else if (kind === 2) {
        skipLimits(reader);
      } else {
        reader.at += 2;
      }
    }
  }
  const names = sections.find((s) => s.customName === 'name');
  if (names) {
    const reader = new WasmReader(module, names.contentStart);
    reader.string();
    while (reader.at < names.end) {
      const id = module[reader.at++];
      const size = reader.uleb();
      const end = reader.at + size;
      if (id === 1) {
        for (let count = reader.uleb(); count > 0; count--) {
          const index = reader.uleb();
          byName.set(reader.string(), index);
        }
      }
      reader.at = end;
    }
  }
  return { byName, importedFunctions };
}

function skipLimits(reader: WasmReader): void {
  const flags = reader.bytes[reader.at++];
  reader.uleb();
  if (flags & 1) reader.uleb();
}

/**
 * Replaces H5Z_lzf_filter(flags, cd_nelmts, cd_values, nbytes, *buf_size, **buf)
 * with: compress as before; decompress into cd_values[2] bytes (or the
 * compressed size when unrecorded) and, while lzf reports E2BIG, double the
 * buffer and retry (up to 1 GiB).
 */
function replaceLzfFilter(module: Buffer): Buffer {
  const sections = sectionsOf(module);
  const { byName, importedFunctions } = functionIndices(module, sections);
  const index = (name: string): number => {
    const found = byName.get(name);
    if (found === undefined) throw new Error(`lzf plugin has no ${name}`);
    return found;
  };
  const target = index('H5Z_lzf_filter');
  const [malloc, free, errno, compress, decompress] = ['malloc', 'free', '__errno_location', 'lzf_compress', 'lzf_decompress'].map(index);

  const [FLAGS, NELMTS, CD_VALUES, NBYTES, BUF_SIZE, BUF, SIZE, OUT, RESULT] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const get = (local: number): number[] => [0x20, local];
  const set = (local: number): number[] => [0x21, local];
  const i32 = (value: number): number[] => [0x41, ...sleb(value)];
  const load = (offset: number): number[] => [0x28, 2, ...uleb(offset)];
  const store = [0x36, 2, 0];
  const call = (fn: number): number[] => [0x10, ...uleb(fn)];
  const when = (condition: number[], then: number[]): number[] => [...condition, 0x04, 0x40, ...then, 0x0b];
  const EQZ = 0x45;
  const RETURN = 0x0f;
  const fail = [...i32(0), RETURN];
  // free(*buf); *buf = out; *buf_size = size; return result
  const adopt = [
    ...get(BUF), ...load(0), ...call(free),
    ...get(BUF), ...get(OUT), ...store,
    ...get(BUF_SIZE), ...get(SIZE), ...store,
    ...get(RESULT), RETURN,
  ];
  const attempt = (fn: number): number[] => [
    ...get(SIZE), ...call(malloc), ...set(OUT),
    ...when([...get(OUT), EQZ], fail),
    ...get(BUF), ...load(0), ...get(NBYTES), ...get(OUT), ...get(SIZE), ...call(fn), ...set(RESULT),
  ];
  const code = [
    1, 3, 0x7f, // three i32 locals: size, out, result
    ...when([...get(FLAGS), ...i32(0x100), 0x71, EQZ], [
      ...get(BUF_SIZE), ...load(0), ...set(SIZE),
      ...attempt(compress),
      ...when([...get(RESULT), EQZ], [...get(OUT), ...call(free), ...fail]),
      ...adopt,
    ]),
    ...get(BUF_SIZE), ...load(0), ...set(SIZE),
    ...when([...get(NELMTS), ...i32(3), 0x4f], [
      ...when([...get(CD_VALUES), ...load(8)], [...get(CD_VALUES), ...load(8), ...set(SIZE)]),
    ]),
    ...when([...get(SIZE), EQZ], [...i32(4096), ...set(SIZE)]),
    0x03, 0x40, // loop
    ...attempt(decompress),
    ...when([...get(RESULT)], adopt),
    ...get(OUT), ...call(free),
    ...when([...call(errno), ...load(0), ...i32(1), 0x47], fail), // errno != E2BIG
    ...when([...get(SIZE), ...i32(0x40000000), 0x4f], fail),
    ...get(SIZE), ...i32(1), 0x74, ...set(SIZE), // size <<= 1
    0x0c, 0, // continue
    0x0b, // end loop
    ...i32(0),
    0x0b,
  ];

  const codeSection = sections.find((s) => s.id === 10);
  if (!codeSection) throw new Error('lzf plugin has no code');
  const reader = new WasmReader(module, codeSection.contentStart);
  const bodies: number[][] = [];
  for (let count = reader.uleb(), i = 0; i < count; i++) {
    const size = reader.uleb();
    const body = [...module.subarray(reader.at, reader.at + size)];
    reader.at += size;
    bodies.push(i === target - importedFunctions ? code : body);
  }
  const content = [...uleb(bodies.length), ...bodies.flatMap((body) => [...uleb(body.length), ...body])];
  return Buffer.concat([
    module.subarray(0, codeSection.start),
    Buffer.from(wasmSection(10, content)),
    module.subarray(codeSection.end),
  ]);
}
