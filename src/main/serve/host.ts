// Which address `cellar serve` may listen on, decided without asking DNS: a name such as
// 127.0.0.1.evil.example resolves wherever its owner wants, so only literals count.
import { isIPv4, isIPv6 } from 'node:net';

export interface ServeHost {
  /** The address handed to listen(): always a literal IP unless remote access was asked for. */
  bind: string;
  loopback: boolean;
}

/**
 * `localhost` means 127.0.0.1 (looked up by no resolver); IPv4 literals in 127.0.0.0/8 and
 * `::1` are loopback. Anything else needs `allowRemote`, and is then bound as given.
 */
export function resolveServeHost(requested: string, allowRemote: boolean): ServeHost {
  const host = requested.trim().replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost') return { bind: '127.0.0.1', loopback: true };
  if (isIPv4(host) && host.split('.')[0] === '127') return { bind: host, loopback: true };
  if (isIPv6(host) && isIPv6Loopback(host)) return { bind: '::1', loopback: true };
  if (!allowRemote) {
    throw new RangeError(`cellar serve listens on loopback only (127.0.0.1, ::1 or localhost), not ${requested}; add --allow-remote to listen on another address.`);
  }
  if (!host) throw new RangeError('--host must not be empty.');
  return { bind: host, loopback: false };
}

function isIPv6Loopback(host: string): boolean {
  const groups = host.split('::');
  if (groups.length > 2) return false;
  const head = groups[0] ? groups[0].split(':') : [];
  const tail = groups.length === 2 && groups[1] ? groups[1].split(':') : [];
  const all = groups.length === 2 ? [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
  return all.length === 8 && all.slice(0, 7).every((g) => Number.parseInt(g, 16) === 0) && Number.parseInt(all[7]!, 16) === 1;
}

/** `1048576`, `512M`, `2G`, `1.5GiB` → bytes; null when the text is not a size. */
export function parseByteSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) return null;
  const power = ' kmgt'.indexOf(m[2]!.toLowerCase() || ' ');
  const bytes = Math.floor(Number(m[1]) * 1024 ** power);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
}
