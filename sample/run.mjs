// `npm run sample`: builds what is stale, starts Spotlight (Sentry's UI for local development),
// the notifications, orders and gateway services, sends three checkouts and prints the failing
// ones' errors from every service, grouped by transaction_id. Runs until Ctrl-C.
//
//   SENTRY_DSN_GATEWAY=... SENTRY_DSN_ORDERS=...   report to Sentry instead of Spotlight
//   SENTRY_DSN_NOTIFICATIONS=...                   (one variable per service)
//   SENTRY_DSN_WEB=...                             the page's project (browser events)
//   CORS_ORIGINS=http://127.0.0.1:8080             origins whose pages may call the gateway
//   GATEWAY_PORT=3000 ORDERS_PORT=3001             ports of the services (Spotlight's is 8969)
//   NOTIFICATIONS_PORT=3002                        and NOTIFICATIONS_TCP_PORT=3003 for its events
//   NATS_URL=nats://127.0.0.1:4222                 orders -> notifications over NATS, not TCP
//   SAMPLE_EXIT_AFTER_DEMO=1                       stop everything after the demo (tests, CI)

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { buildWeb } from './web/build.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const fromRoot = (path) => join(root, path);

/** Where Sentry's `spotlight: true` sends events, and where the UI is. */
const SPOTLIGHT_URL = 'http://localhost:8969';
const EXIT_AFTER_DEMO = process.env.SAMPLE_EXIT_AFTER_DEMO === '1';
const { SENTRY_DSN_GATEWAY, SENTRY_DSN_ORDERS, SENTRY_DSN_NOTIFICATIONS, SENTRY_DSN_WEB } =
  process.env;
const services = {
  notifications: {
    port: portFrom('NOTIFICATIONS_PORT', 3002),
    dsn: SENTRY_DSN_NOTIFICATIONS || undefined,
  },
  orders: { port: portFrom('ORDERS_PORT', 3001), dsn: SENTRY_DSN_ORDERS || undefined },
  gateway: { port: portFrom('GATEWAY_PORT', 3000), dsn: SENTRY_DSN_GATEWAY || undefined },
};
const ORDERS_URL = `http://127.0.0.1:${services.orders.port}`;
const GATEWAY_URL = `http://127.0.0.1:${services.gateway.port}`;

const children = new Set();
/** Set once `stop()` runs: from then on, children exit because we asked them to. */
let stopping;

// A second Ctrl-C does not wait for anything.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => (stopping ? kill() : void stop(0)));
}
// Last resort, should this script fail before stopping the services itself.
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));

try {
  await withBuildLock(buildIfStale);
  const toSpotlight = Object.keys(services).filter((name) => !services[name].dsn);
  // The page reports to Spotlight too, unless SENTRY_DSN_WEB is set.
  if (toSpotlight.length > 0 || !SENTRY_DSN_WEB) await startSpotlight();
  await startService('notifications');
  await startService('orders');
  await startService('gateway', { ORDERS_URL });
  await demo(toSpotlight);
} catch (error) {
  console.error(`\nThe sample failed: ${error instanceof Error ? error.message : error}`);
  await stop(1);
}
if (EXIT_AFTER_DEMO) await stop(0);
console.log('Running until Ctrl-C.');

async function demo(toSpotlight) {
  const ok = await checkout([{ sku: 'mug', quantity: 2 }]);
  // Two failing checkouts, each with an ID made the way a browser would make it, before sending.
  const failed = [];
  for (const sku of ['teapot', 'kettle']) {
    const browserId = crypto.randomUUID();
    const answer = await checkout([{ sku, quantity: 1 }], browserId);
    if (answer.status !== 500 || answer.transactionId !== browserId) {
      throw new Error(`unexpected answer from the gateway: ${JSON.stringify(answer)}`);
    }
    failed.push(answer);
  }
  if (ok.status !== 201)
    throw new Error(`unexpected answer from the gateway: ${JSON.stringify(ok)}`);

  // Each failing checkout's errors, by service, as Spotlight holds them.
  const groups = [];
  for (const { transactionId } of failed) {
    const inSpotlight = await errorsInSpotlight(transactionId, toSpotlight);
    const missing = toSpotlight.filter((name) => !inSpotlight.has(name));
    if (missing.length > 0) throw new Error(`Spotlight got no error from ${missing.join(', ')}`);
    groups.push(
      `  transaction_id=${transactionId}`,
      ...['notifications', 'orders', 'gateway'].flatMap((name) => {
        const event = inSpotlight.get(name);
        if (event === undefined) {
          return [
            `    service=${name.padEnd(13)} sent to Sentry: search transaction_id:${transactionId}`,
          ];
        }
        const [exception] = event.exception.values;
        return [
          `    service=${name.padEnd(13)} ${exception.type}: ${exception.value}`,
          `                          ${SPOTLIGHT_URL}/telemetry/errors/${event.event_id}/contexts`,
        ];
      }),
    );
  }
  // The services log their errors after answering: let them finish before the summary.
  await sleep(500);
  console.log(
    [
      '',
      'Sample running:',
      `  page       http://localhost:${services.gateway.port}/  the shop: click "Place order"`,
      `  gateway    http://localhost:${services.gateway.port}  POST /checkout, calls orders`,
      `  orders     http://localhost:${services.orders.port}  POST /orders, emits order.failed`,
      `  notifications  handles order.failed over ${process.env.NATS_URL ? 'NATS' : 'TCP'}`,
      ...(toSpotlight.length > 0 ? [`  Spotlight  ${SPOTLIGHT_URL}  Sentry's local UI`] : []),
      '',
      'A checkout that succeeds, sent without an ID (the gateway made one and echoed it):',
      `  POST /checkout -> ${ok.status}  transaction_id=${ok.transactionId}`,
      'Checkouts that fail in orders, each with an ID made as a browser would make it:',
      ...failed.map(
        (answer) => `  POST /checkout -> ${answer.status}  transaction_id=${answer.transactionId}`,
      ),
      '',
      "The failing checkouts' errors, grouped by transaction_id:",
      ...groups,
      ...(toSpotlight.length > 0
        ? [
            '',
            `In Spotlight (${SPOTLIGHT_URL}): Errors, click an error, then its Context tab;`,
            'under Tags, service says which service raised it and transaction_id which checkout.',
          ]
        : []),
      '',
    ].join('\n'),
  );
}

/** Sends a checkout to the gateway, as the shop's front end would. */
async function checkout(lines, transactionId) {
  const response = await fetch(`${GATEWAY_URL}/checkout`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(transactionId !== undefined && { 'x-transaction-id': transactionId }),
    },
    body: JSON.stringify({ lines }),
  });
  await response.arrayBuffer();
  return { status: response.status, transactionId: response.headers.get('x-transaction-id') };
}

/**
 * The error events tagged with `transactionId`, by their `service` tag, read from Spotlight's event
 * stream (the one its UI reads, which replays what Spotlight holds before following new events).
 */
async function errorsInSpotlight(transactionId, serviceNames, timeoutMs = 20_000) {
  const found = new Map();
  if (serviceNames.length === 0) return found;
  try {
    const response = await fetch(`${SPOTLIGHT_URL}/stream`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    let pending = '';
    for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
      const messages = (pending + chunk).split('\n\n');
      pending = messages.pop();
      for (const event of messages.flatMap(sentryEvents)) {
        const service = event.tags?.service;
        if (event.tags?.transaction_id === transactionId && serviceNames.includes(service)) {
          found.set(service, event);
        }
      }
      if (found.size === serviceNames.length) break;
    }
  } catch (error) {
    if (error?.name !== 'TimeoutError') throw error;
  }
  return found;
}

/** The Sentry events of one server-sent message, whose data is an envelope: `[header, items]`. */
function sentryEvents(message) {
  const lines = message.split('\n');
  if (!lines.includes('event: application/x-sentry-envelope')) return [];
  const data = lines.find((line) => line.startsWith('data: '));
  const [, items] = JSON.parse(data.slice('data: '.length));
  return items.filter(([header]) => header.type === 'event').map(([, event]) => event);
}

async function startSpotlight() {
  if (await spotlightIsRunning()) {
    console.log(`Using the Spotlight already running on ${SPOTLIGHT_URL}.`);
    return;
  }
  // Not Spotlight's CLI: it reports telemetry to sentry.io (see spotlight.mjs).
  startChild('Spotlight', [fromRoot('sample/spotlight.mjs')], { quiet: true });
  await waitFor('Spotlight', spotlightIsRunning);
}

async function spotlightIsRunning() {
  try {
    const response = await fetch(`${SPOTLIGHT_URL}/health`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.headers.get('x-powered-by') === 'spotlight-by-sentry';
  } catch {
    return false;
  }
}

async function startService(name, env = {}) {
  const { port, dsn } = services[name];
  startChild(name, ['--enable-source-maps', fromRoot(`sample/dist/${name}/main.js`)], {
    // SENTRY_DSN: undefined also hides a SENTRY_DSN of the shell from the service.
    env: { ...env, PORT: String(port), SENTRY_DSN: dsn },
  });
  // Both services echo X-Transaction-ID on every response, 404s included.
  await waitFor(`${name} on port ${port}`, async () => {
    const response = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
    await response?.arrayBuffer();
    return response?.headers.has('x-transaction-id') === true;
  });
}

/**
 * Starts a Node.js child. On POSIX it gets a process group of its own, so that Ctrl-C reaches this
 * script only, which then stops every child once and waits for it.
 */
function startChild(name, args, { env = {}, quiet = false } = {}) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', quiet ? 'pipe' : 'inherit', quiet ? 'pipe' : 'inherit'],
    detached: process.platform !== 'win32',
  });
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk) => (output = (output + chunk).slice(-4000)));
  }
  children.add(child);
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (stopping) return;
    console.error(`\n${name} stopped unexpectedly (${signal ?? `exit code ${code}`}).\n${output}`);
    void stop(1);
  });
  return child;
}

async function waitFor(what, isReady, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await isReady())) {
    if (Date.now() > deadline) throw new Error(`${what} was not ready after ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

/** Stops every child (SIGTERM, then SIGKILL after 10 s), then exits. */
function stop(code) {
  stopping ??= Promise.all(
    [...children].map(async (child) => {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }),
  ).then(() => process.exit(code));
  return stopping;
}

function kill() {
  children.forEach((child) => child.kill('SIGKILL'));
  process.exit(1);
}

/**
 * Runs `build` alone: two samples started at once (the test files that run them in parallel) must
 * not remove the output the other is writing. A lock left by a run killed mid-build is taken over
 * after 5 minutes.
 */
async function withBuildLock(build) {
  const lock = fromRoot('sample/.build-lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if (error?.code !== 'EEXIST') throw error;
      if (Date.now() - mtime(lock) > 300_000) rmSync(lock, { recursive: true, force: true });
      else await sleep(250);
    }
  }
  // Also when Ctrl-C ends this script mid-build (stop() exits the process).
  const release = () => rmSync(lock, { recursive: true, force: true });
  process.once('exit', release);
  try {
    await build();
  } finally {
    process.off('exit', release);
    release();
  }
}

/** Builds the library and the sample when their sources are newer than their output. */
async function buildIfStale() {
  if (mtime(fromRoot('dist/index.js')) < newest(['lib', 'tsconfig.json', 'tsconfig.build.json'])) {
    console.log('Building the library: npm run build');
    run('npm', ['run', 'build']);
  }
  const built = Math.min(
    ...['gateway', 'orders', 'notifications'].map((name) =>
      mtime(fromRoot(`sample/dist/${name}/main.js`)),
    ),
  );
  const sources = [
    'sample/gateway',
    'sample/orders',
    'sample/notifications',
    'sample/tsconfig.json',
    'dist/index.d.ts',
  ];
  if (built < newest([...sources, 'tsconfig.json'])) {
    console.log('Building the sample: tsc -p sample/tsconfig.json');
    rmSync(fromRoot('sample/dist'), { recursive: true, force: true });
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    run(process.execPath, [tsc, '-p', fromRoot('sample/tsconfig.json')]);
  }
  if (mtime(fromRoot('sample/dist/web/main.js')) < newest(['sample/web', 'dist/browser'])) {
    console.log('Building the page: esbuild sample/web/main.ts');
    await buildWeb();
  }
}

function run(command, args) {
  const { status, error } = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (status !== 0) throw new Error(`${command} ${args.join(' ')} failed`, { cause: error });
}

/** The last modification time of the files at `paths` and under them; 0 if there are none. */
function newest(paths) {
  let latest = 0;
  for (const path of paths.map(fromRoot)) {
    const files = statSync(path, { throwIfNoEntry: false })?.isDirectory()
      ? readdirSync(path, { recursive: true }).map((file) => join(path, file))
      : [path];
    for (const file of files) latest = Math.max(latest, mtime(file));
  }
  return latest;
}

function mtime(path) {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

function portFrom(variable, fallback) {
  const value = Number(process.env[variable] ?? fallback);
  if (!Number.isInteger(value) || value <= 0 || value > 65535) {
    throw new Error(`${variable} must be a port number; got ${process.env[variable]}`);
  }
  return value;
}
