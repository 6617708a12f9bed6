/**
 * Failures around us: Sentry itself misbehaving. One `Sentry.init()` (process-wide) whose DSN
 * points at a local endpoint this file controls, taken through four phases:
 *
 * 1. healthy: answers 200 at once (the baseline);
 * 2. rate-limiting: answers 429 with `Retry-After`;
 * 3. slow: answers after 10 s;
 * 4. unreachable: nothing listens on the DSN's port any more (connections refused).
 *
 * In each phase, for Express and Fastify, a fresh application serves 200 requests whose handler
 * fails (each one an error event for Sentry) at a concurrency of 10. What must hold: every request
 * keeps its normal status (500) and echoed ID, latency stays in the healthy range (only generous
 * bounds are asserted: a request waiting on Sentry would take 10 s), nothing reaches
 * `unhandledRejection`/`uncaughtException`, and `app.close()` completes promptly. The figures are
 * printed for the record.
 */
import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as Sentry from '@sentry/node';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sentryTestOptions } from '../fixtures/sentry-options.js';
import { ProcessFailures } from './support/process-failures.js';
import { RecordingLogger } from './support/recording-logger.js';
import { portOf } from './support/servers.js';

type Mode = 'healthy' | 'rate-limiting' | 'slow' | 'unreachable';

/** A Sentry envelope endpoint whose behaviour the test switches between phases. */
class MisbehavingSentry {
  mode: Mode = 'healthy';
  readonly envelopes: Record<Mode, number> = {
    healthy: 0,
    'rate-limiting': 0,
    slow: 0,
    unreachable: 0,
  };
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<MisbehavingSentry> {
    const server = createServer();
    const sink = new MisbehavingSentry(server);
    server.on('request', (request, response) => {
      sink.envelopes[sink.mode]++;
      request.resume();
      if (sink.mode === 'rate-limiting') {
        response.writeHead(429, { 'retry-after': '1' }).end();
      } else if (sink.mode === 'slow') {
        const timer = setTimeout(() => response.writeHead(200).end('{}'), 10_000);
        sink.timers.add(timer);
      } else {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }
    });
    server.on('connection', (socket: Socket) => {
      sink.sockets.add(socket);
      socket.once('close', () => sink.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return sink;
  }

  get dsn(): string {
    return `http://public@127.0.0.1:${(this.server.address() as AddressInfo).port}/1`;
  }

  /** Stops listening and drops every connection: the DSN's port is closed from now on. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    if (this.server.listening) await new Promise((resolve) => this.server.close(resolve));
  }
}

const sink = await MisbehavingSentry.start();
Sentry.init(sentryTestOptions({ dsn: sink.dsn, tracesSampleRate: 0 }));

const { startProbeApp } = await import('./support/probe-app.js');

const HEADER = 'x-transaction-id';
const REQUESTS = 200;
/** Unmeasured requests first: the first phase would otherwise pay for the JIT warming up. */
const WARMUP = 100;
const CONCURRENCY = 10;
const failures = new ProcessFailures();

interface Figures {
  median: number;
  p99: number;
  max: number;
  closeMs: number;
}
const figures: Record<string, Figures> = {};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Sends `count` requests to a failing route, `CONCURRENCY` at a time; returns their latencies. */
async function load(port: number, count: number, prefix: string): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const id = `${prefix}-${next++}`;
      const started = performance.now();
      const response = await fetch(`http://127.0.0.1:${port}/fail`, { headers: { [HEADER]: id } });
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
      expect(response.status).toBe(500);
      expect(response.headers.get(HEADER)).toBe(id);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return latencies;
}

afterEach(() => {
  const errors = failures.take();
  expect(errors, failures.describe(errors)).toEqual([]);
});

afterAll(async () => {
  failures.dispose();
  await Sentry.close(1_000);
  await sink.stop();
  console.info(
    'Latency of failing requests by Sentry condition (ms):\n' +
      Object.entries(figures)
        .map(
          ([name, f]) =>
            `  ${name.padEnd(28)} median ${f.median.toFixed(1).padStart(6)}  p99 ${f.p99
              .toFixed(1)
              .padStart(
                6,
              )}  max ${f.max.toFixed(1).padStart(6)}  app.close() ${f.closeMs.toFixed(0)}`,
        )
        .join('\n') +
      `\nEnvelopes received: ${JSON.stringify(sink.envelopes)}`,
  );
});

const phases: Array<{ mode: Mode; enter: () => Promise<void> }> = [
  { mode: 'healthy', enter: async () => undefined },
  { mode: 'rate-limiting', enter: async () => undefined },
  { mode: 'slow', enter: async () => undefined },
  { mode: 'unreachable', enter: () => sink.stop() },
];

describe.each(phases)('Sentry $mode', ({ mode, enter }) => {
  it.each(['express', 'fastify'] as const)(
    '%s keeps status, latency and a prompt shutdown',
    async (adapter) => {
      if (sink.mode !== mode) {
        sink.mode = mode;
        await enter();
      }
      const logger = new RecordingLogger();
      const app = await startProbeApp({ adapter, logger });
      const port = portOf(app);
      await load(port, WARMUP, `warm-${mode}-${adapter}`);

      const latencies = (await load(port, REQUESTS, `${mode}-${adapter}`)).toSorted(
        (a, b) => a - b,
      );
      const started = performance.now();
      await app.close();
      const closeMs = performance.now() - started;

      const result: Figures = {
        median: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: latencies.at(-1)!,
        closeMs,
      };
      figures[`${mode} / ${adapter}`] = result;
      const baseline = figures[`healthy / ${adapter}`];
      // Generous: the machine is shared. Waiting on the slow endpoint would take 10 s per request.
      expect(result.p99).toBeLessThan(3_000);
      expect(result.median).toBeLessThan(baseline.median * 10 + 100);
      expect(closeMs).toBeLessThan(5_000);
      // Nest logged each failure of the handler; Sentry's trouble never reached the app's log.
      expect(logger.at('error').length).toBe(REQUESTS + WARMUP);
      expect(
        logger.lines.filter((line) => !line.startsWith('error ') && /ECONN|429/.test(line)),
      ).toEqual([]);
    },
    60_000,
  );
});
