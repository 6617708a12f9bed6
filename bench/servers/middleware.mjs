// The same job written by hand, as many applications do it: a global middleware that validates
// the header (or makes a UUID), tags Sentry's isolation scope, echoes the header and leaves the ID
// on the request for a parameter decorator.
import { randomUUID } from 'node:crypto';
import { Module, createParamDecorator } from '@nestjs/common';
import { HEADER, TAG, VALID_ID, decorateClass, defineController } from './shared.mjs';

const RequestTransactionId = createParamDecorator((_data, execution) => {
  const request = execution.switchToHttp().getRequest();
  return (request.raw ?? request).transactionId;
});

export function create({ sentry, readTag }) {
  const AppController = defineController({
    param: RequestTransactionId(),
    handle: (_self, id) => ({ id }),
    readTag,
  });
  class AppModule {}
  decorateClass(AppModule, Module({ controllers: [AppController] }));

  function transactionIdMiddleware(request, response, next) {
    const incoming = request.headers[HEADER];
    const id = typeof incoming === 'string' && VALID_ID.test(incoming) ? incoming : randomUUID();
    request.transactionId = id;
    sentry?.getIsolationScope().setTag(TAG, id);
    response.setHeader(HEADER, id);
    next();
  }

  return { module: AppModule, configureApp: (app) => app.use(transactionIdMiddleware) };
}
