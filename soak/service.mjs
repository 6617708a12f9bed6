// What the two soak services share: decorators applied without a TypeScript build, the soak-only
// debug endpoints, and start-up. Imported after Sentry (see instrument.mjs), by package name for
// the library: these are applications using the built package, as its users would.
import 'reflect-metadata';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Controller, Get, Inject, Module, Post } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { getDefaultIsolationScope } from '@sentry/core';
import * as Sentry from '@sentry/node';
import { TRANSACTION_ID_TAG, TransactionModule } from 'nestjs-transaction-id';

/**
 * Decorates a controller method the way TypeScript would: method decorators through
 * `Reflect.decorate`, then one parameter decorator per index (`undefined` for none).
 */
export function route(target, method, decorators, params = []) {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, method);
  const decorated = Reflect.decorate(decorators, target.prototype, method, descriptor);
  Object.defineProperty(target.prototype, method, decorated ?? descriptor);
  params.forEach((decorator, index) => decorator?.(target.prototype, method, index));
}

/** Declares constructor dependencies, as `emitDecoratorMetadata` or `@Inject()` would. */
export function inject(target, ...tokens) {
  tokens.forEach((token, index) => Inject(token)(target, undefined, index));
}

let unhandled = 0;
process.on('unhandledRejection', () => unhandled++);

function countBy(values) {
  const counts = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function listenerCounts(emitter) {
  return Object.fromEntries(
    emitter.eventNames().map((name) => [String(name), emitter.listenerCount(name)]),
  );
}

/** Soak-only endpoints: a garbage-collected snapshot of the process, a Sentry flush, idle closing. */
class SoakController {
  constructor(adapterHost) {
    this.adapterHost = adapterHost;
  }

  async debug() {
    // Twice, with a turn in between: finalizers and weak references settle after the first.
    global.gc();
    await nextTurn();
    global.gc();
    const server = this.adapterHost.httpAdapter.getHttpServer();
    return {
      heapUsed: process.memoryUsage().heapUsed,
      resources: countBy(process.getActiveResourcesInfo()),
      listeners: { process: listenerCounts(process), server: listenerCounts(server) },
      defaultScopeTags: getDefaultIsolationScope().getScopeData().tags,
      globalScopeTags: Sentry.getGlobalScope().getScopeData().tags,
      tagName: TRANSACTION_ID_TAG,
      unhandled,
    };
  }

  async flush() {
    return { flushed: await Sentry.flush(10_000) };
  }

  /** Closes idle keep-alive connections, so snapshots count sockets, not a pool's leftovers. */
  closeIdle() {
    this.adapterHost.httpAdapter.getHttpServer().closeIdleConnections();
    return { closed: true };
  }
}
Controller('__soak')(SoakController);
inject(SoakController, HttpAdapterHost);
route(SoakController, 'debug', [Get('debug')]);
route(SoakController, 'flush', [Post('flush')]);
route(SoakController, 'closeIdle', [Post('close-idle')]);

/**
 * Starts a service: `TransactionModule.forRoot()`, the given controllers and, with
 * `SOAK_DEBUG=1` (the runner sets it; the process must run with `--expose-gc`), the soak
 * endpoints. Listens on `PORT` (0 for any) and prints `listening <port>`; exits on SIGTERM
 * through Nest's shutdown hooks, flushing Sentry on the way.
 */
export async function startService({ controllers, adapter = 'express' }) {
  const debug = process.env.SOAK_DEBUG === '1';
  if (debug && typeof global.gc !== 'function') throw new Error('SOAK_DEBUG needs --expose-gc');

  class SentryShutdown {
    onApplicationShutdown() {
      return Sentry.close(2_000);
    }
  }
  class ServiceModule {}
  Module({
    imports: [TransactionModule.forRoot()],
    controllers: [...controllers, ...(debug ? [SoakController] : [])],
    providers: [SentryShutdown],
  })(ServiceModule);

  const app =
    adapter === 'fastify'
      ? await NestFactory.create(ServiceModule, new FastifyAdapter(), { logger: false })
      : await NestFactory.create(ServiceModule, { logger: false });
  app.enableShutdownHooks(['SIGTERM']);
  await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  process.stdout.write(`listening ${app.getHttpServer().address().port}\n`);
  return app;
}
