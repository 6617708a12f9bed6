// The client side of an outgoing call, alone: CPU µs per call of each way to call a local server,
// to take apart what `TransactionHttpService`, and the diagnostics-channel instrumentation
// (`fetch+instrumentation`: plain `fetch`, the header added by the module), add to raw `fetch`. The server variants (`out:*`)
// measure the same calls inside a Nest request, where the downstream answer and Nest's own work
// are in the count too.
//
//   node bench/http-client.mjs [--rounds 5] [--calls 20000] [--warmup 6000] [--ways a,b] [--dist <dir>]
//
// Each round runs every way in a fresh child process (pinned to CPU 1 when taskset exists; the
// downstream server on CPU 0), warms it up, then times `--calls` calls, 4 in flight, inside a unit
// of work (so the ID is forwarded) and reads the process's CPU time around them.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { channel } from 'node:diagnostics_channel';
import { median } from './lib/stats.mjs';
import { pinSelf, runNodeScript, startDownstream } from './lib/server-process.mjs';

const HEADER = 'x-transaction-id';
const ID = '9c1d1f5e-5d0c-4a8e-9b1e-2f3a4b5c6d7e';
const IN_FLIGHT = 4;
const undiciCreate = channel('undici:request:create');

/** Publishes an undici-shaped request to `undici:request:create`; the body is the ID it got. */
function publishRequest({ origin }) {
  const headers = ['accept', '*/*', 'user-agent', 'bench'];
  const request = { origin, path: '/', headers, addHeader: (n, v) => headers.push(n, v) };
  // A subscriber-less channel does nothing: answer as the server would, with the ID.
  if (!undiciCreate.hasSubscribers) headers.push(HEADER, ID);
  else undiciCreate.publish({ request });
  return Promise.resolve({ id: headers[5] });
}

/** Each way to make the call; `th` is a `TransactionHttpService`. */
const WAYS = {
  fetch: ({ url }) => fetch(url, { headers: { [HEADER]: ID } }).then((r) => r.json()),
  'fetch+signal': ({ url }) =>
    fetch(url, { headers: { [HEADER]: ID }, signal: new AbortController().signal }).then((r) =>
      r.json(),
    ),
  'fetch+manual-redirect': ({ url }) =>
    fetch(url, { headers: { [HEADER]: ID }, redirect: 'manual' }).then((r) => r.json()),
  'fetch+URL+Headers': ({ url }) =>
    fetch(new URL(url), { headers: new Headers({ [HEADER]: ID }) }).then((r) => r.json()),
  'follow-redirects': ({ url, follow }) =>
    follow(new URL(url), { headers: new Headers({ [HEADER]: ID }) }, HEADER, () => true).then((r) =>
      r.json(),
    ),
  // Plain `fetch` with no header: the module's diagnostics-channel instrumentation adds it.
  'fetch+instrumentation': ({ url }) => fetch(url).then((r) => r.json()),
  // The instrumentation's hook alone, no network: what it adds to each call, published on
  // `undici:request:create` with a request shaped like undici's; `publish-only` is the same
  // without the instrumentation, to subtract.
  'instrumentation-hook': publishRequest,
  'publish-only': publishRequest,
  'transaction-http.fetch': ({ th, url }) => th.fetch(url).then((r) => r.json()),
  'transaction-http.get': ({ th, url, firstValueFrom }) =>
    firstValueFrom(th.get(url)).then((r) => r.data),
};

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    calls: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '6000' },
    dist: { type: 'string' },
    ways: { type: 'string' },
    child: { type: 'string' },
    url: { type: 'string' },
  },
});
const dist = values.dist ?? fileURLToPath(new URL('../dist/', import.meta.url));

if (values.child !== undefined) await measure(values.child);
else await main();

async function main() {
  const rounds = Number(values.rounds);
  // This process and the downstream server it starts on CPU 0, as `npm run bench -- --pin` does.
  const pin = pinSelf(0);
  const downstream = await startDownstream();
  const ways = values.ways?.split(',') ?? Object.keys(WAYS);
  const unknown = ways.filter((way) => !(way in WAYS));
  if (unknown.length > 0) throw new Error(`unknown ways: ${unknown.join(', ')}`);
  const micros = Object.fromEntries(ways.map((way) => [way, []]));
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const way of ways) {
        const perCall = await runChild(way, downstream.url, pin);
        micros[way].push(perCall);
        console.error(
          `[http-client] round ${round}/${rounds} ${way}: ${perCall.toFixed(1)} µs/call`,
        );
      }
    }
  } finally {
    await downstream.stop();
  }
  const base = median(micros.fetch ?? micros[ways[0]]);
  console.log(
    `| Way | client CPU µs/call (median) | min–max | ${ways.includes('fetch') ? 'fetch' : ways[0]} ÷ way |`,
  );
  console.log('| --- | ---: | ---: | ---: |');
  for (const [way, list] of Object.entries(micros)) {
    const m = median(list);
    // Two decimals below 10 µs, where the hook alone is measured.
    const show = (value) => value.toFixed(value < 10 ? 2 : 1);
    const range = `${show(Math.min(...list))}–${show(Math.max(...list))}`;
    console.log(`| ${way} | ${show(m)} | ${range} | ${(base / m).toFixed(3)} |`);
  }
}

/** One way, in this (child) process: prints CPU µs per call on stdout. */
async function measure(way) {
  const load = (path) => import(pathToFileURL(join(dist, path)).href);
  const { TransactionHttpService } = await load('http/transaction-http.service.js');
  const { transactionStorage } = await load('context/transaction.storage.js');
  const { fetchFollowingRedirects: follow } = await load('http/follow-redirects.js');
  if (way === 'fetch+instrumentation' || way === 'instrumentation-hook') {
    const { startHttpClientForwarding } = await load('forwarding/http-client.instrumentation.js');
    startHttpClientForwarding({ header: HEADER, propagationTargets: undefined });
  }
  const { firstValueFrom } = await import('rxjs');
  const th = new TransactionHttpService({ header: HEADER, propagationTargets: undefined });
  const call = WAYS[way];
  const deps = { th, url: values.url, origin: new URL(values.url).origin, firstValueFrom, follow };
  const batch = async (count) => {
    let started = 0;
    const worker = async () => {
      while (started++ < count) {
        const body = await call(deps);
        if (body?.id !== ID) throw new Error(`${way}: the server got ${JSON.stringify(body)}`);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  };
  await transactionStorage.run({ id: ID }, async () => {
    await batch(Number(values.warmup));
    const before = process.cpuUsage();
    await batch(Number(values.calls));
    const used = process.cpuUsage(before);
    process.stdout.write(`${(used.user + used.system) / Number(values.calls)}\n`);
  });
}

async function runChild(way, url, pin) {
  const args = [fileURLToPath(import.meta.url), '--child', way, '--url', url, '--dist', dist];
  for (const name of ['calls', 'warmup']) args.push(`--${name}`, values[name]);
  const out = await runNodeScript(args, { cpu: pin ? 1 : undefined, name: way });
  return Number(out.trim());
}
