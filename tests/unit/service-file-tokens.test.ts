// Every way a file reaches the page (dialog, drop, double-click, upload) gets its token here.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerFileToken } from '../../src/main/service/file-tokens';

describe('registerFileToken', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cellar-tokens-'));
  const file = join(dir, 'pbmc.h5ad');
  writeFileSync(file, 'twelve bytes');

  it('gives each registration its own random token that maps back to the path', () => {
    const files = new Map<string, string>();
    const a = registerFileToken(files, file);
    const b = registerFileToken(files, file);
    expect(a).toEqual({ fileToken: a.fileToken, name: 'pbmc.h5ad', size: 12 });
    expect(a.fileToken).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(b.fileToken).not.toBe(a.fileToken);
    expect([...files.entries()]).toEqual([
      [a.fileToken, file],
      [b.fileToken, file],
    ]);
  });

  it('describes a file that has gone without a size, and still registers it', () => {
    const files = new Map<string, string>();
    const gone = registerFileToken(files, join(dir, 'gone.h5ad'));
    expect(gone).toEqual({ fileToken: gone.fileToken, name: 'gone.h5ad' });
    expect(files.get(gone.fileToken)).toBe(join(dir, 'gone.h5ad'));
  });

  it('registers a Matrix Market folder by its name, without the size of the directory entry itself', () => {
    const files = new Map<string, string>();
    const folder = join(dir, 'mtx_v3');
    mkdirSync(folder);
    const opened = registerFileToken(files, folder);
    expect(opened).toEqual({ fileToken: opened.fileToken, name: 'mtx_v3' });
    expect(files.get(opened.fileToken)).toBe(folder);
  });
});
