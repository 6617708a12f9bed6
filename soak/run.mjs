// Soak run of nestjs-transaction-id: a gateway → orders pair of real Nest services (plain JS
// importing the BUILT package by name, Sentry on) under sustained load, checked for leaks.
//
//   npm run build && npm run soak          200,000 requests (a few minutes)
//   npm run soak:smoke                     4,000 requests, for CI (< 60 s)
//   node soak/run.mjs --requests 500000 --checkpoint 50000 --concurrency 64
//
// The runner drives the gateway with bounded concurrency and checks every answer (the ID the
// gateway, its context, the orders service and the header it received saw). After `--checkpoint`
// requests, then after each quarter of the rest, it takes a garbage-collected snapshot of both
// services (heap, active resources, listeners, Sentry's default isolation scope) through their
// soak-only endpoint, and compares the last with the first. It counts the Sentry events the local
// sink received for the failing requests (1 in 100), stops both services with SIGTERM, prints the
// figures, one line per check, and `soak: N passed, N failed`; the exit code is the verdict.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HEADER = 'x-transaction-id';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Idle keep-alive connections need a moment to be seen closed by both ends. */
const SETTLE_MS = 1_000;

const { values: argv } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    requests: { type: 'string' },
    checkpoint: { type: 'string' },
    concurrency: { type: 'string' },
    'heap-tolerance': { type: 'string' },
  },
});
const smoke = argv.smoke;
const TOTAL = Number(argv.requests ?? (smoke ? 4_000 : 200_000));
const CHECKPOINT = Number(argv.checkpoint ?? (smoke ? 1_000 : 20_000));
const CONCURRENCY = Number(argv.concurrency ?? 32);
// A short smoke run measures a heap still warming up (JIT code, inline caches): a looser bound.
const HEAP_TOLERANCE = Number(argv['heap-tolerance'] ?? (smoke ? 0.25 : 0.05));
if (!(CHECKPOINT > 0 && TOTAL > CHECKPOINT && CONCURRENCY > 0)) {
  throw new Error('need 0 < --checkpoint < --requests and --concurrency > 0');
}
if (!existsSync(`${ROOT}dist/index.js`)) {
  console.error('soak: dist/ is missing; run `npm run build` first.');
  process.exit(2);
}

const log = (line) => process.stderr.write(`${line}\n`);

/** The expected shape of request `n`: which header it sends, whether orders fails it. */
function plan(n) {
  if (n % 100 === 7) return { kind: 'fail', header: `soak-${n}` };
  if (n % 10 === 3) return { kind: 'none' };
  if (n % 50 === 11) return { kind: 'invalid', header: `bad id ${n}` };
  return { kind: 'valid', header: `soak-${n}` };
}

// --- Sentry sink -------------------------------------------------------------------------------

/** Counts what the SDKs send: envelopes per project, error events per project and tag. */
async function startSink() {
  const sink = { envelopes: 0, events: { 1: [], 2: [] } };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      sink.envelopes++;
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const project = /^\/api\/(\d+)\//.exec(req.url ?? '')?.[1];
      const lines = body.toString('utf8').split('\n');
      for (let i = 1; i + 1 < lines.length; i += 2) {
        if (JSON.parse(lines[i]).type !== 'event') continue;
        sink.events[project]?.push(JSON.parse(lines[i + 1]).tags ?? {});
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.dsn = (project) => `http://public@127.0.0.1:${server.address().port}/${project}`;
  sink.server = server;
  return sink;
}

// --- Services ----------------------------------------------------------------------------------

function startService(name, script, env) {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', `${ROOT}soak/instrument.mjs`, `${ROOT}soak/${script}`],
    {
      env: { ...process.env, PORT: '0', SOAK_DEBUG: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail('no port within 30 s'), 30_000);
    const fail = (reason) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start: ${reason}\n${stdout}\n${stderr}`));
    };
    const onExit = (code, signal) => fail(`exited with ${signal ?? code}`);
    child.once('exit', onExit);
    child.stdout.on('data', () => {
      const match = /^listening (\d+)$/m.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve({ name, child, exited, port: Number(match[1]), stderr: () => stderr });
    });
  });
}

/** One HTTP exchange; resolves with status, headers and parsed JSON body. */
function call(port, method, path, headers = {}, agent = false) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        let body;
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          body = text;
        }
        resolve({ status: res.statusCode, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

// --- Load --------------------------------------------------------------------------------------

const results = { statuses: {}, wrong: 0, errors: 0, samples: [], failingIds: new Set() };
const latencies = new Float64Array(TOTAL);

/** What is wrong with the answer to request `n`, or `undefined`. */
function judge(n, { status, headers, body }) {
  const { kind, header } = plan(n);
  const echoed = headers[HEADER];
  if (kind === 'fail') {
    if (status !== 500) return `status ${status}, expected 500`;
    return echoed === header ? undefined : `echoed ${echoed}, sent ${header}`;
  }
  if (status !== 201) return `status ${status}: ${JSON.stringify(body)}`;
  const expected = kind === 'valid' ? header : echoed;
  if (kind !== 'valid' && !UUID.test(echoed ?? ''))
    return `echoed ${echoed}, expected a fresh UUID`;
  const seen = [
    echoed,
    body?.id,
    body?.context,
    body?.orders?.id,
    body?.orders?.context,
    body?.orders?.header,
  ];
  return seen.every((id) => id === expected)
    ? undefined
    : `saw ${JSON.stringify(seen)}, expected ${expected}`;
}

/** Sends requests `from`…`to - 1` to the gateway, `CONCURRENCY` at a time. */
async function drive(port, from, to) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let next = from;
  const started = Date.now();
  const worker = async () => {
    while (next < to) {
      const n = next++;
      const { kind, header } = plan(n);
      const headers = header === undefined ? {} : { [HEADER]: header };
      const path = `/checkout?order=${n}&fail=${kind === 'fail' ? 1 : 0}`;
      const t0 = performance.now();
      try {
        const answer = await call(port, 'POST', path, headers, agent);
        latencies[n] = performance.now() - t0;
        results.statuses[answer.status] = (results.statuses[answer.status] ?? 0) + 1;
        if (kind === 'fail') results.failingIds.add(header);
        const wrong = judge(n, answer);
        if (wrong !== undefined) {
          results.wrong++;
          if (results.samples.length < 5) results.samples.push(`#${n} ${wrong}`);
        }
      } catch (error) {
        latencies[n] = performance.now() - t0;
        results.errors++;
        if (results.samples.length < 5) results.samples.push(`#${n} ${error.message}`);
      }
      if (n % 10_000 === 0 && n > from) {
        const rate = ((n - from) / ((Date.now() - started) / 1000)).toFixed(0);
        log(`  ${n} requests, ${rate} req/s`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  return (Date.now() - started) / 1000;
}

/** Closes idle keep-alive connections everywhere, then snapshots both services. */
async function snapshot(services, sink) {
  for (const service of services) await call(service.port, 'POST', '/__soak/close-idle');
  sink.server.closeIdleConnections();
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const shots = {};
  for (const service of services) {
    shots[service.name] = (await call(service.port, 'GET', '/__soak/debug')).body;
  }
  return shots;
}

// --- Report ------------------------------------------------------------------------------------

const checks = [];
function check(name, pass, detail) {
  checks.push({ name, pass, detail });
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
const pct = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const listenerTotal = (map) => Object.values(map).reduce((sum, n) => sum + n, 0);
const changes = (before, after) =>
  [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .toSorted()
    .map((key) => `${key} ${before[key] ?? 0} → ${after[key] ?? 0}`)
    .join(', ');

async function main() {
  const sink = await startSink();
  log(
    `soak: starting orders and gateway (${TOTAL} requests, checkpoint ${CHECKPOINT}, concurrency ${CONCURRENCY})`,
  );
  const orders = await startService('orders', 'orders.mjs', {
    SENTRY_DSN: sink.dsn(2),
    ADAPTER: 'fastify',
  });
  const gateway = await startService('gateway', 'gateway.mjs', {
    SENTRY_DSN: sink.dsn(1),
    ADAPTER: 'express',
    ORDERS_URL: `http://127.0.0.1:${orders.port}`,
  });
  const services = [gateway, orders];

  try {
    const warmSeconds = await drive(gateway.port, 0, CHECKPOINT);
    const before = await snapshot(services, sink);
    log(`  checkpoint after ${CHECKPOINT} requests taken`);
    // The rest in quarters, with a heap reading after each: a leak climbs, warm-up flattens out.
    let restSeconds = 0;
    const trend = [{ at: CHECKPOINT, shots: before }];
    for (let quarter = 1; quarter <= 4; quarter++) {
      const from = trend.at(-1).at;
      const to =
        quarter === 4 ? TOTAL : CHECKPOINT + Math.round(((TOTAL - CHECKPOINT) * quarter) / 4);
      restSeconds += await drive(gateway.port, from, to);
      trend.push({ at: to, shots: await snapshot(services, sink) });
    }
    const after = trend.at(-1).shots;

    for (const service of services) await call(service.port, 'POST', '/__soak/flush');
    const expected = results.failingIds.size;
    const deadline = Date.now() + 15_000;
    while (
      Date.now() < deadline &&
      (sink.events[1].length < expected || sink.events[2].length < expected)
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    // Figures.
    const seconds = warmSeconds + restSeconds;
    const sorted = latencies.toSorted();
    console.log(
      `soak: ${TOTAL} requests, gateway (express) → orders (fastify), concurrency ${CONCURRENCY}`,
    );
    console.log(
      `  ${seconds.toFixed(1)} s, ${(TOTAL / seconds).toFixed(0)} req/s, latency p50 ${pct(sorted, 50).toFixed(1)} ms, ` +
        `p99 ${pct(sorted, 99).toFixed(1)} ms, max ${sorted.at(-1).toFixed(1)} ms`,
    );
    console.log(
      `  statuses ${JSON.stringify(results.statuses)}, wrong answers ${results.wrong}, transport errors ${results.errors}`,
    );
    for (const sample of results.samples) console.log(`    ${sample}`);
    for (const { name } of services) {
      const [b, a] = [before[name], after[name]];
      const ratio = a.heapUsed / b.heapUsed;
      console.log(
        `  ${name}: heap after GC ${mb(b.heapUsed)} at ${CHECKPOINT} → ${mb(a.heapUsed)} at ${TOTAL} ` +
          `(ratio ${ratio.toFixed(3)}, ${((ratio - 1) * 100).toFixed(1)} %)`,
      );
      console.log(
        `    heap trend: ${trend.map(({ at, shots }) => `${at}: ${mb(shots[name].heapUsed)}`).join(', ')}`,
      );
      console.log(`    active resources: ${changes(b.resources, a.resources)}`);
      console.log(`    process listeners: ${changes(b.listeners.process, a.listeners.process)}`);
      console.log(`    server listeners: ${changes(b.listeners.server, a.listeners.server)}`);
      console.log(
        `    default isolation scope tags: ${JSON.stringify(a.defaultScopeTags)}, global scope tags: ${JSON.stringify(a.globalScopeTags)}`,
      );
    }
    console.log(
      `  Sentry: ${sink.envelopes} envelopes; ${expected} failing requests → gateway ${sink.events[1].length} events, orders ${sink.events[2].length} events`,
    );

    // Checks.
    check(
      'every answer carried the right transaction ID',
      results.wrong === 0 && results.errors === 0,
      `${results.wrong} wrong, ${results.errors} errors`,
    );
    for (const { name } of services) {
      const [b, a] = [before[name], after[name]];
      const ratio = a.heapUsed / b.heapUsed;
      check(
        `${name}: heap within ${(HEAP_TOLERANCE * 100).toFixed(0)} %`,
        ratio <= 1 + HEAP_TOLERANCE,
        `ratio ${ratio.toFixed(3)}`,
      );
      const grown = Object.keys(a.resources).filter(
        (type) => a.resources[type] > (b.resources[type] ?? 0),
      );
      check(
        `${name}: no more timers, sockets or handles than at the checkpoint`,
        grown.length === 0,
        changes(b.resources, a.resources),
      );
      check(
        `${name}: listener counts unchanged`,
        listenerTotal(a.listeners.process) === listenerTotal(b.listeners.process) &&
          listenerTotal(a.listeners.server) === listenerTotal(b.listeners.server),
        `process ${listenerTotal(b.listeners.process)} → ${listenerTotal(a.listeners.process)}, ` +
          `server ${listenerTotal(b.listeners.server)} → ${listenerTotal(a.listeners.server)}`,
      );
      const leaked = [b, a].some(
        (s) => s.tagName in s.defaultScopeTags || s.tagName in s.globalScopeTags,
      );
      check(
        `${name}: no transaction_id tag on Sentry's default isolation or global scope`,
        !leaked,
        JSON.stringify(a.defaultScopeTags),
      );
      check(`${name}: no unhandled rejections`, a.unhandled === 0, `${a.unhandled}`);
    }
    for (const [project, name] of [
      [1, 'gateway'],
      [2, 'orders'],
    ]) {
      const tags = sink.events[project].map((t) => t.transaction_id);
      const exact =
        tags.length === expected &&
        new Set(tags).size === expected &&
        tags.every((id) => results.failingIds.has(id));
      check(
        `${name}: one Sentry event per failing request, tagged with its ID`,
        exact,
        `${tags.length} events for ${expected} failures`,
      );
    }
  } finally {
    for (const service of services) {
      service.child.kill('SIGTERM');
      const timer = setTimeout(() => service.child.kill('SIGKILL'), 10_000);
      const { code, signal } = await service.exited;
      clearTimeout(timer);
      check(
        `${service.name}: exits on SIGTERM through Nest's shutdown hooks`,
        code === 0 || signal === 'SIGTERM',
        `code ${code}, signal ${signal}`,
      );
      const stderr = service.stderr().trim();
      check(`${service.name}: nothing on stderr`, stderr === '', stderr.slice(0, 500));
    }
    sink.server.closeAllConnections();
    sink.server.close();
  }
}

try {
  await main();
} catch (error) {
  check('the run completed', false, error.stack);
}
for (const { name, pass, detail } of checks) {
  console.log(`${pass ? '✓' : '✗'} ${name}${detail ? ` (${detail})` : ''}`);
}
const failed = checks.filter((c) => !c.pass).length;
console.log(`soak: ${checks.length - failed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
