import { describe, expect, it } from 'vitest';
import { h5adPathsFromArgv } from '../../src/main/shell/open-files';

const existing = new Set(['/data/a.h5ad', '/data/b c.h5ad', '/home/u/x.H5AD']);
const exists = (p: string) => existing.has(p);

describe('h5adPathsFromArgv', () => {
  it('keeps existing .h5ad files, drops switches and other files', () => {
    const argv = ['--no-sandbox', '-psn_0_123', '/data/a.h5ad', '/data/notes.txt', '/data/missing.h5ad'];
    expect(h5adPathsFromArgv(argv, '/', exists)).toEqual(['/data/a.h5ad']);
  });
  it('decodes file:// URLs with escapes', () => {
    expect(h5adPathsFromArgv(['file:///data/b%20c.h5ad'], '/', exists)).toEqual(['/data/b c.h5ad']);
  });
  it('resolves relative paths against the cwd and matches the suffix case-insensitively', () => {
    expect(h5adPathsFromArgv(['x.H5AD'], '/home/u', exists)).toEqual(['/home/u/x.H5AD']);
  });
  it('does not list a file twice', () => {
    expect(h5adPathsFromArgv(['/data/a.h5ad', 'file:///data/a.h5ad'], '/', exists)).toEqual(['/data/a.h5ad']);
  });
  it('ignores malformed file URLs', () => {
    expect(h5adPathsFromArgv(['file://host/share/a.h5ad'], '/', exists)).toEqual([]);
  });
});
