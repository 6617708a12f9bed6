// Instructions per request, counted by valgrind's callgrind. CPU time of two identical servers
// differs by ±4 % per round on these machines and hardware counters are not available; callgrind
// counts the instructions the server executes: for a server without time-driven work (no Sentry),
// the same count for the same code and load whatever else the machine does. It weighs every
// instruction alike (a cache miss costs nothing), so it complements the timings rather than
// replacing them.
//
// What is counted is the steady state: the server runs under valgrind with instrumentation off
// (`--instr-atstart=no`, ~5× slower rather than ~50×) through a long warm-up, past V8's
// compilation waves; instrumentation is switched on while the server is idle, then windows of
// requests are counted one by one. Windows that agree show the count is past the JIT; the
// compile and warm-up cost is a separate, optional figure (`compile`).
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { requestMix } from './load.mjs';
import { median } from './stats.mjs';

/**
 * What makes a count repeat. V8's heap grows, and collects, by how fast the program ran in wall
 * time: under callgrind, with other work on the machine, that changed the count by a third; a
 * fixed schedule makes it repeat. Compilation, OSR and scavenges on other threads would finish at
 * times that depend on the scheduler; fixed seeds make hash tables and `Math.random` the same in
 * every run.
 */
export const INSTRUCTION_FLAGS = [
  '--predictable-gc-schedule',
  '--no-concurrent-recompilation',
  '--no-concurrent-sparkplug',
  '--no-concurrent-osr',
  '--no-parallel-scavenge',
  '--hash-seed=1',
  '--random-seed=1',
];

/** Whether valgrind (with callgrind_control) is installed. */
export function callgrindAvailable() {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The command prefix that runs a server under callgrind, its profile files under `dir`, with
 * instrumentation off until `countInstructions()` switches it on.
 */
export function callgrindWrap(dir) {
  mkdirSync(dir, { recursive: true });
  // `--callgrind-out-file` with %p: one file per process, parts (.1, .2…) per dump.
  return [
    'valgrind',
    '--tool=callgrind',
    '--instr-atstart=no',
    `--callgrind-out-file=${join(dir, 'callgrind.%p')}`,
    // Diagnostics only (e.g. `--separate-callers=3` to see which code calls a runtime function).
    ...(process.env.BENCH_CALLGRIND_ARGS?.split(/\s+/).filter(Boolean) ?? []),
  ];
}

/**
 * Counts the instructions `server` (started with `callgrindWrap(dir)`) executes per request in
 * steady state: `warmup` requests with instrumentation off, then, with the server idle,
 * instrumentation on and `windows` windows of `requests` requests, each counted alone (zeroed
 * before, dumped after). One kept-alive connection, one request at a time: how many requests a
 * server finds waiting changes its per-request work, and V8's and Node's queues stay the same.
 * With `compile`, the warm-up is counted too (instrumentation on from its first request): the
 * JIT's and the first requests' cost, a figure for short-lived processes. With `keep`, the dumps
 * stay in `dir` (for callgrind_annotate) as `<label>.<window>.out`.
 *
 * Resolves with `{ instructions, windows, requests, compile? }` (instructions per request: the
 * median of the windows).
 */
export async function countInstructions(
  server,
  dir,
  { warmup, windows, requests, mix, compile = false, keep },
) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sequence = requestMix(mix);
  const { port } = new URL(server.url);
  const pid = String(server.pid);
  const control = (...args) =>
    execFileSync('callgrind_control', [...args, pid], { stdio: 'ignore' });
  let sent = 0;
  let failed = 0;
  const send = ({ path, headers }) =>
    new Promise((resolve) => {
      const request = http.get({ host: '127.0.0.1', port, path, headers, agent }, (response) => {
        if (response.statusCode !== 200) failed++;
        response.resume();
        response.on('end', resolve);
      });
      request.on('error', () => {
        failed++;
        resolve();
      });
    });
  const sendMany = async (amount) => {
    for (let i = 0; i < amount; i++) await send(sequence[sent++ % sequence.length]);
  };
  const dumpedPerRequest = (label, amount) => {
    control('--dump');
    return readDumpedTotal(dir, server.pid, keep && `${keep}.${label}`) / amount;
  };

  const result = { windows: [], requests };
  try {
    if (compile) {
      control('--instr=on');
      control('--zero');
    }
    await sendMany(warmup);
    if (compile) result.compile = dumpedPerRequest('warmup', warmup);
    else control('--instr=on');
    for (let window = 1; window <= windows; window++) {
      control('--zero');
      await sendMany(requests);
      result.windows.push(dumpedPerRequest(window, requests));
    }
  } finally {
    agent.destroy();
  }
  if (failed > 0) throw new Error(`${failed} requests failed`);
  result.instructions = median(result.windows);
  return result;
}

/**
 * Sum of the `totals:` of the dumps of process `pid` so far (one per thread); removes the files,
 * or renames them `<keep>.<n>.out` when `keep` is given.
 */
function readDumpedTotal(dir, pid, keep) {
  const parts = readdirSync(dir).filter((name) => name.startsWith(`callgrind.${pid}.`));
  if (parts.length === 0) throw new Error(`callgrind wrote no dump for ${pid} in ${dir}`);
  let total = 0;
  parts.forEach((name, i) => {
    const text = readFileSync(join(dir, name), 'utf8');
    const match = /^(?:totals|summary): (\d+)/m.exec(text);
    if (!match) throw new Error(`no totals in ${name}`);
    total += Number(match[1]);
    if (keep) renameSync(join(dir, name), join(dir, `${keep}.${i}.out`));
  });
  for (const name of readdirSync(dir)) {
    if (name.startsWith(`callgrind.${pid}.`)) rmSync(join(dir, name));
  }
  return total;
}
