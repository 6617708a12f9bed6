// A Nest application in plain JavaScript that uses nestjs-transaction-id by its package name, as an
// application that installed the tarball would. Without a compiler, decorators are applied by
// calling them (what TypeScript's emitted code does).
//
// Protocol with test/package/esm-package.spec.ts: prints one JSON line once listening, then serves
// until its standard input closes, then shuts down (flushing Sentry when it is installed).
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  TRANSACTION_ID_HEADER,
  TransactionContext,
  TransactionId,
  TransactionModule,
} from 'nestjs-transaction-id';

class AppController {
  constructor(transaction) {
    this.transaction = transaction;
  }

  echo(id) {
    return { fromDecorator: id, fromContext: this.transaction.id };
  }

  async fail() {
    await new Promise((resolve) => setTimeout(resolve, 1));
    throw new Error(`scratch app failure in ${this.transaction.id}`);
  }
}

/** TypeScript's `__param`: a parameter decorator applied through `Reflect.decorate`. */
const param = (index, decorator) => (target, key) => decorator(target, key, index);

function decorateMethod(target, key, ...decorators) {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, key);
  Object.defineProperty(
    target.prototype,
    key,
    Reflect.decorate(decorators, target.prototype, key, descriptor) ?? descriptor,
  );
}

decorateMethod(AppController, 'echo', Get('echo'), param(0, TransactionId()));
decorateMethod(AppController, 'fail', Get('fail'));
Reflect.decorate(
  [Controller(), Reflect.metadata('design:paramtypes', [TransactionContext])],
  AppController,
);

class AppModule {}
Reflect.decorate(
  [Module({ imports: [TransactionModule.forRoot()], controllers: [AppController] })],
  AppModule,
);

const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
await app.listen(0, '127.0.0.1');

const { default: manifest } = await import('nestjs-transaction-id/package.json', {
  with: { type: 'json' },
});
// Every entry point the package exports loads by name, with or without Sentry installed.
const subpaths = {};
for (const subpath of Object.keys(manifest.exports)) {
  if (subpath === '.' || subpath.endsWith('.json')) continue;
  const name = `nestjs-transaction-id${subpath.slice(1)}`;
  subpaths[name] = Object.keys(await import(name)).toSorted();
}
const sentry = await import('@sentry/node').catch(() => undefined);
process.stdout.write(
  `${JSON.stringify({
    port: app.getHttpServer().address().port,
    header: TRANSACTION_ID_HEADER,
    resolved: import.meta.resolve('nestjs-transaction-id'),
    manifest: { name: manifest.name, version: manifest.version },
    subpaths,
    sentry: sentry?.getClient() !== undefined,
    sentryHttpIntegration: sentry?.getClient()?.getIntegrationByName('Http') !== undefined,
  })}\n`,
);

process.stdin.resume();
process.stdin.on('end', async () => {
  await app.close();
  await sentry?.close(5_000);
});
