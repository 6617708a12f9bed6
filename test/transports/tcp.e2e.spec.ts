import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { Controller, Get, Inject, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientsModule,
  MessagePattern,
  Transport,
  type ClientProxy,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransactionId, TransactionModule } from 'nestjs-transaction-id';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';

// The reference carrier: Nest's packet metadata over TCP, from a stock ClientsModule client in an
// HTTP gateway to a standalone microservice, both with nothing but forRoot().
const ID = 'tcp-3f2a9c1e-5b7d-4e8f';
const PORT = 39_517;

@Controller()
class ReceiverController {
  @MessagePattern('whoami')
  whoami(@TransactionId() id: string | undefined) {
    return { id };
  }

  @MessagePattern('fail')
  async fail(): Promise<never> {
    await new Promise((resolve) => setImmediate(resolve));
    throw new Error('receiver failed');
  }
}

@Module({ imports: [TransactionModule.forRoot()], controllers: [ReceiverController] })
class ReceiverModule {}

@Controller()
class GatewayController {
  constructor(@Inject('RECEIVER') private readonly receiver: ClientProxy) {}

  @Get('whoami')
  whoami() {
    return firstValueFrom(this.receiver.send('whoami', {}));
  }

  @Get('fail')
  async fail() {
    return firstValueFrom(this.receiver.send('fail', {})).catch(() => ({ failed: true }));
  }
}

@Module({
  imports: [
    TransactionModule.forRoot(),
    ClientsModule.register([
      { name: 'RECEIVER', transport: Transport.TCP, options: { host: '127.0.0.1', port: PORT } },
    ]),
  ],
  controllers: [GatewayController],
})
class GatewayModule {}

let sentry: SentryEnvelopeServer;
let receiver: INestApplication;
let gateway: INestApplication;
let url: string;

beforeAll(async () => {
  sentry = await SentryEnvelopeServer.start();
  Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1) }));
  const microservice = await NestFactory.createMicroservice<MicroserviceOptions>(ReceiverModule, {
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port: PORT },
    logger: false,
  });
  await microservice.listen();
  receiver = microservice as unknown as INestApplication;
  gateway = await NestFactory.create(GatewayModule, { logger: false });
  await gateway.listen(0, '127.0.0.1');
  url = await gateway.getUrl();
});

afterAll(async () => {
  await gateway?.close();
  await receiver?.close();
  await Sentry.close(2_000);
  await sentry?.close();
});

describe('TCP', () => {
  it("the handler sees the gateway's ID", async () => {
    const response = await fetch(`${url}/whoami`, { headers: { 'x-transaction-id': ID } });
    expect(await response.json()).toEqual({ id: ID });
  });

  it('the receiver reports its failure once, tagged with the ID', async () => {
    const id = `${ID}-fail`;
    await fetch(`${url}/fail`, { headers: { 'x-transaction-id': id } });
    await sentry.waitFor(() => sentry.eventsFor(id).length > 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const events = sentry.eventsFor(id);
    expect(events.map((event) => event.exception?.values?.[0]?.value)).toEqual(['receiver failed']);
  });
});
