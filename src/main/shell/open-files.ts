// Which .h5ad files the OS asked us to open, from argv (Linux/Windows, first launch
// and second-instance) — one pure function so it is tested without Electron.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function h5adPathsFromArgv(argv: readonly string[], cwd: string, exists: (p: string) => boolean = isFile): string[] {
  const out: string[] = [];
  for (const raw of argv) {
    if (!raw || raw.startsWith('-')) continue; // switches such as --no-sandbox or -psn_0_123
    let candidate = raw;
    if (/^file:\/\//i.test(raw)) {
      try {
        candidate = fileURLToPath(raw);
      } catch {
        continue;
      }
    }
    if (!/\.h5ad$/i.test(candidate)) continue;
    const full = resolve(cwd, candidate);
    if (exists(full) && !out.includes(full)) out.push(full);
  }
  return out;
}

function isFile(p: string): boolean {
  return existsSync(p) && statSync(p).isFile();
}
