// Entry point of one bench server process. The runner starts it as
//   node [--expose-gc] --import ./instrument.mjs|./hide-sentry.mjs main.mjs
// with BENCH_SERVER (a file of this folder, without .mjs) and BENCH_ADAPTER (express | fastify),
// and learns its port over IPC. It stops on SIGTERM or an IPC "stop", closing the app first so
// that `--cpu-prof` can write its profile.
import 'reflect-metadata';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { decorateClass, decorateMethod, tagReader } from './shared.mjs';

// Garbage collections since start, for the runner (IPC "gc-stats"): one callback per collection,
// the same in every variant.
const gcStats = { minor: 0, minorMs: 0, major: 0, majorMs: 0 };
new PerformanceObserver((list) => {
  for (const { detail, duration } of list.getEntries()) {
    if (detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) {
      gcStats.minor++;
      gcStats.minorMs += duration;
    } else {
      // Incremental marking steps and weak callbacks are part of major collections: their time
      // counts, not their number.
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcStats.major++;
      gcStats.majorMs += duration;
    }
  }
}).observe({ entryTypes: ['gc'] });

const { BENCH_SERVER, BENCH_ADAPTER, BENCH_SENTRY = 'none' } = process.env;
if (!/^[a-z-]+$/.test(BENCH_SERVER ?? '')) throw new Error(`bad BENCH_SERVER ${BENCH_SERVER}`);
if (BENCH_ADAPTER !== 'express' && BENCH_ADAPTER !== 'fastify') {
  throw new Error(`bad BENCH_ADAPTER ${BENCH_ADAPTER}`);
}

const sentry = BENCH_SENTRY === 'none' ? undefined : await import('@sentry/node');
const context = {
  adapter: BENCH_ADAPTER,
  sentry,
  readTag: tagReader(sentry),
  downstreamUrl: process.env.BENCH_DOWNSTREAM_URL,
};
const variant = await import(`./${BENCH_SERVER}.mjs`);
const { module: AppModule, configureApp } = await variant.create(context);

/** `GET /__heap`: heap after full garbage collection, for the memory check (`--expose-gc`). */
class DebugController {
  heap() {
    if (typeof globalThis.gc === 'function') {
      globalThis.gc();
      globalThis.gc();
    }
    const { heapUsed, rss } = process.memoryUsage();
    return { heapUsed, rss, gc: typeof globalThis.gc === 'function' };
  }
}
decorateMethod(DebugController, 'heap', Get('__heap'));
decorateClass(DebugController, Controller());

class RootModule {}
decorateClass(RootModule, Module({ imports: [AppModule], controllers: [DebugController] }));

let app;
if (BENCH_ADAPTER === 'fastify') {
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  app = await NestFactory.create(RootModule, new FastifyAdapter(), { logger: false });
} else {
  app = await NestFactory.create(RootModule, { logger: false });
}
await configureApp?.(app, context);
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address();

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  const timer = setTimeout(() => process.exit(1), 5000);
  timer.unref();
  try {
    await app.close();
    await sentry?.close(1000);
  } finally {
    process.exit(0);
  }
}
process.on('SIGTERM', stop);
process.on('message', (message) => {
  if (message === 'stop') void stop();
  if (message === 'gc-stats') process.send?.({ type: 'gc-stats', stats: gcStats });
});
process.on('disconnect', () => void stop());

if (process.send) process.send({ type: 'ready', port });
else console.log(`listening on http://127.0.0.1:${port}`);
