// Vitest global setup: the tests run what users run, the built app and CLI (out/), so the
// build is brought up to date once before any test file starts (a no-op when nothing changed).
import { buildIfStale } from '../scripts/build.mjs';

export default function setup(): void {
  buildIfStale();
}
