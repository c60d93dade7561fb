// Used only when Cellar runs from source (tests, bench): lets a worker thread load
// TypeScript, then imports the thread entry named by the last argument (see threads.ts).
import { register } from 'tsx/esm/api';

register();
await import(process.argv[process.argv.length - 1]);
