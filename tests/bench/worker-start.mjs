// How long a job's worker takes to be ready (E3 "worker" rows, docs/benchmarks.md): the built task
// worker (out/main/task-worker.js, as the CLI and the app start it), started again and again in one
// process, as the service does for each job.
//
//   node tests/bench/worker-start.mjs RUNS FILE.h5ad
//
// Per start: "online" (the thread runs), "ready" (the entry and its modules are loaded and it
// answers: asked for a task that does not exist, it replies with the error; a thread that never
// answers fails the row after 60 s instead of hanging the bench) and "inspect" (the
// whole inspectFile task on FILE: ready + h5wasm and its plugins initialised + the read). The
// first start of each kind is a warm-up (file cache) and is not counted. Prints one JSON line.
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';

const [runsText, file] = process.argv.slice(2);
const runs = Number(runsText);
const entry = new URL('../../out/main/task-worker.js', import.meta.url);

function start(task, args) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const worker = new Worker(entry, { resourceLimits: { maxOldGenerationSizeMb: 4096 } });
    // Asked for its task as the host asks (engine/threads/worker-call.ts): a 'run' message.
    worker.postMessage({ type: 'run', task, args });
    let online = NaN;
    worker.on('online', () => (online = performance.now() - t0));
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`the task worker did not answer a '${task}' request within 60 s`));
    }, 60_000);
    worker.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    worker.on('message', (msg) => {
      if (msg.type === 'progress') return;
      const done = performance.now() - t0;
      clearTimeout(timer);
      void worker.terminate().then(() => resolve({ online, done, type: msg.type }));
    });
  });
}

const out = { online: [], ready: [], inspect: [] };
for (let i = 0; i <= runs; i++) {
  const bare = await start('(none)', []);
  const inspect = await start('inspectFile', [file]);
  if (inspect.type !== 'result') throw new Error(`inspectFile of ${file} failed`);
  if (i === 0) continue;
  out.online.push(bare.online / 1000);
  out.ready.push(bare.done / 1000);
  out.inspect.push(inspect.done / 1000);
}
console.log(JSON.stringify(out));
