import { describe, expect, it } from 'vitest';
import { CHANNELS } from '../../src/shared/contract';
import { requestValidator, requestValidators } from '../../src/main/ipc/validate';

/** The refusal's message, or null when the payload is accepted. */
function refusalOf(channel: Parameters<typeof requestValidator>[0], payload: unknown): string | null {
  try {
    requestValidator(channel)(payload);
    return null;
  } catch (err) {
    expect((err as { code?: string }).code).toBe('usage');
    return (err as Error).message;
  }
}

describe('request validators from the contract schemas', () => {
  it('has one for every channel of the contract', () => {
    expect(Object.keys(requestValidators(CHANNELS)).sort()).toEqual([...CHANNELS].sort());
  });
  it('refuses what is not an object, naming the channel', () => {
    for (const payload of [null, undefined, 'x', 3, [], [{ fileToken: 't' }]]) expect(refusalOf('file:inspect', payload)).toBe('file:inspect needs an object payload.');
  });
  it('names the field and what it must be, whether it is missing, empty or of another type', () => {
    expect(refusalOf('file:inspect', {})).toBe('file:inspect: "fileToken" must be a string.');
    expect(refusalOf('file:inspect', { fileToken: '' })).toBe('file:inspect: "fileToken" must be a string.');
    expect(refusalOf('file:inspect', { fileToken: 42 })).toBe('file:inspect: "fileToken" must be a string.');
    expect(refusalOf('store:obs-window', { storeKey: 's', offset: Infinity, limit: 10 })).toBe('store:obs-window: "offset" must be a number.');
    expect(refusalOf('store:obs-window', { storeKey: 's', offset: 0, limit: Number.NaN })).toBe('store:obs-window: "limit" must be a number.');
    expect(refusalOf('store:compact', { storeKey: 's', confirm: 'yes' })).toBe('store:compact: "confirm" must be a boolean.');
    expect(refusalOf('import:start', { fileTokens: ['a', 1], collectionKey: 'c' })).toBe('import:start: "fileTokens" must be a list of strings.');
    expect(refusalOf('space:check', { fileTokens: 'a' })).toBe('space:check: "fileTokens" must be a list of strings.');
    expect(refusalOf('store:summary', { storeKey: 's', version: null })).toBe('store:summary: "version" must be a string.');
    expect(refusalOf('export:start', { storeKey: 's', format: 'xlsx' })).toBe('export:start: "format" must be h5ad, csv or parquet.');
    expect(refusalOf('file:choose', { kind: 'spreadsheet' })).toBe('file:choose: "kind" must be h5ad, table or folder.');
  });
  it('refuses every field the channel does not declare, inherited names included', () => {
    expect(refusalOf('import:start', { fileTokens: ['a'], collectionKey: 'c', path: '/etc/passwd' })).toBe('import:start: unexpected field "path".');
    for (const field of ['constructor', 'toString', '__proto__']) expect(refusalOf('file:inspect', JSON.parse(`{"fileToken":"t","${field}":1}`))).toBe(`file:inspect: unexpected field "${field}".`);
  });
  it('accepts well-formed requests with their optional fields left out', () => {
    expect(requestValidator('store:count')({ storeKey: 's' })).toEqual({ storeKey: 's' });
    expect(requestValidator('import:start')({ fileTokens: [], collectionKey: 'c' })).toEqual({ fileTokens: [], collectionKey: 'c' });
    expect(requestValidator('file:choose')(null)).toBeUndefined();
    expect(requestValidator('file:choose')({ kind: 'table' })).toEqual({ kind: 'table' });
    expect(requestValidator('file:choose')({ kind: 'folder' })).toEqual({ kind: 'folder' });
    // Channels without a request drop whatever came along.
    expect(requestValidator('app:info')({ anything: 1 })).toBeUndefined();
  });
  it('checks the preload-only drop:register like the page channels', () => {
    expect(requestValidator('drop:register')({ path: '' })).toEqual({ path: '' });
    expect(refusalOf('drop:register', '/tmp/a.h5ad')).toBe('drop:register needs an object payload.');
    expect(refusalOf('drop:register', { path: 1 })).toBe('drop:register: "path" must be a path.');
  });
});
