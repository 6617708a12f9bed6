import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { freePorts } from '../fixtures/free-ports.js';

// `npm run sample` as a user runs it, in its exit-after-demo mode: it builds what is stale, starts
// Spotlight (fixed port 8969) unless both services have a DSN, then orders and gateway, sends the
// two checkouts and stops. Meanwhile the test reads Spotlight's event stream, the one its UI reads.

const root = fileURLToPath(new URL('../..', import.meta.url));
const SPOTLIGHT_URL = 'http://localhost:8969';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const hasProc = existsSync('/proc/self/stat');

interface SentryEvent {
  event_id: string;
  server_name?: string;
  tags?: Record<string, string>;
  exception?: { values?: Array<{ type?: string; value?: string }> };
}

/** Service tag, server name and exception type of each error, sorted. */
const summary = (events: SentryEvent[]) =>
  events
    .map((event) => [event.tags?.service, event.server_name, event.exception?.values?.[0]?.type])
    .toSorted();

/** One error from each service, told apart by the `service` tag Spotlight shows. */
const EVERY_SERVICE = [
  ['gateway', 'gateway', 'TransactionHttpError'],
  ['notifications', 'notifications', 'Error'],
  ['orders', 'orders', 'TypeError'],
];

describe('npm run sample', () => {
  it("prints each failing checkout's errors from gateway, orders and notifications (over NATS), grouped by transaction_id and linked in Spotlight, then stops everything", async () => {
    const spotlightWasRunning = await spotlightIsRunning();
    // orders -> notifications over NATS (the default, TCP, runs in the next test).
    const run = await runSample({ NATS_URL: 'nats://127.0.0.1:4222' });
    expect({ code: run.code, output: run.text }).toMatchObject({ code: 0 });
    const { okId, failedIds } = printedIds(run.text);
    expect(run.text).toContain('then its Context tab');

    // What Spotlight holds: one error from each service per failing checkout, none for the other.
    const errors = run.spotlight.filter((event) => event.exception !== undefined);
    expect(errors.filter((event) => event.tags?.transaction_id === okId)).toEqual([]);
    const groups = run.text
      .slice(run.text.indexOf('grouped by transaction_id:'))
      .split(/\n(?= {2}transaction_id=)/);
    for (const failedId of failedIds) {
      const failedErrors = errors.filter((event) => event.tags?.transaction_id === failedId);
      expect({ failedErrors: summary(failedErrors), all: errors }).toMatchObject({
        failedErrors: EVERY_SERVICE,
      });
      // ...printed together under its ID, each with its service and a link to its tags.
      const group = groups.find((text) => text.startsWith(`  transaction_id=${failedId}\n`));
      expect(group, run.text).toBeDefined();
      for (const event of failedErrors) {
        expect(group).toContain(`service=${event.tags?.service}`);
        expect(group).toContain(`${SPOTLIGHT_URL}/telemetry/errors/${event.event_id}/contexts`);
      }
    }

    // Nothing left behind: no process the sample started, nothing listening on its ports.
    expect(run.started).toEqual({
      gateway: hasProc,
      orders: hasProc,
      notifications: hasProc,
      spotlight: hasProc && !spotlightWasRunning,
    });
    expect(run.survivors).toEqual([]);
    expect(run.listening).toEqual({ gateway: false, orders: false, notifications: false });
    expect(await spotlightIsRunning()).toBe(spotlightWasRunning);
  }, 240_000);

  it('reports to the Sentry projects of SENTRY_DSN_GATEWAY, _ORDERS and _NOTIFICATIONS instead (notifications over TCP)', async () => {
    const sentry = await SentryEnvelopeServer.start();
    try {
      const run = await runSample({
        SENTRY_DSN_GATEWAY: sentry.dsn(1),
        SENTRY_DSN_ORDERS: sentry.dsn(2),
        SENTRY_DSN_NOTIFICATIONS: sentry.dsn(3),
        // The page's project: with all four, nothing needs Spotlight.
        SENTRY_DSN_WEB: sentry.dsn(4),
      });
      expect({ code: run.code, output: run.text }).toMatchObject({ code: 0 });
      const { okId, failedIds } = printedIds(run.text);
      for (const failedId of failedIds) {
        expect(run.text).toContain(`sent to Sentry: search transaction_id:${failedId}`);
        // Both services' log lines of a failing checkout carry its ID (README, Logs and traces).
        const logged = run.text
          .split('\n')
          .filter((line) => line.includes(` transaction_id=${failedId} `))
          .map((line) => /^\[(\w+)\].* (LOG|ERROR) \[(\w+)\]/.exec(line)?.slice(1).join(' '));
        expect(logged).toEqual(
          expect.arrayContaining([
            'Gateway LOG CheckoutController',
            'Orders LOG OrdersService',
            'Orders ERROR ExceptionsHandler',
            'Gateway ERROR ExceptionsHandler',
          ]),
        );
        const failedErrors = sentry.eventsFor(failedId);
        expect({ failedErrors: summary(failedErrors), all: sentry.events }).toMatchObject({
          failedErrors: EVERY_SERVICE,
        });
        expect(
          failedErrors.map((event) => [event.tags?.service, event.project]).toSorted(),
        ).toEqual([
          ['gateway', '1'],
          ['notifications', '3'],
          ['orders', '2'],
        ]);
      }
      expect(sentry.eventsFor(okId)).toEqual([]);
      // No Spotlight: nothing needs it.
      expect(run.started).toEqual({
        gateway: hasProc,
        orders: hasProc,
        notifications: hasProc,
        spotlight: false,
      });
      expect(run.survivors).toEqual([]);
      expect(run.listening).toEqual({ gateway: false, orders: false, notifications: false });
    } finally {
      await sentry.close();
    }
  }, 240_000);
});

/** Runs `npm run sample` to its end, watching the processes it starts and Spotlight's stream. */
async function runSample(sentryEnv: Record<string, string>) {
  const [gatewayPort, ordersPort, notificationsPort, notificationsTcpPort] = await freePorts(4);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SAMPLE_EXIT_AFTER_DEMO: '1',
    GATEWAY_PORT: String(gatewayPort),
    ORDERS_PORT: String(ordersPort),
    NOTIFICATIONS_PORT: String(notificationsPort),
    NOTIFICATIONS_TCP_PORT: String(notificationsTcpPort),
  };
  delete env.SENTRY_DSN_GATEWAY;
  delete env.SENTRY_DSN_ORDERS;
  delete env.SENTRY_DSN_WEB;
  delete env.SENTRY_DSN_NOTIFICATIONS;
  delete env.NATS_URL;
  delete env.SENTRY_SPOTLIGHT;
  Object.assign(env, sentryEnv);

  const sample = spawn('npm', ['run', 'sample'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    shell: process.platform === 'win32',
  });
  let output = '';
  sample.stdout.on('data', (chunk) => (output += chunk));
  sample.stderr.on('data', (chunk) => (output += chunk));
  let running = true;
  const exited = new Promise<number | null>((resolve) =>
    sample.on('exit', (code) => {
      running = false;
      resolve(code);
    }),
  );
  const spotlight = readSpotlight(() => running);
  const processes = watchDescendants(sample.pid!, () => running);
  const timeout = setTimeout(() => sample.kill('SIGKILL'), 200_000);
  const code = await exited;
  clearTimeout(timeout);

  const started = await processes;
  const commands = [...started.values()].join('\n');
  return {
    code,
    text: stripVTControlCharacters(output),
    spotlight: await spotlight,
    started: {
      gateway: commands.includes('sample/dist/gateway/main.js'),
      orders: commands.includes('sample/dist/orders/main.js'),
      notifications: commands.includes('sample/dist/notifications/main.js'),
      spotlight: commands.includes('sample/spotlight.mjs'),
    },
    survivors: await survivors([...started.keys()]),
    listening: {
      gateway: await isListening(gatewayPort),
      orders: await isListening(ordersPort),
      notifications: await isListening(notificationsPort),
    },
  };
}

/** The IDs the sample printed for its checkouts: one that succeeded, two that failed. */
function printedIds(text: string): { okId: string; failedIds: string[] } {
  expect(text).toMatch(/POST \/checkout -> 201 {2}transaction_id=\S+/);
  const okId = /POST \/checkout -> 201 {2}transaction_id=(\S+)/.exec(text)![1];
  const failedIds = [...text.matchAll(/POST \/checkout -> 500 {2}transaction_id=(\S+)/g)].map(
    (match) => match[1],
  );
  expect(failedIds).toHaveLength(2);
  for (const id of [okId, ...failedIds]) expect(id).toMatch(UUID);
  expect(new Set([okId, ...failedIds]).size).toBe(3);
  return { okId, failedIds };
}

/**
 * Collects the Sentry events Spotlight streams while the sample runs. Spotlight replays what it
 * holds to every new subscriber, so connecting late loses nothing; its shutdown ends the stream.
 */
async function readSpotlight(isRunning: () => boolean): Promise<SentryEvent[]> {
  const events: SentryEvent[] = [];
  const controller = new AbortController();
  while (isRunning()) {
    let pending = '';
    try {
      const response = await fetch(`${SPOTLIGHT_URL}/stream`, { signal: controller.signal });
      // Bounded: should the stream outlive the sample (a Spotlight that was already running).
      const stopWhenDone = setInterval(() => isRunning() || controller.abort(), 1_000);
      try {
        for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
          const messages = (pending + chunk).split('\n\n');
          pending = messages.pop()!;
          events.push(...messages.flatMap(sentryEvents));
        }
      } finally {
        clearInterval(stopWhenDone);
      }
      return events;
    } catch {
      if (events.length > 0 || controller.signal.aborted) return events;
      await sleep(200);
    }
  }
  return events;
}

function sentryEvents(message: string): SentryEvent[] {
  const lines = message.split('\n');
  if (!lines.includes('event: application/x-sentry-envelope')) return [];
  const data = lines.find((line) => line.startsWith('data: '));
  if (data === undefined) return [];
  const [, items] = JSON.parse(data.slice('data: '.length)) as [
    unknown,
    [{ type: string }, SentryEvent][],
  ];
  return items.filter(([header]) => header.type === 'event').map(([, event]) => event);
}

/** Every process below `pid` seen while the sample runs, with its command line (Linux only). */
async function watchDescendants(
  pid: number,
  isRunning: () => boolean,
): Promise<Map<number, string>> {
  const seen = new Map<number, string>();
  if (!hasProc) return seen;
  while (isRunning()) {
    const parents = new Map<number, number>();
    for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      const stat = procStat(Number(entry));
      if (stat !== undefined) parents.set(Number(entry), stat.ppid);
    }
    for (const [child, parent] of parents) {
      let ancestor = parent;
      while (ancestor !== pid && parents.has(ancestor)) ancestor = parents.get(ancestor)!;
      if (ancestor === pid && !seen.has(child)) {
        const command = readProc(`/proc/${child}/cmdline`)?.replaceAll('\0', ' ');
        if (command) seen.set(child, command);
      }
    }
    await sleep(250);
  }
  return seen;
}

/** The processes of `pids` still alive (zombies count as gone), after a short grace. */
async function survivors(pids: number[]): Promise<number[]> {
  const alive = () => pids.filter((pid) => (procStat(pid)?.state ?? 'Z') !== 'Z');
  for (let attempt = 0; attempt < 20 && alive().length > 0; attempt++) await sleep(250);
  return alive();
}

/** State and parent of a process, from /proc/<pid>/stat. */
function procStat(pid: number): { state: string; ppid: number } | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name, in parentheses, may contain anything: read the fields after its end.
  const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state, ppid: Number(ppid) };
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function spotlightIsRunning(): Promise<boolean> {
  try {
    const response = await fetch(`${SPOTLIGHT_URL}/health`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.headers.get('x-powered-by') === 'spotlight-by-sentry';
  } catch {
    return false;
  }
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
