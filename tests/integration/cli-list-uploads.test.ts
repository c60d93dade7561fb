// Browser uploads that were never imported use disk until a server removes them: `cellar list`
// shows them with the rest of the home's disk usage.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cellar, removeDir, tempDir } from './helpers/cellar';

const home = tempDir('cellar-list-uploads-');
afterAll(() => removeDir(home));

describe('cellar list', () => {
  it('shows the disk used by uploads not imported', () => {
    const empty = cellar(['list', '--json'], { home });
    expect(empty.code, empty.stderr).toBe(0);
    expect((empty.json as { uploads: { disk_bytes: number } }).uploads.disk_bytes).toBe(0);
    expect(cellar(['list'], { home }).stdout).not.toContain('Uploads not imported');
    const dir = join(home, 'storage', 'uploads', 'session-1');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.h5ad'), Buffer.alloc(1500));
    writeFileSync(join(dir, 'b.h5ad.partial'), Buffer.alloc(500));
    const listed = cellar(['list', '--json'], { home });
    expect((listed.json as { uploads: unknown }).uploads).toEqual({ path: join(home, 'storage', 'uploads'), disk_bytes: 2000 });
    expect(cellar(['list'], { home }).stdout).toContain(`Uploads not imported: 2.0 KiB in ${join(home, 'storage', 'uploads')}`);
  });
});
