// The hand-written middleware plus an AsyncLocalStorage, so that services (not only the handler)
// can read the ID: the smallest hand-made equivalent of the library's job.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { Module } from '@nestjs/common';
import { HEADER, TAG, VALID_ID, decorateClass, defineController } from './shared.mjs';

const storage = new AsyncLocalStorage();

export function create({ sentry, readTag }) {
  const AppController = defineController({
    handle: () => ({ id: storage.getStore()?.id }),
    readTag,
  });
  class AppModule {}
  decorateClass(AppModule, Module({ controllers: [AppController] }));

  function transactionIdMiddleware(request, response, next) {
    const incoming = request.headers[HEADER];
    const id = typeof incoming === 'string' && VALID_ID.test(incoming) ? incoming : randomUUID();
    sentry?.getIsolationScope().setTag(TAG, id);
    response.setHeader(HEADER, id);
    storage.run({ id }, next);
  }

  return { module: AppModule, configureApp: (app) => app.use(transactionIdMiddleware) };
}
