import { Injectable } from '@nestjs/common';
import { MicroservicesBinding } from './microservices.binding.js';
import { BullMqBinding } from '../queues/bullmq.binding.js';

/**
 * Makes a client the application built by hand forward the transaction ID, as clients registered
 * with `ClientsModule.register()` do with no call at all; the same for a BullMQ `Queue` or
 * `FlowProducer` made by hand (ones registered with `BullModule.registerQueue()` or
 * `BullModule.registerFlowProducer()` need no call).
 *
 * @example
 * ```ts
 * @Injectable()
 * export class Notifier {
 *   private readonly client: ClientProxy;
 *
 *   constructor(forwarding: TransactionForwarding) {
 *     this.client = forwarding.forward(
 *       ClientProxyFactory.create({ transport: Transport.NATS, options: { servers } }),
 *     );
 *   }
 * }
 * ```
 *
 * @publicApi
 */
@Injectable()
export class TransactionForwarding {
  constructor(
    private readonly microservices: MicroservicesBinding,
    private readonly queues: BullMqBinding,
  ) {}

  /**
   * Makes `client` put the current transaction ID on every message it sends (every job it adds,
   * for a BullMQ `Queue`; every job of every flow, for a `FlowProducer`), and returns it. Calling
   * it again for the same client changes nothing.
   *
   * @throws TypeError when no carrier knows the client's class (give one in the `carriers`
   * option).
   */
  forward<Client extends object>(client: Client): Client {
    if (this.microservices.forward(client) || this.queues.forward(client)) return client;
    const name = (client as { constructor?: { name?: string } })?.constructor?.name ?? 'value';
    throw new TypeError(
      `nestjs-transaction-id: no transport carrier knows ${name}; give one in the "carriers" option.`,
    );
  }
}
