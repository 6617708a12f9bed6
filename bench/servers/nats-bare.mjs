// NATS request/reply round trip, without the library: `GET /` sends a request with a stock
// `ClientsModule` NATS client to a NATS responder of the same process (a hybrid app), and answers
// with the responder's reply. Server and client CPU of the round trip are both in this process.
// Needs a NATS server: BENCH_NATS_URL, default nats://127.0.0.1:4222.
import { randomUUID } from 'node:crypto';
import { Controller, Inject, Module } from '@nestjs/common';
import { ClientsModule, Ctx, MessagePattern, Payload, Transport } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { NO_ID, decorateClass, decorateMethod, defineController } from './shared.mjs';

export const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
export const OPTIONS = { transport: Transport.NATS, options: { servers: [NATS_URL] } };
const CLIENT = 'BENCH_NATS';

export function create(context) {
  return createRoundTrip(context, { reply: () => ({ id: NO_ID }) });
}

/**
 * The app of a NATS round-trip variant: `reply(data)` answers each request in the responder,
 * `param` decorates the gateway handler's parameter, `imports` are added to the app module,
 * `around(send)` runs each request's sending (default: as it is).
 */
export function createRoundTrip(
  { readTag },
  { reply, param, imports = [], inject = [], around = (send) => send() },
) {
  // A subject of this process: other processes may use the same NATS server.
  const subject = `bench.nats.${process.pid}.${randomUUID().slice(0, 8)}`;
  const AppController = defineController({
    inject: [CLIENT],
    param,
    handle: (self, id) =>
      around(() => firstValueFrom(self.deps[0].send(subject, { id: id ?? null }))),
    readTag,
  });
  Inject(CLIENT)(AppController, undefined, 0);

  const Responder = defineResponder(subject, reply, inject);

  class AppModule {}
  decorateClass(
    AppModule,
    Module({
      imports: [...imports, ClientsModule.register([{ name: CLIENT, ...OPTIONS }])],
      controllers: [AppController, Responder],
    }),
  );
  return {
    module: AppModule,
    async configureApp(app) {
      app.connectMicroservice(OPTIONS);
      await app.startAllMicroservices();
    },
  };
}

/**
 * The controller that answers `subject` with `reply(data, deps, context)`, `deps` being its
 * constructor dependencies (`inject`); `context`, the message's `NatsContext`, only when
 * `withContext` is set (its `@Payload()`/`@Ctx()` decorators put Nest's parameter pipeline on
 * the handler).
 */
export function defineResponder(subject, reply, inject = [], withContext = false) {
  class Responder {
    constructor(...deps) {
      this.deps = deps;
    }

    answer(data, context) {
      return reply(data, this.deps, context);
    }
  }
  Reflect.defineMetadata('design:paramtypes', inject, Responder);
  decorateMethod(Responder, 'answer', MessagePattern(subject));
  if (withContext) {
    Payload()(Responder.prototype, 'answer', 0);
    Ctx()(Responder.prototype, 'answer', 1);
  }
  decorateClass(Responder, Controller());
  return Responder;
}
