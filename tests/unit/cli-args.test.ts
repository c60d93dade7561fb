import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError, intFlag, type CommandSpec } from '../../src/main/cli/args';
import { resolveHome, defaultHome } from '../../src/main/shell/home';

const spec: CommandSpec = {
  name: 'demo',
  summary: 'demo',
  usage: 'cellar demo FILE [--n N]',
  flags: { n: { type: 'string', description: 'n' }, dry: { type: 'boolean', description: 'dry' }, from: { type: 'multi', description: 'from' } },
  positionals: [1, 2],
};

describe('CLI argument parsing', () => {
  it('reads flags in both forms, booleans and repeated flags', () => {
    const a = parseArgs(spec, ['f.h5ad', '--n', '5', '--dry', '--from=a', '--from', 'b', '--json']);
    expect(a.positionals).toEqual(['f.h5ad']);
    expect(a.flags).toEqual({ n: '5', dry: true, from: ['a', 'b'], json: true });
    expect(intFlag(a, 'n', 1)).toBe(5);
  });
  it('rejects unknown options, missing values and missing arguments as usage errors', () => {
    expect(() => parseArgs(spec, ['f', '--nope'])).toThrow(/Unknown option --nope/);
    expect(() => parseArgs(spec, ['f', '--n'])).toThrow(/--n needs a value/);
    expect(() => parseArgs(spec, [])).toThrow(UsageError);
    expect(() => parseArgs(spec, ['a', 'b', 'c'])).toThrow(/Too many arguments/);
    expect(() => intFlag(parseArgs(spec, ['f', '--n', 'x']), 'n')).toThrow(/must be an integer/);
  });
  it('resolves the home from the flag, then CELLAR_HOME, then the data folder of the OS', () => {
    expect(resolveHome('/tmp/h1', { CELLAR_HOME: '/tmp/h2' })).toBe('/tmp/h1');
    expect(resolveHome(undefined, { CELLAR_HOME: '/tmp/h2' })).toBe('/tmp/h2');
    expect(resolveHome(undefined, { XDG_DATA_HOME: '/d' })).toBe(process.platform === 'linux' ? '/d/Cellar' : defaultHome());
  });
});
