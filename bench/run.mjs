// Benchmark harness of nestjs-transaction-id: what the module costs per request, against the same
// app without it, a hand-written middleware and nestjs-cls; on Express and Fastify; with and
// without Sentry. See bench/README.md.
//
//   npm run bench [-- options]        full run (timing rounds, memory check, micro benchmark)
//   npm run bench:smoke               a short run for CI: correctness checks count, timings don't
//
// Progress goes to stderr; the markdown report to stdout; raw runs to bench/results/<stamp>.json.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkServer } from './lib/check.mjs';
import { pruneSnapshots, snapshotDist } from './lib/dist-snapshot.mjs';
import {
  INSTRUCTION_FLAGS,
  callgrindAvailable,
  callgrindWrap,
  countInstructions,
} from './lib/instructions.mjs';
import { sendLoad } from './lib/load.mjs';
import { summarizeProfile } from './lib/profile-summary.mjs';
import {
  backgroundLoad,
  cellsTable,
  compare,
  compareInstructions,
  comparisonsTable,
  instructionsTables,
  memoryTable,
  microTable,
  noiseText,
  summarizeCells,
  verdicts,
} from './lib/report.mjs';
import { startSentrySink } from './lib/sentry-sink.mjs';
import {
  clockTicksPerSecond,
  pinSelf,
  readCpuMicros,
  runNodeScript,
  startDownstream,
  startServer,
} from './lib/server-process.mjs';
import {
  AA_SUFFIX,
  COMPARISONS,
  MEMORY_TARGET,
  MEMORY_VARIANTS,
  VARIANTS,
  twinOf,
} from './lib/variants.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results');

const HELP = `Usage: node bench/run.mjs [options]

  --rounds <n>             interleaved rounds (default 5; smoke 1)
  --requests <n>           timed requests per run (default 30000; smoke 400)
  --warmup-requests <n>    requests before timing, per run (default 8000; side-by-side 2000;
                           smoke 100)
  --duration <s>           time each run for <s> seconds instead of --requests
  --warmup <s>             with --duration: warm-up seconds (default 3)
  --connections <n>        autocannon connections per server (default 50; side-by-side 10; smoke 10)
  --mode interleaved|side-by-side
                           interleaved (default): one server at a time, rounds A B C … A B C …;
                           side-by-side: each round starts the variants of one group (sentry,
                           plain, outgoing) of one adapter, warms each up with --warmup-requests,
                           then times them at the same time (--duration, default 10 s), so that
                           background load from other processes hits all of them alike
  --mix half|with|without  requests with a valid ID, without, or alternating (default half)
  --only <names>           comma-separated variants (see bench/README.md); default all but
                           the diagnostics marked explicit (errors-only+fork)
  --adapters <names>       express,fastify (default both)
  --aa <variant|none>      run a second copy of <variant> for A/A noise (default sentry;
                           bare when --parts is instructions alone)
  --pin                    servers on CPU 1, this load generator (and downstream) on CPU 0
  --parts <list>           timing,memory,micro (default all three), instructions (callgrind
                           instruction counts per request in steady state: repeatable without
                           Sentry, where timings are noisy; slow, needs valgrind)
  --instruction-warmup <n> requests before counting, instrumentation off (default 30000: past
                           V8's compilation waves)
  --instruction-windows <n>
                           windows counted one by one after the warm-up (default 5)
  --instruction-requests <n>
                           requests per window (default 1600)
  --instruction-compile    also count the warm-up itself (compilation and first requests: what
                           a short-lived process pays; slower, the warm-up runs instrumented)
  --instruction-keep       keep the callgrind dumps of the windows in bench/results/callgrind/
                           (for callgrind_annotate and per-function diffs)
  --memory-requests <n>    requests of the memory check (default 200000; smoke 2000)
  --memory-variants <list> variants of the memory check (default ${MEMORY_VARIANTS.join(',')})
  --micro-time <ms>        tinybench time per task (default 500; smoke 20)
  --profile <list>         adapter:variant,… : CPU-profile these (and their baseline) instead
  --node-flags=<flags>     extra flags for every server's node, space-separated (e.g.
                           --node-flags="--min-semi-space-size=16 --max-semi-space-size=16")
  --smoke                  small and fast; checks decide the exit code, timings are not judged
  --out <file>             JSON output (default bench/results/<stamp>.json)
`;

const { values: argv } = parseArgs({
  options: {
    rounds: { type: 'string' },
    requests: { type: 'string' },
    'warmup-requests': { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    mode: { type: 'string' },
    mix: { type: 'string' },
    only: { type: 'string' },
    adapters: { type: 'string' },
    aa: { type: 'string' },
    pin: { type: 'boolean', default: false },
    parts: { type: 'string' },
    'memory-requests': { type: 'string' },
    'memory-variants': { type: 'string' },
    'instruction-requests': { type: 'string' },
    'instruction-warmup': { type: 'string' },
    'instruction-windows': { type: 'string' },
    'instruction-compile': { type: 'boolean', default: false },
    'instruction-keep': { type: 'boolean', default: false },
    'micro-time': { type: 'string' },
    profile: { type: 'string' },
    'node-flags': { type: 'string' },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (argv.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const smoke = argv.smoke;
const int = (value, fallback) => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`not a positive number: ${value}`);
  return n;
};
const list = (value) =>
  value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const options = {
  rounds: int(argv.rounds, smoke ? 1 : 5),
  requests: int(argv.requests, smoke ? 400 : 30_000),
  warmupRequests: int(
    argv['warmup-requests'],
    smoke ? 100 : argv.mode === 'side-by-side' ? 2_000 : 8_000,
  ),
  duration: argv.duration === undefined ? undefined : int(argv.duration),
  warmup: int(argv.warmup, 3),
  mode: argv.mode ?? 'interleaved',
  connections: int(argv.connections, smoke ? 10 : argv.mode === 'side-by-side' ? 10 : 50),
  mix: argv.mix ?? 'half',
  adapters: list(argv.adapters) ?? ['express', 'fastify'],
  // Instruction counts alone: the A/A pair that repeats (Sentry's counts do not, see README).
  aa: argv.aa ?? (argv.parts?.trim() === 'instructions' ? 'bare' : 'sentry'),
  pin: argv.pin,
  parts: new Set(list(argv.parts) ?? ['timing', 'memory', 'micro']),
  memoryRequests: int(argv['memory-requests'], smoke ? 2_000 : 200_000),
  memoryVariants: list(argv['memory-variants']) ?? MEMORY_VARIANTS,
  microTime: int(argv['micro-time'], smoke ? 20 : 500),
  instructionRequests: int(argv['instruction-requests'], 1_600),
  instructionWarmup: int(argv['instruction-warmup'], 30_000),
  instructionWindows: int(argv['instruction-windows'], 5),
  instructionCompile: argv['instruction-compile'],
  instructionKeep: argv['instruction-keep'],
  profile: list(argv.profile),
  nodeFlags: argv['node-flags']?.split(/\s+/).filter(Boolean) ?? [],
  smoke,
  // Smoke runs several servers at once: its timings mean nothing anyway.
  parallel: smoke ? 3 : 1,
};
if (!['half', 'with', 'without'].includes(options.mix)) throw new Error(`bad --mix ${options.mix}`);
if (!['interleaved', 'side-by-side'].includes(options.mode))
  throw new Error(`bad --mode ${options.mode}`);
if (options.mode === 'side-by-side') options.duration ??= 10;
for (const adapter of options.adapters) {
  if (adapter !== 'express' && adapter !== 'fastify') throw new Error(`bad adapter ${adapter}`);
}

const byName = new Map(VARIANTS.map((v) => [v.name, v]));
const only = list(argv.only);
for (const name of [...(only ?? []), ...options.memoryVariants]) {
  if (!byName.has(name))
    throw new Error(`unknown variant ${name}; known: ${[...byName.keys()].join(', ')}`);
}
let selected = only
  ? VARIANTS.filter((v) => only.includes(v.name))
  : VARIANTS.filter((v) => !v.explicit);
if (options.aa !== 'none') {
  const original = byName.get(options.aa);
  if (!original) throw new Error(`unknown --aa variant ${options.aa}`);
  if (!selected.includes(original)) selected.push(original);
  const index = selected.indexOf(original);
  selected.splice(index + 1, 0, twinOf(original));
}

const started = new Date();
const stamp = started.toISOString().replace(/[:.]/g, '-');
const log = (message) =>
  process.stderr.write(
    `[bench ${((Date.now() - started.getTime()) / 1000).toFixed(0).padStart(4)}s] ${message}\n`,
  );

// ---------------------------------------------------------------------------------------------

function versionOf(name) {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'))
      .version;
  } catch {
    return undefined;
  }
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model,
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    // The runner starts every server with the node it runs on: say which one.
    nodePath: process.execPath,
    versions: Object.fromEntries(
      [
        '@nestjs/core',
        '@nestjs/platform-express',
        '@nestjs/platform-fastify',
        'express',
        'fastify',
        '@sentry/node',
        'nestjs-cls',
        '@nestjs/axios',
        'axios',
        'autocannon',
        'tinybench',
      ].map((n) => [n, versionOf(n)]),
    ),
  };
}

/** Busy ticks of the whole machine so far (all CPUs), from /proc/stat. */
function machineBusyMicros() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return ((user + nice + system + irq + softirq + steal) * 1e6) / clockTicksPerSecond();
}

function selfCpuMicros() {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** Runs `tasks` (functions returning promises) at most `limit` at a time, in order. */
async function pool(tasks, limit) {
  const results = Array.from({ length: tasks.length });
  let next = 0;
  async function worker() {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]();
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

// ---------------------------------------------------------------------------------------------

const env = { sink: undefined, downstream: undefined, dist: undefined, serverCpu: undefined };

function serverSpec(adapter, variant, nodeFlags = []) {
  return {
    server: variant.server,
    adapter,
    sentry: variant.sentry,
    sentryDsn: env.sink?.dsn,
    downstreamUrl: env.downstream?.url,
    dist: env.dist.dir,
    cpu: env.serverCpu,
    nodeFlags: [...options.nodeFlags, ...nodeFlags],
  };
}

/** Starts a fresh server for a cell and checks it; `server` is undefined when either failed. */
async function startChecked({ adapter, variant }, round, nodeFlags) {
  const record = { round, adapter, variant: variant.name, timed: false };
  let server;
  try {
    server = await startServer(serverSpec(adapter, variant, nodeFlags));
    record.check = await checkServer(server.url, variant);
    if (!record.check.ok) {
      record.error = `correctness check failed: ${record.check.failures.join('; ')}`;
      await server.stop();
      server = undefined;
    }
  } catch (error) {
    record.error = String(error?.message ?? error).slice(0, 2000);
    await server?.stop();
    server = undefined;
  }
  return { record, server };
}

/**
 * Warms up, then times, the servers of `entries` (`{ record, server }`) all at once: one in the
 * interleaved mode, every variant of an adapter side by side in the side-by-side mode. Fills the
 * records in.
 */
async function measure(entries, connections, { onWindow } = {}) {
  const base = (server) => ({ url: server.url, connections, mix: options.mix });
  const sideBySide = entries.length > 1;
  // Side by side, every server gets its warm-up requests (JIT state must not depend on how
  // fast a variant is); alone, with --duration, warm-up is timed too.
  await Promise.all(
    entries.map(({ server }) =>
      sendLoad(
        options.duration && !sideBySide
          ? { ...base(server), duration: options.warmup }
          : { ...base(server), amount: options.warmupRequests },
      ),
    ),
  );

  const machineSnapshot = () => ({
    at: process.hrtime.bigint(),
    machine: machineBusyMicros(),
    self: selfCpuMicros(),
    downstream: env.downstream ? readCpuMicros(env.downstream.pid) : 0,
  });
  const serverSnapshot = (server) => ({
    at: process.hrtime.bigint(),
    cpu: server.cpuMicros(),
    stat: server.statCpuMicros(),
    user: server.userCpuMicros(),
  });
  const gcBefore = await Promise.all(entries.map(({ server }) => server.gcStats()));
  const machineBefore = machineSnapshot();
  const results = await Promise.all(
    entries.map(async ({ server }) => {
      const before = serverSnapshot(server);
      let after;
      const load = await sendLoad(
        options.duration || sideBySide
          ? { ...base(server), duration: options.duration ?? 10, timings: true }
          : {
              ...base(server),
              amount: options.requests,
              timings: true,
              onLast: () => (after = serverSnapshot(server)),
            },
      );
      after ??= serverSnapshot(server);
      return { before, after, load };
    }),
  );
  const machineAfter = machineSnapshot();
  const gcAfter = await Promise.all(entries.map(({ server }) => server.gcStats()));
  const seconds = Number(machineAfter.at - machineBefore.at) / 1e9;
  const serversMicros = results.reduce((sum, r) => sum + (r.after.cpu - r.before.cpu), 0);
  const otherMicros =
    machineAfter.machine -
    machineBefore.machine -
    serversMicros -
    (machineAfter.self - machineBefore.self) -
    (machineAfter.downstream - machineBefore.downstream);
  if (!sideBySide) onWindow?.(results[0].before.at / 1000n, results[0].after.at / 1000n);

  entries.forEach(({ record, server }, i) => {
    const { before, after, load } = results[i];
    Object.assign(record, {
      requests: load.completed,
      seconds: load.elapsedSeconds,
      reqPerSec: load.reqPerSec,
      cpuUsPerReq: (after.cpu - before.cpu) / load.completed,
      // The same from utime + stime of /proc/<pid>/stat (10 ms ticks), as a cross-check.
      statCpuUsPerReq: (after.stat - before.stat) / load.completed,
      // User time alone: what the server's code costs, without the loopback wake-ups (README).
      userUsPerReq: (after.user - before.user) / load.completed,
      // Garbage: how often the young generation filled up (a repeatable measure of what a
      // request allocates), and the pauses of all collections.
      scavengesPerKReq: ((gcAfter[i].minor - gcBefore[i].minor) * 1000) / load.completed,
      majorGcs: gcAfter[i].major - gcBefore[i].major,
      gcUsPerReq:
        ((gcAfter[i].minorMs + gcAfter[i].majorMs - gcBefore[i].minorMs - gcBefore[i].majorMs) *
          1000) /
        load.completed,
      latency: load.latency,
      peakRss: server.peakRss(),
      errors: load.errors,
      non2xx: load.non2xx,
      timeouts: load.timeouts,
      // Share of the machine's CPUs used by other processes meanwhile (other helpers' tests…).
      otherLoad: Math.max(0, otherMicros / (seconds * 1e6 * os.cpus().length)),
      sideBySide,
    });
    if (load.errors > 0 || load.non2xx > 0 || load.timeouts > 0) {
      record.error = `load saw ${load.errors} errors, ${load.non2xx} non-2xx, ${load.timeouts} timeouts`;
    } else {
      record.timed = true;
    }
  });
}

/** Interleaved mode: one fresh server, checked, warmed up and timed alone. */
async function runCell(cell, round, { nodeFlags, onWindow } = {}) {
  const { record, server } = await startChecked(cell, round, nodeFlags);
  if (!server) return record;
  try {
    await measure([{ record, server }], options.connections, { onWindow });
  } catch (error) {
    record.error = String(error?.message ?? error).slice(0, 2000);
  } finally {
    await server.stop();
  }
  return record;
}

/** Side-by-side mode: fresh servers for all `cells`, timed at the same time. */
async function runSideBySide(cells, round) {
  const entries = await pool(
    cells.map((cell) => () => startChecked(cell, round)),
    3,
  );
  const live = entries.filter((e) => e.server);
  try {
    if (live.length > 0) await measure(live, options.connections);
  } catch (error) {
    for (const e of live) e.record.error = String(error?.message ?? error).slice(0, 2000);
  } finally {
    await Promise.all(live.map((e) => e.server.stop()));
  }
  return entries.map((e) => e.record);
}

async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

/** Memory check of one variant: heap (after GC) after the first tenth of the requests, and at the end. */
async function runMemory(adapter, variant) {
  const record = { adapter, variant: variant.name, requests: options.memoryRequests };
  let server;
  try {
    server = await startServer(serverSpec(adapter, variant, ['--expose-gc']));
    const check = await checkServer(server.url, variant);
    if (!check.ok) throw new Error(`correctness check failed: ${check.failures.join('; ')}`);
    const first = Math.round(options.memoryRequests / 10);
    const base = { url: server.url, connections: options.connections, mix: options.mix };
    await sendLoad({ ...base, amount: first });
    record.first = await getJson(`${server.url}/__heap`);
    const rest = await sendLoad({ ...base, amount: options.memoryRequests - first });
    if (rest.errors > 0 || rest.non2xx > 0)
      throw new Error(`load saw ${rest.errors} errors, ${rest.non2xx} non-2xx`);
    record.last = await getJson(`${server.url}/__heap`);
    if (!record.first.gc) throw new Error('server ran without --expose-gc');
    record.growth = record.last.heapUsed / record.first.heapUsed - 1;
  } catch (error) {
    record.error = String(error?.message ?? error).slice(0, 2000);
  } finally {
    await server?.stop();
  }
  return record;
}

async function runMicro() {
  const args = [
    join(ROOT, 'bench', 'micro.mjs'),
    '--json',
    '--time',
    String(options.microTime),
    '--dist',
    env.dist.dir,
  ];
  const out = await runNodeScript(args, { cpu: env.serverCpu, name: 'micro benchmark' });
  return JSON.parse(out);
}

/**
 * Instructions per request of every cell, each server run under callgrind after a correctness
 * check; two at a time (without Sentry, counts do not depend on what else runs; with it they are
 * rough anyway: its timers run by the clock).
 */
async function runInstructions(cells) {
  if (!callgrindAvailable()) throw new Error('--parts instructions needs valgrind (callgrind)');
  const dir = join(RESULTS, 'callgrind', stamp);
  const wrap = callgrindWrap(dir);
  log(`instruction counts under callgrind: ${cells.length} servers, two at a time …`);
  return pool(
    cells.map(({ adapter, variant }) => async () => {
      const record = { adapter, variant: variant.name };
      let server;
      try {
        // Not pinned: two servers share the CPUs.
        server = await startServer({
          ...serverSpec(adapter, variant, INSTRUCTION_FLAGS),
          cpu: undefined,
          wrap,
          timeoutMs: 20 * 60_000,
        });
        record.check = await checkServer(server.url, variant, { timeoutMs: 10 * 60_000 });
        if (!record.check.ok)
          throw new Error(`correctness check failed: ${record.check.failures.join('; ')}`);
        Object.assign(
          record,
          await countInstructions(server, dir, {
            warmup: options.instructionWarmup,
            windows: options.instructionWindows,
            requests: options.instructionRequests,
            mix: options.mix,
            compile: options.instructionCompile,
            keep: options.instructionKeep
              ? `${adapter}-${variant.name.replace(/[^a-z0-9-]+/gi, '_')}`
              : undefined,
          }),
        );
        const k = (x) => (x / 1000).toFixed(1);
        log(
          `instructions ${adapter}:${variant.name}: ${k(record.instructions)} k/req ` +
            `(windows ${record.windows.map(k).join(' ')}` +
            `${record.compile === undefined ? '' : `; warm-up ${k(record.compile)}`})`,
        );
      } catch (error) {
        record.error = String(error?.message ?? error).slice(0, 2000);
        log(`instructions ${adapter}:${variant.name}: FAILED ${record.error}`);
      } finally {
        await server?.stop();
      }
      return record;
    }),
    2,
  );
}

/** CPU-profiles one variant under the timed load; resolves with its summary per request. */
async function runProfile(adapter, variant) {
  const dir = join(
    RESULTS,
    'profiles',
    `${stamp}-${adapter}-${variant.name.replace(/[^a-z0-9-]+/gi, '_')}`,
  );
  mkdirSync(dir, { recursive: true });
  let window;
  const record = await runCell({ adapter, variant }, 1, {
    nodeFlags: ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '250'],
    onWindow: (from, to) => (window = { fromUs: Number(from), toUs: Number(to) }),
  });
  if (!record.timed) throw new Error(`${adapter}:${variant.name}: ${record.error}`);
  // One profile per thread: CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is main.
  const file = readdirSync(dir).find((name) => /\.\d+\.0\.\d+\.cpuprofile$/.test(name));
  if (!file) throw new Error(`no .cpuprofile of the main thread written in ${dir}`);
  writeFileSync(join(dir, 'window.json'), JSON.stringify({ ...window, requests: record.requests }));
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const inside = window && window.fromUs >= profile.startTime && window.toUs <= profile.endTime;
  if (!inside) log('profile clock does not match the load window: summarising the whole profile');
  const summary = summarizeProfile(profile, inside ? window : {});
  return { record, file: join(dir, file), summary, requests: record.requests };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const report = {
    started: started.toISOString(),
    command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    options: { ...options, parts: [...options.parts] },
    machine: machine(),
  };
  log(`node ${process.version} (${process.execPath}) runs the servers`);
  log(`snapshot of dist/ …`);
  env.dist = await snapshotDist(ROOT, log);
  pruneSnapshots(ROOT, env.dist.dir);
  report.dist = env.dist.hash;
  log(`measuring build ${env.dist.hash}`);

  if (options.pin) {
    if (os.cpus().length < 2) {
      log('--pin needs 2 CPUs: not pinning');
    } else if (pinSelf(0)) {
      env.serverCpu = 1;
      log('pinned: load generator on CPU 0, servers on CPU 1');
    } else {
      log('taskset failed: not pinning');
    }
  }
  report.pinned = env.serverCpu !== undefined;
  report.loadAverageBefore = os.loadavg();

  const profiled = options.profile?.map((spec) => {
    const colon = spec.indexOf(':');
    const [adapter, name] = [spec.slice(0, colon), spec.slice(colon + 1)];
    if (!byName.has(name) || !['express', 'fastify'].includes(adapter))
      throw new Error(`bad --profile ${spec}`);
    return { adapter, variant: byName.get(name) };
  });
  const needed = profiled
    ? profiled.flatMap(({ adapter, variant }) => {
        const baseline = COMPARISONS.find(
          (c) => c.variant === variant.name && c.target !== undefined,
        )?.baseline;
        return [
          { adapter, variant },
          ...(baseline ? [{ adapter, variant: byName.get(baseline) }] : []),
        ];
      })
    : options.parts.has('timing') || options.parts.has('instructions')
      ? selected.flatMap((variant) => options.adapters.map((adapter) => ({ adapter, variant })))
      : [];
  const memoryCells =
    options.parts.has('memory') && !profiled
      ? options.memoryVariants.flatMap((name) =>
          options.adapters.map((adapter) => ({ adapter, variant: byName.get(name) })),
        )
      : [];
  const all = [...needed, ...memoryCells].map((c) => c.variant);
  if (all.some((v) => v.sentry !== 'none')) env.sink = await startSentrySink();
  if (all.some((v) => v.downstream)) {
    env.downstream = await startDownstream();
    log(`downstream server on ${env.downstream.url}`);
  }

  let exitCode = 0;
  const smokeResults = [];
  try {
    if (profiled) {
      report.profiles = [];
      for (const cell of needed) {
        log(`profiling ${cell.adapter}:${cell.variant.name} …`);
        const result = await runProfile(cell.adapter, cell.variant);
        report.profiles.push({
          adapter: cell.adapter,
          variant: cell.variant.name,
          file: result.file,
          requests: result.requests,
          summary: result.summary,
          cpuUsPerReq: result.record.cpuUsPerReq,
        });
      }
      printProfiles(report.profiles);
      return;
    }

    // Timing: rounds of every cell, each on a fresh server (see --mode).
    const cells = [];
    for (const adapter of options.adapters)
      for (const variant of selected) cells.push({ adapter, variant });
    report.runs = [];
    if (options.parts.has('timing')) {
      const logRecord = (record) => {
        const what = `round ${record.round}/${options.rounds} ${record.adapter}:${record.variant}`;
        if (record.timed) {
          log(
            `${what}: ${record.reqPerSec.toFixed(0)} req/s, ${record.cpuUsPerReq.toFixed(1)} µs/req, p99 ${record.latency.p99.toFixed(2)} ms, others ${(record.otherLoad * 100).toFixed(0)} %`,
          );
        } else {
          log(`${what}: FAILED ${record.error}`);
        }
      };
      const stride = Math.max(1, Math.ceil(cells.length / options.rounds));
      for (let round = 1; round <= options.rounds; round++) {
        if (options.mode === 'side-by-side') {
          // Groups of one adapter at a time; the order alternates between rounds.
          const groups = [];
          for (const adapter of options.adapters) {
            for (const group of new Set(selected.map((v) => v.group))) {
              groups.push(cells.filter((c) => c.adapter === adapter && c.variant.group === group));
            }
          }
          for (const group of round % 2 === 1 ? groups : groups.toReversed()) {
            const records = await runSideBySide(group, round);
            report.runs.push(...records);
            records.forEach(logRecord);
          }
          continue;
        }
        // Each round starts elsewhere in the cycle, so no variant always runs first.
        const shift = ((round - 1) * stride) % cells.length;
        const order = [...cells.slice(shift), ...cells.slice(0, shift)];
        const tasks = order.map((cell) => async () => {
          const record = await runCell(cell, round);
          report.runs.push(record);
          logRecord(record);
          return record;
        });
        await pool(tasks, options.parallel);
      }
      for (const cell of cells) {
        const ok = report.runs
          .filter((r) => r.adapter === cell.adapter && r.variant === cell.variant.name)
          .every((r) => r.check?.ok);
        smokeResults.push({ name: `check ${cell.adapter}:${cell.variant.name}`, ok });
      }
    }

    if (options.parts.has('instructions')) {
      report.instructions = await runInstructions(cells);
      for (const r of report.instructions)
        smokeResults.push({ name: `instructions ${r.adapter}:${r.variant}`, ok: !r.error });
    }

    if (memoryCells.length > 0) {
      log(`memory check: ${options.memoryRequests} requests per server …`);
      report.memory = await pool(
        memoryCells.map(({ adapter, variant }) => async () => {
          const result = await runMemory(adapter, variant);
          log(
            `memory ${adapter}:${variant.name}: ${result.error ? `FAILED ${result.error}` : `${(result.growth * 100).toFixed(1)} %`}`,
          );
          return result;
        }),
        options.parallel,
      );
      for (const m of report.memory)
        smokeResults.push({ name: `memory ${m.adapter}:${m.variant}`, ok: !m.error });
    }

    if (options.parts.has('micro')) {
      log('micro benchmark …');
      try {
        report.micro = await runMicro();
        smokeResults.push({
          name: 'micro benchmark',
          ok: report.micro.every((row) => Number.isFinite(row.nsPerOp)),
        });
      } catch (error) {
        report.microError = String(error.message);
        smokeResults.push({ name: 'micro benchmark', ok: false });
      }
    }

    report.loadAverageAfter = os.loadavg();
    report.finished = new Date().toISOString();
    report.summary = summarizeCells(report.runs, cells);
    report.comparisons = [];
    for (const adapter of options.adapters) {
      const rows = [...COMPARISONS];
      if (options.aa !== 'none')
        rows.unshift({ variant: options.aa + AA_SUFFIX, baseline: options.aa, aa: true });
      for (const comparison of rows) {
        const result = compare(report.runs, adapter, comparison);
        if (result) report.comparisons.push({ ...result, verdicts: verdicts(result, !smoke) });
        const counted =
          report.instructions && compareInstructions(report.instructions, adapter, comparison);
        if (counted) (report.instructionComparisons ??= []).push(counted);
      }
    }

    const file = argv.out ?? join(RESULTS, `${stamp}.json`);
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(file, JSON.stringify(report, null, 1));
    smokeResults.push({ name: 'results written', ok: true });
    log(`raw runs: ${file}`);

    process.stdout.write(renderMarkdown(report) + '\n');
    for (const failed of smokeResults.filter((r) => !r.ok)) {
      process.stderr.write(`FAILED: ${failed.name}\n`);
    }
    const failedChecks = report.runs.filter((r) => r.check && !r.check.ok);
    for (const r of failedChecks)
      process.stderr.write(
        `check failed: ${r.adapter}:${r.variant}: ${r.check.failures.join('; ')}\n`,
      );
    if (smokeResults.some((r) => !r.ok)) exitCode = 1;
  } finally {
    await env.downstream?.stop();
    await env.sink?.close();
  }
  if (smoke) {
    const passed = smokeResults.filter((r) => r.ok).length;
    process.stdout.write(`bench smoke: ${passed} passed, ${smokeResults.length - passed} failed\n`);
  }
  process.exitCode = exitCode;
}

function renderMarkdown(report) {
  const m = report.machine;
  const rounds = options.rounds;
  const load =
    options.mode === 'side-by-side'
      ? `${options.duration} s per run after ${options.warmupRequests} warm-up requests per server`
      : options.duration
        ? `${options.duration} s per run after ${options.warmup} s warm-up`
        : `${options.requests} requests per run after ${options.warmupRequests} warm-up requests`;
  const out = [];
  out.push(
    `## Benchmark ${report.started.slice(0, 19).replace('T', ' ')} UTC${smoke ? ' (smoke: timings not judged)' : ''}`,
  );
  out.push('');
  out.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node} (\`${m.nodePath}\`); Nest ${m.versions['@nestjs/core']}, ` +
      `Express ${m.versions.express}, Fastify ${m.versions.fastify}, @sentry/node ${m.versions['@sentry/node']}, nestjs-cls ${m.versions['nestjs-cls']}. ` +
      `Build ${report.dist}.`,
  );
  if (report.runs.length === 0) {
    out.push(
      `Command: \`${report.command}\`. ${options.connections} connections, request mix "${options.mix}".`,
    );
  } else
    out.push(
      `Command: \`${report.command}\`. ${rounds} round(s), ` +
        (options.mode === 'side-by-side'
          ? `side by side (each round, the variants of a group of one adapter started fresh and timed at the same time), ${options.connections} connections per server, `
          : `interleaved (A B C … A B C …, rotated each round), fresh server per run, ${options.connections} connections, `) +
        `${load}, request mix "${options.mix}", ${report.pinned ? 'pinned (server CPU 1, load CPU 0)' : 'not pinned'}. ` +
        `Background CPU load from other processes during timed runs: median ${((backgroundLoad(report.runs) ?? 0) * 100).toFixed(0)} % of the machine; ` +
        `load average ${report.loadAverageBefore.map((x) => x.toFixed(1)).join(' ')} → ${report.loadAverageAfter.map((x) => x.toFixed(1)).join(' ')}.`,
    );
  if (report.runs.length > 0) {
    out.push('');
    out.push('### Variants (medians over rounds; CPU µs/req with [min–max])');
    out.push('');
    out.push(cellsTable(report.summary));
    out.push('');
    out.push('### Paired ratios (per round, then median [min–max]; > 1 = variant cheaper)');
    out.push('');
    out.push(
      comparisonsTable(
        report.comparisons.filter((c) => !c.aa),
        !smoke,
      ),
    );
    out.push('');
    out.push(
      noiseText(
        report.comparisons.filter((c) => c.aa),
        rounds,
      ),
    );
    out.push(
      '✅ met over the whole range · ➖ median meets it, range crosses it · ❌ median misses it · · no target.',
    );
  }
  if (report.instructions) {
    out.push('');
    out.push(
      `### Instructions per request in steady state (callgrind; median of ${options.instructionWindows} windows of ${options.instructionRequests} requests after ${options.instructionWarmup} warm-up requests, one keep-alive connection; > 1 = variant cheaper)`,
    );
    out.push('');
    out.push(instructionsTables(report.instructions, report.instructionComparisons ?? [], !smoke));
  }
  if (report.memory) {
    out.push('');
    out.push(`### Memory (heap after GC; target: growth within ±${MEMORY_TARGET * 100} %)`);
    out.push('');
    out.push(memoryTable(report.memory, MEMORY_TARGET, !smoke));
  }
  if (report.micro) {
    out.push('');
    out.push('### Micro benchmark (tinybench, per-request steps of the library)');
    out.push('');
    out.push(microTable(report.micro));
  }
  return out.join('\n');
}

function printProfiles(profiles) {
  const out = ['## CPU profiles (µs per request, timed window only)', ''];
  for (let i = 0; i < profiles.length; i++) {
    const p = profiles[i];
    out.push(
      `### ${p.adapter}:${p.variant} — ${p.requests} requests, ${p.cpuUsPerReq.toFixed(1)} µs/req by /proc, profile ${p.file}`,
    );
    out.push('');
    out.push('| Category | µs/req |', '| --- | ---: |');
    for (const [name, ms] of Object.entries(p.summary.byCategory)) {
      if (name === '(idle)') continue;
      out.push(`| ${name} | ${((ms * 1000) / p.requests).toFixed(2)} |`);
    }
    if (p.summary.library.length > 0) {
      out.push(
        '',
        `Library functions, counting the calls they make (total ${((p.summary.libraryMs * 1000) / p.requests).toFixed(2)} µs/req):`,
        '',
      );
      out.push('| Function | µs/req |', '| --- | ---: |');
      for (const { fn, selfMs } of p.summary.library.slice(0, 15))
        out.push(`| ${fn} | ${((selfMs * 1000) / p.requests).toFixed(2)} |`);
    }
    out.push('');
  }
  process.stdout.write(out.join('\n') + '\n');
}

let finished = false;
process.on('beforeExit', () => {
  // An awaited promise that can never settle would otherwise end the run silently, with code 0.
  if (!finished) {
    finished = true;
    process.stderr.write('bench: stopped with work still pending (a bug in the harness)\n');
    if (smoke) process.stdout.write('bench smoke: 0 passed, 1 failed\n');
    process.exitCode = 1;
  }
});

main().then(
  () => (finished = true),
  (error) => {
    finished = true;
    process.stderr.write(`${error?.stack ?? error}\n`);
    if (smoke) process.stdout.write('bench smoke: 0 passed, 1 failed\n');
    process.exitCode = 1;
  },
);
