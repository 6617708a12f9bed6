import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import * as Sentry from '@sentry/node';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  Query,
  UseGuards,
  type CanActivate,
  type INestApplication,
  type OnModuleInit,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientProxyFactory,
  ClientsModule,
  GrpcMethod,
  GrpcStreamCall,
  GrpcStreamMethod,
  Transport,
  type ClientGrpc,
  type GrpcOptions,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import {
  firstValueFrom,
  from,
  interval,
  lastValueFrom,
  map,
  take,
  toArray,
  type Observable,
} from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TransactionContext,
  TransactionForwarding,
  TransactionModule,
} from 'nestjs-transaction-id';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';
import { expectEachFailureReportedOnce } from './support/load-reports.js';

// A real gRPC server (ServerGrpc) and real clients (ClientGrpcProxy from a stock ClientsModule,
// one made by hand, a plain @grpc/grpc-js client) over 127.0.0.1.
const PROTO = fileURLToPath(new URL('../fixtures/grpc/echo.proto', import.meta.url));
const ADDRESS = '127.0.0.1:39623';
const GRPC: GrpcOptions['options'] = { package: 'echo', protoPath: PROTO, url: ADDRESS };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEY = 'x-transaction-id';

interface Probe {
  marker?: string;
}
interface Seen {
  id: string;
  sent: string;
  marker: string;
}
interface EchoService {
  whoAmI(probe: Probe, metadata?: grpc.Metadata): Observable<Seen>;
  work(job: { expected: string; fail: boolean }): Observable<Seen>;
  guarded(probe: Probe): Observable<Seen>;
  stream(probe: Probe): Observable<Seen>;
  collect(probes: Observable<Probe>): Observable<Seen>;
  tally(probes: Observable<Probe>): Observable<Seen>;
  chat(probes: Observable<Probe>): Observable<Seen>;
}

function sentValue(metadata: grpc.Metadata): string {
  return String(metadata.get(KEY)[0] ?? '');
}

class FailingGuard implements CanActivate {
  canActivate(): boolean {
    throw new Error('guard failed');
  }
}

@Controller()
class EchoController {
  constructor(private readonly transaction: TransactionContext) {}

  @GrpcMethod('EchoService', 'WhoAmI')
  whoAmI(probe: Probe, metadata: grpc.Metadata): Seen {
    return { id: this.transaction.id ?? '', sent: sentValue(metadata), marker: probe.marker ?? '' };
  }

  @GrpcMethod('EchoService', 'Guarded')
  @UseGuards(FailingGuard)
  guarded(): Seen {
    return { id: '', sent: '', marker: 'reached' };
  }

  @GrpcMethod('EchoService', 'Work')
  async work(job: { expected: string; fail: boolean }): Promise<Seen> {
    // The call's own isolation scope: a tag set here must never reach another call's events.
    Sentry.setTag('marker', job.expected);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
    if (job.fail) throw new Error(`work failed for ${job.expected}`);
    return { id: this.transaction.id ?? '', sent: '', marker: job.expected };
  }

  @GrpcMethod('EchoService', 'Stream')
  stream(probe: Probe, metadata: grpc.Metadata): Observable<Seen> {
    // Each reply is made on a timer, long after the call started.
    return interval(5).pipe(
      take(3),
      map((i) => ({
        id: this.transaction.id ?? '',
        sent: sentValue(metadata),
        marker: `${probe.marker}-${i}`,
      })),
    );
  }

  @GrpcStreamMethod('EchoService', 'Collect')
  collect(probes: Observable<Probe>, metadata: grpc.Metadata): Observable<Seen> {
    // Each request message arrives as an event of the call's stream.
    return probes.pipe(
      map((probe) => {
        if (probe.marker === 'boom') throw new Error('stream message failed');
        return `${probe.marker}=${this.transaction.id ?? ''}`;
      }),
      toArray(),
      map((seen) => ({
        id: this.transaction.id ?? '',
        sent: sentValue(metadata),
        marker: seen.join(' '),
      })),
    );
  }

  @GrpcStreamCall('EchoService', 'Tally')
  tally(
    call: grpc.ServerReadableStream<Probe, Seen>,
    callback: (error: Error | null, seen: Seen) => void,
  ): void {
    // The handler reads the call's events itself.
    const seen: string[] = [];
    call.on('data', (probe: Probe) => seen.push(`${probe.marker}=${this.transaction.id ?? ''}`));
    call.on('end', () =>
      callback(null, {
        id: this.transaction.id ?? '',
        sent: sentValue(call.metadata),
        marker: seen.join(' '),
      }),
    );
  }

  @GrpcStreamMethod('EchoService', 'Chat')
  chat(probes: Observable<Probe>, metadata: grpc.Metadata): Observable<Seen> {
    return probes.pipe(
      map((probe) => ({
        id: this.transaction.id ?? '',
        sent: sentValue(metadata),
        marker: probe.marker ?? '',
      })),
    );
  }
}

@Module({ imports: [TransactionModule.forRoot()], controllers: [EchoController] })
class ReceiverModule {}

@Injectable()
class HandMadeClient implements OnModuleInit {
  echo!: EchoService;

  constructor(private readonly forwarding: TransactionForwarding) {}

  onModuleInit(): void {
    const client = ClientProxyFactory.create({ transport: Transport.GRPC, options: GRPC });
    this.echo = this.forwarding
      .forward(client as ClientGrpc)
      .getService<EchoService>('EchoService');
  }
}

/** Metadata an application passes to many calls. */
const REUSED_METADATA = new grpc.Metadata();
REUSED_METADATA.set('x-other', 'kept');

@Controller()
class GatewayController implements OnModuleInit {
  echo!: EchoService;

  constructor(
    @Inject('ECHO') private readonly client: ClientGrpc,
    private readonly handMade: HandMadeClient,
  ) {}

  onModuleInit(): void {
    this.echo = this.client.getService<EchoService>('EchoService');
  }

  @Get('whoami')
  whoami() {
    return firstValueFrom(this.echo.whoAmI({ marker: 'gateway' }));
  }

  @Get('own')
  own() {
    const metadata = new grpc.Metadata();
    metadata.set(KEY, 'caller-own-id');
    metadata.set('x-other', 'kept');
    return firstValueFrom(this.echo.whoAmI({ marker: 'own' }, metadata));
  }

  @Get('reused-metadata')
  reusedMetadata() {
    return firstValueFrom(this.echo.whoAmI({ marker: 'reused' }, REUSED_METADATA));
  }

  @Get('hand-made')
  handMadeCall() {
    return firstValueFrom(this.handMade.echo.whoAmI({ marker: 'hand-made' }));
  }

  @Get('stream')
  stream() {
    return lastValueFrom(this.echo.stream({ marker: 's' }).pipe(toArray()));
  }

  @Get('collect')
  collect() {
    return firstValueFrom(this.echo.collect(from([{ marker: 'a' }, { marker: 'b' }])));
  }

  @Get('tally')
  tally() {
    return firstValueFrom(this.echo.tally(from([{ marker: 'a' }, { marker: 'b' }])));
  }

  @Get('collect-boom')
  collectBoom() {
    const probes = from([{ marker: 'a' }, { marker: 'boom' }]);
    return firstValueFrom(this.echo.collect(probes)).catch(() => ({ failed: true }));
  }

  @Get('chat')
  chat() {
    return lastValueFrom(this.echo.chat(from([{ marker: 'a' }, { marker: 'b' }])).pipe(toArray()));
  }

  @Get('guarded')
  guarded() {
    return firstValueFrom(this.echo.guarded({})).catch(() => ({ failed: true }));
  }

  @Get('work')
  work(@Query('fail') fail: string) {
    const expected = TransactionContextHolder.id();
    return firstValueFrom(this.echo.work({ expected, fail: fail === '1' })).catch(
      (error: unknown) => ({ failed: String((error as { details?: string })?.details ?? error) }),
    );
  }
}

/** The gateway's current ID, for the payload of the load test. */
const TransactionContextHolder = { id: (): string => '' };

@Module({
  imports: [
    TransactionModule.forRoot(),
    ClientsModule.register([{ name: 'ECHO', transport: Transport.GRPC, options: GRPC }]),
  ],
  controllers: [GatewayController],
  providers: [HandMadeClient],
})
class GatewayModule {}

let sentry: SentryEnvelopeServer;
let receiver: INestApplication;
let gateway: INestApplication;
let url: string;
let plain: grpc.Client & Record<string, (...args: unknown[]) => unknown>;

beforeAll(async () => {
  sentry = await SentryEnvelopeServer.start();
  Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1) }));
  const microservice = await NestFactory.createMicroservice<MicroserviceOptions>(ReceiverModule, {
    transport: Transport.GRPC,
    options: GRPC,
    logger: false,
    abortOnError: false,
  });
  await microservice.listen();
  receiver = microservice as unknown as INestApplication;
  gateway = await NestFactory.create(GatewayModule, { logger: false, abortOnError: false });
  await gateway.listen(0, '127.0.0.1');
  url = await gateway.getUrl();
  const context = gateway.get(TransactionContext);
  TransactionContextHolder.id = () => context.id ?? '';
  const definition = grpc.loadPackageDefinition(loadSync(PROTO)) as unknown as {
    echo: {
      EchoService: new (address: string, credentials: grpc.ChannelCredentials) => typeof plain;
    };
  };
  plain = new definition.echo.EchoService(ADDRESS, grpc.credentials.createInsecure());
});

afterAll(async () => {
  plain?.close();
  await gateway?.close();
  await receiver?.close();
  await Sentry.close(2_000);
  await sentry?.close();
});

async function get<T>(path: string, id?: string): Promise<T> {
  const headers = id === undefined ? undefined : { [KEY]: id };
  const response = await fetch(`${url}${path}`, { headers });
  return (await response.json()) as T;
}

/** A unary call of the plain @grpc/grpc-js client with `metadata`. */
function plainWhoAmI(metadata: grpc.Metadata): Promise<Seen> {
  return new Promise((resolve, reject) => {
    plain.whoAmI({ marker: 'plain' }, metadata, (error: Error | null, seen: Seen) =>
      error ? reject(error) : resolve(seen),
    );
  });
}

describe('gRPC', () => {
  it("a unary handler sees the gateway's ID, sent in call metadata", async () => {
    const id = 'grpc-5a1b2c3d-unary';
    expect(await get<Seen>('/whoami', id)).toEqual({ id, sent: id, marker: 'gateway' });
  });

  it("a caller's own Metadata keeps its value and its other keys", async () => {
    const seen = await get<Seen>('/own', 'grpc-5a1b2c3d-gateway');
    expect(seen).toEqual({ id: 'caller-own-id', sent: 'caller-own-id', marker: 'own' });
  });

  it("a caller's Metadata without the key carries the ID in a copy, never changed", async () => {
    const id = 'grpc-5a1b2c3d-reused';
    expect(await get<Seen>('/reused-metadata', id)).toEqual({ id, sent: id, marker: 'reused' });
    expect(REUSED_METADATA.getMap()).toEqual({ 'x-other': 'kept' });
  });

  it('a client made by hand forwards after TransactionForwarding.forward()', async () => {
    const id = 'grpc-5a1b2c3d-hand-made';
    expect(await get<Seen>('/hand-made', id)).toEqual({ id, sent: id, marker: 'hand-made' });
  });

  it('a server-streaming handler sees the ID in every reply', async () => {
    const id = 'grpc-5a1b2c3d-stream';
    const seen = await get<Seen[]>('/stream', id);
    expect(seen.map((reply) => reply.id)).toEqual([id, id, id]);
  });

  it('a client-streaming handler sees the ID for the call and for every message', async () => {
    const id = 'grpc-5a1b2c3d-collect';
    const seen = await get<Seen>('/collect', id);
    expect(seen).toEqual({ id, sent: id, marker: `a=${id} b=${id}` });
  });

  it('a @GrpcStreamCall handler sees the ID in the events of its call', async () => {
    const id = 'grpc-5a1b2c3d-tally';
    const seen = await get<Seen>('/tally', id);
    expect(seen).toEqual({ id, sent: id, marker: `a=${id} b=${id}` });
  });

  it('an error raised by a message of a request stream is reported once, tagged', async () => {
    const id = 'grpc-5a1b2c3d-collect-boom';
    expect(await get('/collect-boom', id)).toEqual({ failed: true });
    await sentry.waitFor(() => sentry.eventsFor(id).length > 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sentry.eventsFor(id).map((event) => event.exception?.values?.[0]?.value)).toEqual([
      'stream message failed',
    ]);
  });

  it('a bidirectional-streaming handler sees the ID for every message', async () => {
    const id = 'grpc-5a1b2c3d-chat';
    const seen = await get<Seen[]>('/chat', id);
    expect(seen).toEqual([
      { id, sent: id, marker: 'a' },
      { id, sent: id, marker: 'b' },
    ]);
  });

  it('a plain @grpc/grpc-js client with the metadata set by hand is read', async () => {
    const metadata = new grpc.Metadata();
    metadata.set(KEY, 'plain-grpc-id');
    expect((await plainWhoAmI(metadata)).id).toBe('plain-grpc-id');
  });

  it('outside any unit of work nothing is sent', async () => {
    const controller = gateway.get(GatewayController);
    const seen = await firstValueFrom(controller.echo.whoAmI({ marker: 'outside' }));
    expect(seen.sent).toBe('');
    expect(seen.id).toMatch(UUID);
  });

  it.each([
    ['too long', ['x'.repeat(300)]],
    ['forbidden characters', ['<script>alert(1)</script>']],
    ['repeated', ['first-id', 'second-id']],
  ])('a hostile metadata value (%s) is replaced, never seen', async (_name, values) => {
    const metadata = new grpc.Metadata();
    for (const value of values) metadata.add(KEY, value);
    const seen = await plainWhoAmI(metadata);
    expect(seen.id).toMatch(UUID);
  });

  it('a guard error is reported once, tagged with the ID', async () => {
    const id = 'grpc-5a1b2c3d-guarded';
    expect(await get('/guarded', id)).toEqual({ failed: true });
    await sentry.waitFor(() => sentry.eventsFor(id).length > 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sentry.eventsFor(id).map((event) => event.exception?.values?.[0]?.value)).toEqual([
      'guard failed',
    ]);
  });

  it('200 concurrent calls, half failing: no cross-talk, none lost, none duplicated, failures reported once', async () => {
    sentry.clear();
    const ids = Array.from({ length: 200 }, (_, i) => `grpc-load-${i}-${i % 7}`);
    const answers = await Promise.all(
      ids.map((id, i) => get<Partial<Seen> & { failed?: string }>(`/work?fail=${i % 2}`, id)),
    );
    answers.forEach((answer, i) => {
      if (i % 2 === 1) expect(answer.failed).toBeDefined();
      else expect(answer).toMatchObject({ id: ids[i], marker: ids[i] });
    });
    const failing = ids.filter((_, i) => i % 2 === 1);
    await expectEachFailureReportedOnce(
      sentry,
      'grpc-load-',
      failing,
      (id) => `work failed for ${id}`,
    );
  });
});
