import { describe, expect, it } from 'vitest';
import { BASE62_ALPHABET, incrementBase62, newArtifactUid, newCollectionUid, newRunUid, newTransformUid, randomBase62 } from '../../src/main/registry/uid';

describe('uids', () => {
  it('artifact uids are a 16-char stem plus the first version suffix', () => {
    const { uid, stem, versionSuffix } = newArtifactUid();
    expect(uid).toMatch(/^[0-9A-Za-z]{16}0000$/);
    expect(uid.slice(0, 16)).toBe(stem);
    expect(versionSuffix).toBe('0000');
  });

  it('collections and runs have 20 chars, transforms 16', () => {
    expect(newCollectionUid()).toMatch(/^[0-9A-Za-z]{16}0000$/);
    expect(newRunUid()).toMatch(/^[0-9A-Za-z]{20}$/);
    expect(newTransformUid()).toMatch(/^[0-9A-Za-z]{12}0000$/);
  });

  it('version suffixes count up in base62 with carries', () => {
    expect(incrementBase62('0000')).toBe('0001');
    expect(incrementBase62('0009')).toBe('000A');
    expect(incrementBase62('000Z')).toBe('000a');
    expect(incrementBase62('000z')).toBe('0010');
    expect(incrementBase62('0zzz')).toBe('1000');
    expect(() => incrementBase62('zzzz')).toThrow(/no successor/);
  });

  it('random characters cover the whole alphabet', () => {
    const seen = new Set(randomBase62(20_000));
    expect(seen.size).toBe(BASE62_ALPHABET.length);
  });
});
