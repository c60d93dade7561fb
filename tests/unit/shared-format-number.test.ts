// The one number formatter: counts, binary sizes and durations as every screen and the CLI write them.
import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatDecimal, formatDuration, formatElapsed } from '../../src/shared/format-number';

describe('formatCount', () => {
  it('groups thousands and shows missing as a dash', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(12345678901234567890n)).toBe('12,345,678,901,234,567,890');
    expect(formatCount(null)).toBe('—');
    expect(formatCount(Number.NaN)).toBe('—');
  });
});

describe('formatBytes', () => {
  it('uses binary units named KiB, MiB, GiB', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(2000)).toBe('2.0 KiB');
    expect(formatBytes(1.5 * 1024 * 1024)).toBe('1.5 MiB');
    expect(formatBytes(150 * 1024 * 1024)).toBe('150 MiB');
    expect(formatBytes(16 * 1024 ** 3)).toBe('16.0 GiB');
    expect(formatBytes(64 * 1024 ** 4)).toBe('64.0 TiB');
    expect(formatBytes(undefined)).toBe('—');
  });

  it('never writes 1024 of a unit: it moves to the next one', () => {
    expect(formatBytes(1024 * 1024 - 1)).toBe('1.0 MiB');
  });
});

describe('formatDuration', () => {
  it('writes milliseconds, seconds, minutes and hours', () => {
    expect(formatDuration(1)).toBe('1 ms');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(1000)).toBe('1 s');
    expect(formatDuration(4240)).toBe('4.2 s');
    expect(formatDuration(120_000)).toBe('120 s');
    expect(formatDuration(185_000)).toBe('3 min 5 s');
    expect(formatDuration(240_000)).toBe('4 min');
    expect(formatDuration(2 * 3600_000 + 4 * 60_000)).toBe('2 h 4 min');
    expect(formatDuration(-5)).toBe('—');
  });

  it('measures between two ISO instants', () => {
    expect(formatElapsed('2026-01-01T00:00:00.000Z', '2026-01-01T00:00:12.400Z')).toBe('12 s');
    expect(formatElapsed('2026-01-01T00:00:00.000Z', 'not a date')).toBe('—');
  });
});

describe('formatDecimal', () => {
  it('keeps integers whole and trims others to six significant digits', () => {
    expect(formatDecimal(42)).toBe('42');
    expect(formatDecimal(0.1 + 0.2)).toBe('0.3');
    expect(formatDecimal(123.456789)).toBe('123.457');
    expect(formatDecimal(Number.NaN)).toBe('NaN');
  });
});
