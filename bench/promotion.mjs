// What survives young-generation collections in steady state: starts one bench server with the
// instruction count's V8 flags and `--trace-gc-nvp`, sends a burst of concurrent requests (as the
// correctness check before every count does), then requests one at a time on one kept-alive
// connection, and reports from the second half of those the bytes promoted per scavenge and the
// mark-compacts of the whole run. After a burst, V8 may allocate the objects of per-request
// allocation sites straight in the old generation (allocation-site pretenuring); whatever those
// reference then survives every scavenge until the next mark-compact.
//
//   node bench/promotion.mjs --adapter express --server module [--sentry errors-only]
//     [--burst 200] [--requests 20000] [--dist <dir>] [--node-flags="--no-allocation-site-pretenuring"]
//
// `--dist`: a build of the library inside the repository (its imports resolve from there), e.g.
// `npx tsc -p tsconfig.build.json --outDir bench/.dist-snapshot/before`; default dist/.
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { INSTRUCTION_FLAGS } from './lib/instructions.mjs';
import { requestMix } from './lib/load.mjs';
import { startSentrySink } from './lib/sentry-sink.mjs';
import { startServer } from './lib/server-process.mjs';

const { values } = parseArgs({
  options: {
    adapter: { type: 'string', default: 'express' },
    server: { type: 'string', default: 'module' },
    sentry: { type: 'string', default: 'errors-only' },
    burst: { type: 'string', default: '200' },
    requests: { type: 'string', default: '20000' },
    dist: { type: 'string' },
    'node-flags': { type: 'string', default: '' },
  },
});

// The state the instruction counts measure, and V8's trace of every collection.
const FLAGS = [...INSTRUCTION_FLAGS, '--trace-gc-nvp'];

const dir = mkdtempSync(join(tmpdir(), 'promotion-'));
const log = join(dir, 'gc.log');
process.env.GC_LOG = log;
const sink = values.sentry === 'none' ? undefined : await startSentrySink();
const server = await startServer({
  server: values.server,
  adapter: values.adapter,
  sentry: values.sentry,
  sentryDsn: sink?.dsn,
  dist: values.dist,
  nodeFlags: [...FLAGS, ...values['node-flags'].split(' ').filter(Boolean)],
  // The server's stdout (V8's GC trace) to a file; the IPC channel stays.
  wrap: ['sh', '-c', 'exec "$0" "$@" >> "$GC_LOG" 2>&1'],
});

const { port } = new URL(server.url);
const get = (agent, { path, headers }) =>
  new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, headers, agent }, (response) => {
      response.resume();
      response.on('end', resolve);
    });
    request.on('error', reject);
  });

try {
  const mix = requestMix('half');
  const burst = new http.Agent({ keepAlive: true, maxSockets: Number(values.burst) });
  await Promise.all(Array.from({ length: Number(values.burst) }, (_, i) => get(burst, mix[i % 2])));
  burst.destroy();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < Number(values.requests); i++) await get(agent, mix[i % 2]);
  agent.destroy();
} finally {
  await server.stop();
  await sink?.close();
}

const lines = readFileSync(log, 'utf8').split('\n');
const field = (line, name) => Number(new RegExp(`\\b${name}=(\\d+)`).exec(line)?.[1] ?? NaN);
const scavenges = lines.filter((line) => / gc=s /.test(line));
const late = scavenges.slice(Math.floor(scavenges.length / 2));
const mean = (name) => late.reduce((sum, line) => sum + field(line, name), 0) / late.length;
const markCompacts = lines.filter((line) => / gc=mc /.test(line)).length;
console.log(
  `${values.adapter}:${values.server} (Sentry ${values.sentry}, burst ${values.burst}` +
    `${values['node-flags'] ? `, ${values['node-flags']}` : ''}): ` +
    `${(mean('promoted') / 1024).toFixed(0)} KB promoted per scavenge ` +
    `(${(mean('allocated') / 1024).toFixed(0)} KB allocated between scavenges; ` +
    `second half, ${late.length} scavenges), ${markCompacts} mark-compacts in the run`,
);
rmSync(dir, { recursive: true, force: true });
