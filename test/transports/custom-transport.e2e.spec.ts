import 'reflect-metadata';
import { EventEmitter } from 'node:events';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  BaseRpcContext,
  ClientProxy,
  type CustomTransportStrategy,
  MessagePattern,
  type ReadPacket,
  Server,
  type WritePacket,
} from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TransactionContext,
  TransactionForwarding,
  TransactionId,
  TransactionModule,
  type TransportCarrier,
} from 'nestjs-transaction-id';

// The README's recipe for a custom transport, on a small in-memory one: a `TransportCarrier` in
// the `carriers` option is all the library needs to read and forward the ID over it.

const BUS_TRANSPORT = Symbol('bus');

/** What travels on the bus. */
interface BusMessage {
  pattern: string;
  data: unknown;
  headers: Record<string, string>;
  reply?: (packet: WritePacket) => void;
}

const bus = new EventEmitter();

class BusContext extends BaseRpcContext<[Record<string, string>]> {
  getHeaders(): Record<string, string> {
    return this.args[0];
  }
}

class BusServer extends Server implements CustomTransportStrategy {
  override transportId = BUS_TRANSPORT;

  listen(callback: () => void) {
    bus.on('message', (message: BusMessage) => void this.handle(message));
    callback();
  }

  private async handle({ pattern, data, headers, reply }: BusMessage) {
    const context = new BusContext([headers]);
    if (reply === undefined) return this.handleEvent(pattern, { pattern, data }, context);
    const handler = this.getHandlerByPattern(pattern)!;
    return this.handleRequest(
      context,
      async () => this.transformToObservable(await handler(data, context)),
      async (packet) => reply(packet),
    );
  }

  close() {
    bus.removeAllListeners('message');
  }
  on() {}
  unwrap<T>(): T {
    return bus as T;
  }
}

class BusClient extends ClientProxy {
  async connect() {}
  close() {}
  unwrap<T>(): T {
    return bus as T;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void) {
    bus.emit('message', { ...toMessage(packet), reply: callback });
    return () => undefined;
  }

  protected async dispatchEvent<T>(packet: ReadPacket): Promise<T> {
    bus.emit('message', toMessage(packet));
    return undefined as T;
  }
}

/** The bus sends the packet metadata as its headers. */
function toMessage(packet: ReadPacket & { metadata?: unknown }): BusMessage {
  const headers = (packet.metadata ?? {}) as Record<string, string>;
  return { pattern: packet.pattern, data: packet.data, headers };
}

// The recipe, as the README shows it.
const busCarrier: TransportCarrier<BusContext, BusClient> = {
  transport: 'bus', // as `trustMessages` and log lines name it
  transportId: BUS_TRANSPORT, // the symbol your server's `transportId` holds
  client: BusClient, // its clients forward the ID
  read: (context, header) => context.getHeaders()[header], // undefined: none; null: several
  forward: (client, header, currentId) =>
    client.setOnDispatchHook((packet) => {
      const id = currentId(client);
      if (id !== undefined) packet.metadata = { ...(packet.metadata as object), [header]: id };
    }),
};

@Controller()
class BusController {
  @MessagePattern('whoami')
  whoami(@TransactionId() id: string | undefined) {
    return { id };
  }
}

@Module({
  imports: [TransactionModule.forRoot({ carriers: [busCarrier] })],
  controllers: [BusController],
})
class BusModule {}

let app: INestMicroservice;
let client: BusClient;
let context: TransactionContext;

beforeAll(async () => {
  app = await NestFactory.createMicroservice(BusModule, {
    strategy: new BusServer(),
    logger: false,
  });
  await app.listen();
  context = app.get(TransactionContext);
  client = app.get(TransactionForwarding).forward(new BusClient());
});

afterAll(async () => {
  await app?.close();
});

describe('a custom transport with its own carrier', () => {
  it('carries the ID from a forwarded client to the handler', async () => {
    const answer = await context.run('bus-1', () => firstValueFrom(client.send('whoami', {})));
    expect(answer).toEqual({ id: 'bus-1' });
  });

  it('sends nothing outside a unit of work: the handler gets a fresh ID', async () => {
    const answer = await firstValueFrom(client.send('whoami', {}));
    expect(answer.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reads a header set by hand, and replaces one that is not valid', async () => {
    const reply = (headers: Record<string, string>) =>
      new Promise<WritePacket>((resolve) =>
        bus.emit('message', { pattern: 'whoami', data: {}, headers, reply: resolve }),
      );
    expect((await reply({ 'x-transaction-id': 'bus-by-hand' })).response).toEqual({
      id: 'bus-by-hand',
    });
    const replaced = (await reply({ 'x-transaction-id': 'not valid!' })).response as { id: string };
    expect(replaced.id).not.toBe('not valid!');
  });
});
