import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import {
  Controller,
  Get,
  Inject,
  Module,
  Query,
  UseGuards,
  type CanActivate,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientKafka,
  ClientsModule,
  EventPattern,
  MessagePattern,
  Payload,
  ServerKafka,
  Transport,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import type { KafkaMessage, Message } from 'kafkajs';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TransactionId, TransactionModule } from 'nestjs-transaction-id';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';
import { eachMessagePayload, throughTheWire } from './support/kafka-wire.js';
import { expectEachFailureReportedOnce } from './support/load-reports.js';

// No Kafka broker runs here. Everything of Nest and kafkajs runs for real except the broker:
// ClientKafka (send/emit, its serializer, publish/dispatchEvent, the reply callback) and ServerKafka
// (handleMessage: KafkaParser, deserializer, KafkaContext, processing hook, guards, handler, reply
// serializer) talk through kafkajs's own record batch encoder and decoder, where the producers'
// `send()` would have reached a broker and the consumers' `eachMessage` would have been called.
const BROKERS = ['127.0.0.1:9092'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Every ID a receiver's handler saw, by the marker its sender put in the payload. */
const seen = new Map<string, string | undefined>();

class FailingGuard implements CanActivate {
  canActivate(): boolean {
    throw new Error('guard failed');
  }
}

@Controller()
class ReceiverController {
  @MessagePattern('guarded')
  @UseGuards(FailingGuard)
  guarded() {
    return { reached: true };
  }

  @MessagePattern('whoami')
  whoami(@TransactionId() id: string | undefined) {
    return { id };
  }

  @MessagePattern('work')
  async work(@Payload() data: { expected: string; fail: boolean }, @TransactionId() id?: string) {
    // The message's own isolation scope: a tag set here must never reach another message's events.
    Sentry.setTag('marker', data.expected);
    // Other messages run between here and the answer.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
    if (data.fail) throw new Error(`work failed for ${data.expected}`);
    return { id };
  }

  @EventPattern('seen')
  async record(@Payload() data: { marker: string }, @TransactionId() id: unknown) {
    await new Promise((resolve) => setImmediate(resolve));
    seen.set(data.marker, id as string | undefined);
  }
}

@Module({ imports: [TransactionModule.forRoot()], controllers: [ReceiverController] })
class ReceiverModule {}

@Controller()
class GatewayController {
  constructor(@Inject('KAFKA') private readonly kafka: ClientKafka) {}

  @Get('whoami')
  whoami() {
    return firstValueFrom(this.kafka.send('whoami', {}));
  }

  @Get('guarded')
  guarded() {
    return firstValueFrom(this.kafka.send('guarded', {})).catch(() => ({ failed: true }));
  }

  @Get('work')
  work(@Query('fail') fail: string, @TransactionId() expected: string) {
    return firstValueFrom(this.kafka.send('work', { expected, fail: fail === '1' })).catch(
      (error: unknown) => ({ failed: String((error as { message?: string })?.message ?? error) }),
    );
  }

  @Get('batch')
  async batch(@Query('marker') marker: string) {
    const messages = [{ marker: `${marker}-1` }, { marker: `${marker}-2` }];
    await firstValueFrom(this.kafka.emitBatch('seen', { messages }));
    return {};
  }

  @Get('shared-headers')
  async sharedHeaders(@Query('marker') marker: string) {
    await firstValueFrom(this.kafka.emit('seen', { value: { marker }, headers: SHARED_HEADERS }));
    return {};
  }

  @Get('seen')
  async seen(@Query('marker') marker: string, @Query('own') own?: string) {
    const message =
      own === undefined ? { marker } : { value: { marker }, headers: { 'X-Transaction-ID': own } };
    await firstValueFrom(this.kafka.emit('seen', message));
    return {};
  }
}

/** Headers an application reuses for many records. */
const SHARED_HEADERS = { source: 'gateway' };

@Module({
  imports: [
    TransactionModule.forRoot(),
    ClientsModule.register([
      { name: 'KAFKA', transport: Transport.KAFKA, options: { client: { brokers: BROKERS } } },
    ]),
  ],
  controllers: [GatewayController],
})
class GatewayModule {}

let sentry: SentryEnvelopeServer;
let server: ServerKafka;
let receiver: INestApplication;
let gateway: INestApplication;
let client: ClientKafka;
let url: string;
/** Every record a producer sent, as it handed it to kafkajs. */
const produced: Array<{ topic: string; message: Message }> = [];

/** Where the broker would be: a producer's records reach the consumer of their topic. */
async function deliver(topic: string, messages: Message[]): Promise<void> {
  for (const message of messages) produced.push({ topic, message: structuredClone(message) });
  for (const consumed of await throughTheWire(messages)) {
    const payload = eachMessagePayload(topic, consumed);
    if (topic.endsWith('.reply')) await client.createResponseCallback()(payload);
    // kafkajs would await each message of a partition; the test runs them all at once instead.
    else void server.handleMessage(payload);
  }
}

/** Delivers a record built by hand, as a producer without the library would send it. */
async function deliverByHand(topic: string, message: Message): Promise<void> {
  const [consumed] = await throughTheWire([message]);
  await server.handleMessage(eachMessagePayload(topic, consumed as KafkaMessage));
}

beforeAll(async () => {
  sentry = await SentryEnvelopeServer.start();
  Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1) }));
  server = new ServerKafka({ client: { brokers: BROKERS } });
  const microservice = await NestFactory.createMicroservice<MicroserviceOptions>(ReceiverModule, {
    strategy: server,
    logger: false,
  });
  await microservice.init();
  receiver = microservice as unknown as INestApplication;
  Object.assign(server, { producer: wire() });

  gateway = await NestFactory.create(GatewayModule, { logger: false });
  await gateway.listen(0, '127.0.0.1');
  url = await gateway.getUrl();
  client = gateway.get<ClientKafka>('KAFKA');
  Object.assign(client, {
    initialized: Promise.resolve(),
    _producer: wire(),
    consumerAssignments: { 'whoami.reply': 0, 'work.reply': 0, 'guarded.reply': 0 },
  });
});

/** A kafkajs producer whose `send()` delivers through `deliver()`. */
function wire() {
  return {
    send: ({ topic, messages }: { topic: string; messages: Message[] }) => deliver(topic, messages),
    disconnect: async () => undefined,
  };
}

afterAll(async () => {
  await gateway?.close();
  await receiver?.close();
  await Sentry.close(2_000);
  await sentry?.close();
});

beforeEach(() => {
  produced.length = 0;
  seen.clear();
});

async function get(path: string, id?: string): Promise<unknown> {
  const headers = id === undefined ? undefined : { 'x-transaction-id': id };
  const response = await fetch(`${url}${path}`, { headers });
  return response.json();
}

describe('Kafka (no broker: kafkajs encoding and Nest client and server code paths)', () => {
  it("a @MessagePattern handler sees the gateway's ID, sent as a record header", async () => {
    const id = 'kafka-7c1d2e3f-whoami';
    expect(await get('/whoami', id)).toEqual({ id });
    const request = produced.find(({ topic }) => topic === 'whoami');
    expect(String(request?.message.headers?.['x-transaction-id'])).toBe(id);
    // The value is what the sender passed: a consumer without the library reads the same.
    expect(request?.message.value).toBe('{}');
  });

  it("an @EventPattern handler sees the gateway's ID", async () => {
    const id = 'kafka-7c1d2e3f-event';
    await get('/seen?marker=event', id);
    await expect.poll(() => seen.get('event')).toBe(id);
  });

  it('emitBatch() carries the ID on every record', async () => {
    const id = 'kafka-7c1d2e3f-batch';
    await get('/batch?marker=batch', id);
    await expect.poll(() => [seen.get('batch-1'), seen.get('batch-2')]).toEqual([id, id]);
  });

  it('a header the sender set on its own record wins, in any case', async () => {
    await get('/seen?marker=own&own=sender-own-id', 'kafka-7c1d2e3f-gateway');
    await expect.poll(() => seen.get('own')).toBe('sender-own-id');
    const record = produced.find(({ topic }) => topic === 'seen');
    expect(Object.keys(record?.message.headers ?? {})).toEqual(['X-Transaction-ID']);
  });

  it('a headers object the sender reuses is never changed', async () => {
    const id = 'kafka-7c1d2e3f-shared';
    await get('/shared-headers?marker=shared', id);
    await expect.poll(() => seen.get('shared')).toBe(id);
    expect(SHARED_HEADERS).toEqual({ source: 'gateway' });
    const record = produced.find(({ topic }) => topic === 'seen');
    expect(record?.message.headers).toEqual({ source: 'gateway', 'x-transaction-id': id });
  });

  it('a record a plain kafkajs producer sent with the header set by hand is read', async () => {
    await deliverByHand('seen', {
      value: JSON.stringify({ marker: 'plain' }),
      headers: { 'x-transaction-id': Buffer.from('plain-kafkajs-id') },
    });
    expect(seen.get('plain')).toBe('plain-kafkajs-id');
  });

  it('the header is read in any case; two of them in different cases are replaced', async () => {
    await deliverByHand('seen', {
      value: JSON.stringify({ marker: 'mixed-case' }),
      headers: { 'X-Transaction-Id': 'mixed-case-id' },
    });
    expect(seen.get('mixed-case')).toBe('mixed-case-id');
    await deliverByHand('seen', {
      value: JSON.stringify({ marker: 'two-cases' }),
      headers: { 'X-Transaction-Id': 'first-id', 'x-transaction-id': 'second-id' },
    });
    expect(seen.get('two-cases')).toMatch(UUID);
  });

  it('outside any unit of work nothing is sent', async () => {
    await firstValueFrom(client.emit('seen', { marker: 'outside' }));
    const record = produced.find(({ topic }) => topic === 'seen');
    expect(record?.message.headers).toEqual({});
    await expect.poll(() => seen.get('outside')).toMatch(UUID);
  });

  it.each([
    ['CR/LF', 'bad\r\nid'],
    ['too long', 'x'.repeat(300)],
    ['not ASCII', 'ïd-ünïcode'],
    ['JSON', '{"id":"a"}'],
    ['a leading zero byte', Buffer.from([0, 0x61, 0x62])],
    ['repeated', ['first-id', 'second-id']],
  ])('a hostile header value (%s) is replaced, never seen', async (name, value) => {
    const marker = `hostile-${name}`;
    await deliverByHand('seen', {
      value: JSON.stringify({ marker }),
      headers: { 'x-transaction-id': value as string },
    });
    expect(seen.get(marker)).toMatch(UUID);
  });

  it('a guard error is reported once, tagged with the ID', async () => {
    const id = 'kafka-7c1d2e3f-guarded';
    expect(await get('/guarded', id)).toEqual({ failed: true });
    await sentry.waitFor(() => sentry.eventsFor(id).length > 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sentry.eventsFor(id).map((event) => event.exception?.values?.[0]?.value)).toEqual([
      'guard failed',
    ]);
  });

  it('200 concurrent messages, half failing: no cross-talk, none lost, none duplicated, failures reported once', async () => {
    sentry.clear();
    const ids = Array.from({ length: 200 }, (_, i) => `kafka-load-${i}-${i % 7}`);
    const answers = await Promise.all(
      ids.map(
        (id, i) => get(`/work?fail=${i % 2}`, id) as Promise<{ id?: string; failed?: string }>,
      ),
    );
    answers.forEach((answer, i) => {
      // Nest's RPC exception filter answers an unexpected error with a generic message.
      if (i % 2 === 1) expect(answer.failed).toBe('Internal server error');
      else expect(answer).toEqual({ id: ids[i] });
    });
    const failing = ids.filter((_, i) => i % 2 === 1);
    await expectEachFailureReportedOnce(
      sentry,
      'kafka-load-',
      failing,
      (id) => `work failed for ${id}`,
    );
  });
});
