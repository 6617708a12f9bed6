// Instructions per request, counted by valgrind's callgrind. CPU time of two identical servers
// differs by ±4 % per round on these machines and hardware counters are not available; callgrind
// counts the instructions the server executes: for a server without time-driven work (no Sentry),
// the same count for the same code and load whatever else the machine does. It weighs every
// instruction alike (a cache miss costs nothing), so it complements the timings rather than
// replacing them. A server under callgrind is ~50× slower: opt-in, `--parts instructions`.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { requestMix } from './load.mjs';

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

/** The command prefix that runs a server under callgrind, its profile files under `dir`. */
export function callgrindWrap(dir) {
  mkdirSync(dir, { recursive: true });
  // `--callgrind-out-file` with %p: one file per process, parts (.1, .2…) per dump.
  return ['valgrind', '--tool=callgrind', `--callgrind-out-file=${join(dir, 'callgrind.%p')}`];
}

/**
 * Counts the instructions `server` (started with `callgrindWrap(dir)`) executes for `requests`
 * requests after `warmup` requests (which let V8 optimise the hot code): the counters are zeroed
 * after the warm-up and dumped after the last response. One steady stream over `connections`
 * kept-alive sockets, warm-up and count alike: how many requests the server finds waiting at once
 * changes its per-request work, so the load never pauses or reconnects in between. Resolves with
 * instructions per request.
 */
export async function countInstructions(server, dir, { warmup, requests, connections, mix }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const sequence = requestMix(mix);
  const { port } = new URL(server.url);
  let sent = 0;
  let failed = 0;
  /** The next request of the stream; zeroes the counters once the warm-up is sent. */
  const next = () => {
    if (sent === warmup + requests) return undefined;
    if (sent === warmup) {
      execFileSync('callgrind_control', ['--zero', String(server.pid)], { stdio: 'ignore' });
    }
    return sequence[sent++ % sequence.length];
  };
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
  await Promise.all(
    Array.from({ length: connections }, async () => {
      for (let request = next(); request !== undefined; request = next()) await send(request);
    }),
  );
  execFileSync('callgrind_control', ['--dump', String(server.pid)], { stdio: 'ignore' });
  agent.destroy();
  if (failed > 0) throw new Error(`${failed} requests failed`);
  return { instructions: readDumpedTotal(dir, server.pid) / requests, requests };
}

/** Sum of the `totals:` of the dumps of process `pid` (one per thread); removes the files. */
function readDumpedTotal(dir, pid) {
  const parts = readdirSync(dir).filter((name) => name.startsWith(`callgrind.${pid}.`));
  if (parts.length === 0) throw new Error(`callgrind wrote no dump for ${pid} in ${dir}`);
  let total = 0;
  for (const name of parts) {
    const text = readFileSync(join(dir, name), 'utf8');
    const match = /^(?:totals|summary): (\d+)/m.exec(text);
    if (!match) throw new Error(`no totals in ${name}`);
    total += Number(match[1]);
  }
  for (const name of readdirSync(dir)) {
    if (name.startsWith(`callgrind.${pid}`)) rmSync(join(dir, name));
  }
  return total;
}
