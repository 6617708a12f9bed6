// The NATS hop without the library, behind an HTTP side with it: the baseline of nats-hop+module,
// so that what the two differ by is the NATS hop alone. The gateway app has
// `TransactionModule.forRoot()` (its HTTP requests settled and echoed, `@TransactionId()` in the
// handler, as in nats+module), but its NATS client is made by hand and never forwarded, and the
// responder is a standalone Nest microservice of the same process whose module does not import
// the library. The ID crosses NATS in the payload and comes back in the reply, the same bytes as
// nats-hop+module's payload, so both pass the same correctness check.
import { randomUUID } from 'node:crypto';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory } from '@nestjs/microservices';
import { TransactionId, TransactionModule } from 'nestjs-transaction-id';
import { firstValueFrom } from 'rxjs';
import { OPTIONS, defineResponder } from './nats-bare.mjs';
import { decorateClass, defineController } from './shared.mjs';

export function create(context) {
  return createHop(context, { reply: (data) => ({ id: data.id }) });
}

/**
 * The app of a NATS-hop variant. The gateway (HTTP, with the library) sends `message(id)` for
 * each request with a client made by hand; `forward(app, client)` may make it forward the ID. The
 * responder runs as a second Nest application of the process, with `responderImports`, and
 * answers with `reply(data, deps, context)` (`deps`: its constructor dependencies,
 * `responderInject`; `context`: the message's `NatsContext`, in every hop variant alike).
 */
export function createHop(
  { readTag },
  {
    reply,
    forward,
    message = (id) => ({ id: id ?? null }),
    responderImports = [],
    responderInject = [],
  },
) {
  // A subject of this process: other processes may use the same NATS server.
  const subject = `bench.nats-hop.${process.pid}.${randomUUID().slice(0, 8)}`;
  // Not a provider: the library forwards every client provider by itself.
  const client = ClientProxyFactory.create(OPTIONS);
  const AppController = defineController({
    param: TransactionId(),
    handle: (_self, id) => firstValueFrom(client.send(subject, message(id))),
    readTag,
  });

  const Responder = defineResponder(subject, reply, responderInject, true);
  class ResponderModule {}
  decorateClass(ResponderModule, Module({ imports: responderImports, controllers: [Responder] }));

  let responder;
  /** Closes the responder application and the client with the gateway. */
  class HopLifecycle {
    async onApplicationShutdown() {
      await Promise.all([responder?.close(), client.close()]);
    }
  }
  decorateClass(HopLifecycle, Module({}));

  class AppModule {}
  decorateClass(
    AppModule,
    Module({
      imports: [TransactionModule.forRoot(), HopLifecycle],
      controllers: [AppController],
    }),
  );
  return {
    module: AppModule,
    async configureApp(app) {
      forward?.(app, client);
      responder = await NestFactory.createMicroservice(ResponderModule, {
        ...OPTIONS,
        logger: false,
      });
      await responder.listen();
    },
  };
}
