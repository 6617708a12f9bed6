import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import {
  Controller,
  Get,
  Injectable,
  Module,
  Query,
  type INestApplication,
  type INestApplicationContext,
  type OnModuleDestroy,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  BullModule,
  InjectFlowProducer,
  InjectQueue,
  Processor,
  WorkerHost,
  getFlowProducerToken,
} from '@nestjs/bullmq';
import { FlowProducer, Queue, type FlowJob, type Job } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  TransactionContext,
  TransactionForwarding,
  TransactionModule,
} from 'nestjs-transaction-id';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';
import { brokerReachable } from '../fixtures/broker.js';
import { expectEachFailureReportedOnce } from './support/load-reports.js';

// A producer (HTTP gateway with a queue from BullModule.registerQueue() and a flow producer from
// BullModule.registerFlowProducer()) and a worker (a standalone application with a @Processor),
// both with nothing but forRoot(), over the Redis on 127.0.0.1:6379.
const REDIS = { host: '127.0.0.1', port: 6379 };
const QUEUE = `transaction-id-${process.pid}-${Date.now()}`;
const FLOWS = `${QUEUE}-flows`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEY = 'x-transaction-id';
const reachable = await brokerReachable('Redis', `redis://${REDIS.host}:${REDIS.port}`);

interface WorkData {
  marker: string;
  /** Capture the error with Sentry before throwing it. */
  capture?: boolean;
  /** Fail the attempts before this one (1-based); `fail: true` fails every attempt. */
  failUntil?: number;
  fail?: boolean;
}

interface Attempt {
  id: string | undefined;
  data: unknown;
  opts: Record<string, unknown>;
}

/** What the processor saw, attempt by attempt, by the marker the producer put in the data. */
const attempts = new Map<string, Attempt[]>();

@Processor(QUEUE, { concurrency: 50 })
class WorkProcessor extends WorkerHost {
  constructor(private readonly transaction: TransactionContext) {
    super();
  }

  async process(job: Job<WorkData>): Promise<string | undefined> {
    const { marker } = job.data;
    // The job's own isolation scope: a tag set here must never reach another job's events.
    Sentry.setTag('marker', marker);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
    const seen = attempts.get(marker) ?? [];
    seen.push({ id: this.transaction.id, data: job.data, opts: { ...job.opts } });
    attempts.set(marker, seen);
    if (job.data.fail || seen.length < (job.data.failUntil ?? 0)) {
      const error = new Error(`job failed for ${marker}`);
      if (job.data.capture) Sentry.captureException(error);
      throw error;
    }
    return this.transaction.id;
  }
}

@Module({
  imports: [
    TransactionModule.forRoot(),
    BullModule.forRoot({ connection: REDIS }),
    BullModule.registerQueue({ name: QUEUE }),
  ],
  providers: [WorkProcessor],
})
class WorkerModule {}

@Injectable()
class HandMadeQueue {
  private queue: Queue | undefined;

  constructor(private readonly forwarding: TransactionForwarding) {}

  get(): Queue {
    this.queue ??= this.forwarding.forward(new Queue(QUEUE, { connection: REDIS }));
    return this.queue;
  }
}

@Injectable()
class HandMadeFlowProducer implements OnModuleDestroy {
  private flows: FlowProducer | undefined;

  constructor(private readonly forwarding: TransactionForwarding) {}

  get(): FlowProducer {
    this.flows ??= this.forwarding.forward(new FlowProducer({ connection: REDIS }));
    return this.flows;
  }

  async onModuleDestroy(): Promise<void> {
    await this.flows?.close();
  }
}

/**
 * A parent job, its child and the child's child, all on QUEUE, each leaving one Sentry event: the
 * child and the grandchild fail the first of two attempts, then the parent (run once both are
 * done) fails its only one. `own` is the child's own ID option.
 */
function flowOf(marker: string, own?: string): FlowJob {
  return {
    name: 'work',
    queueName: QUEUE,
    data: { marker: `${marker}-parent`, fail: true },
    children: [
      {
        name: 'work',
        queueName: QUEUE,
        data: { marker: `${marker}-child`, failUntil: 2 },
        opts: { attempts: 2, ...(own === undefined ? {} : { [KEY]: own }) },
        children: [
          {
            name: 'work',
            queueName: QUEUE,
            data: { marker: `${marker}-grandchild`, failUntil: 2 },
            opts: { attempts: 2 },
          },
        ],
      },
    ],
  };
}

@Controller()
class GatewayController {
  constructor(
    @InjectQueue(QUEUE) private readonly queue: Queue,
    @InjectFlowProducer(FLOWS) private readonly flows: FlowProducer,
    private readonly handMade: HandMadeQueue,
    private readonly handMadeFlows: HandMadeFlowProducer,
  ) {}

  @Get('enqueue')
  async enqueue(
    @Query('marker') marker: string,
    @Query('fail') fail?: string,
    @Query('failUntil') failUntil?: string,
    @Query('own') own?: string,
  ) {
    const data: WorkData =
      failUntil === undefined ? { marker, fail: fail === '1' } : { marker, failUntil: +failUntil };
    const opts = {
      attempts: failUntil === undefined ? 1 : +failUntil,
      removeOnComplete: true,
      removeOnFail: true,
      ...(own === undefined ? {} : { [KEY]: own }),
    };
    await this.queue.add('work', data, opts);
    return {};
  }

  @Get('enqueue-bulk')
  async enqueueBulk(@Query('marker') marker: string) {
    await this.queue.addBulk([
      { name: 'work', data: { marker: `${marker}-1` } },
      { name: 'work', data: { marker: `${marker}-2` } },
    ]);
    return {};
  }

  @Get('hand-made')
  async handMadeAdd(@Query('marker') marker: string) {
    await this.handMade.get().add('work', { marker }, { removeOnComplete: true });
    return {};
  }

  @Get('flow')
  async addFlow(
    @Query('marker') marker: string,
    @Query('own') own?: string,
    @Query('hand-made') handMade?: string,
  ) {
    const flows = handMade === undefined ? this.flows : this.handMadeFlows.get();
    await flows.add(flowOf(marker, own));
    return {};
  }

  @Get('flow-bulk')
  async addFlows(@Query('marker') marker: string) {
    await this.flows.addBulk([flowOf(`${marker}-1`), flowOf(`${marker}-2`)]);
    return {};
  }
}

@Module({
  imports: [
    TransactionModule.forRoot(),
    BullModule.forRoot({ connection: REDIS }),
    BullModule.registerQueue({ name: QUEUE }),
    BullModule.registerFlowProducer({ name: FLOWS }),
  ],
  controllers: [GatewayController],
  providers: [HandMadeQueue, HandMadeFlowProducer],
})
class GatewayModule {}

// A worker whose module refuses invalid IDs (`invalid: 'reject'`).
const STRICT_QUEUE = `${QUEUE}-strict`;
const strictCalls: string[] = [];

@Processor(STRICT_QUEUE)
class StrictProcessor extends WorkerHost {
  async process(job: Job<WorkData>): Promise<void> {
    strictCalls.push(job.data.marker);
  }
}

@Module({
  imports: [
    TransactionModule.forRoot({ invalid: 'reject' }),
    BullModule.forRoot({ connection: REDIS }),
    BullModule.registerQueue({ name: STRICT_QUEUE }),
  ],
  providers: [StrictProcessor],
})
class StrictWorkerModule {}

let sentry: SentryEnvelopeServer;
let worker: INestApplicationContext;
let strictWorker: INestApplicationContext;
let strict: Queue;
let gateway: INestApplication;
let plain: Queue;
let url: string;

beforeAll(async () => {
  if (!reachable) return;
  sentry = await SentryEnvelopeServer.start();
  Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1) }));
  worker = await NestFactory.createApplicationContext(WorkerModule, {
    logger: false,
    abortOnError: false,
  });
  await worker.init();
  strictWorker = await NestFactory.createApplicationContext(StrictWorkerModule, {
    logger: false,
    abortOnError: false,
  });
  await strictWorker.init();
  strict = new Queue(STRICT_QUEUE, { connection: REDIS });
  gateway = await NestFactory.create(GatewayModule, { logger: false, abortOnError: false });
  await gateway.listen(0, '127.0.0.1');
  url = await gateway.getUrl();
  plain = new Queue(QUEUE, { connection: REDIS });
});

afterAll(async () => {
  if (!reachable) return;
  await gateway?.close();
  await worker?.close();
  await strictWorker?.close();
  await strict?.obliterate({ force: true }).catch(() => undefined);
  await strict?.close();
  await plain?.obliterate({ force: true }).catch(() => undefined);
  await plain?.close();
  await Sentry.close(2_000);
  await sentry?.close();
});

beforeEach(() => attempts.clear());

async function get(path: string, id?: string): Promise<void> {
  const headers = id === undefined ? undefined : { [KEY]: id };
  const response = await fetch(`${url}${path}`, { headers });
  expect(response.status).toBe(200);
}

/** The attempts of `marker`'s job, once it has made `count`. */
async function attemptsOf(marker: string, count = 1): Promise<Attempt[]> {
  await expect.poll(() => attempts.get(marker)?.length ?? 0, { timeout: 10_000 }).toBe(count);
  return attempts.get(marker)!;
}

/** The IDs `flowOf(marker)`'s jobs ran under, attempt by attempt, once all have run. */
async function flowIds(marker: string) {
  return {
    parent: (await attemptsOf(`${marker}-parent`)).map((attempt) => attempt.id),
    child: (await attemptsOf(`${marker}-child`, 2)).map((attempt) => attempt.id),
    grandchild: (await attemptsOf(`${marker}-grandchild`, 2)).map((attempt) => attempt.id),
  };
}

describe.skipIf(!reachable)('BullMQ', () => {
  it("a job added in a request runs under the request's ID, with exactly the data it was given", async () => {
    const id = 'bullmq-4e5f6a7b-add';
    await get('/enqueue?marker=add', id);
    const [attempt] = await attemptsOf('add');
    expect(attempt.id).toBe(id);
    expect(attempt.data).toEqual({ marker: 'add', fail: false });
    expect(attempt.opts[KEY]).toBe(id);
  });

  it('addBulk() carries the ID on every job', async () => {
    const id = 'bullmq-4e5f6a7b-bulk';
    await get('/enqueue-bulk?marker=bulk', id);
    expect((await attemptsOf('bulk-1'))[0].id).toBe(id);
    expect((await attemptsOf('bulk-2'))[0].id).toBe(id);
  });

  it('retries keep the ID', async () => {
    const id = 'bullmq-4e5f6a7b-retry';
    await get('/enqueue?marker=retry&failUntil=3', id);
    const seen = await attemptsOf('retry', 3);
    expect(seen.map((attempt) => attempt.id)).toEqual([id, id, id]);
  });

  it('an ID the producer set in the job options wins', async () => {
    await get('/enqueue?marker=own&own=producer-own-id', 'bullmq-4e5f6a7b-gateway');
    expect((await attemptsOf('own'))[0].id).toBe('producer-own-id');
  });

  it('a queue made by hand forwards after TransactionForwarding.forward()', async () => {
    const id = 'bullmq-4e5f6a7b-hand-made';
    await get('/hand-made?marker=hand-made', id);
    expect((await attemptsOf('hand-made'))[0].id).toBe(id);
  });

  it("a flow added in a request runs under the request's ID, every job of it, each failure reported with its tag", async () => {
    const id = 'bullmq-4e5f6a7b-flow';
    await get('/flow?marker=flow', id);
    expect(await flowIds('flow')).toEqual({ parent: [id], child: [id, id], grandchild: [id, id] });
    await sentry.waitFor(() => sentry.eventsFor(id).length >= 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const reported = sentry.eventsFor(id).map((event) => ({
      marker: event.tags?.marker,
      message: event.exception?.values?.[0]?.value,
    }));
    expect(reported).toHaveLength(3);
    expect(reported).toEqual(
      expect.arrayContaining(
        ['flow-parent', 'flow-child', 'flow-grandchild'].map((marker) => ({
          marker,
          message: `job failed for ${marker}`,
        })),
      ),
    );
  });

  it('addBulk() on a flow producer carries the ID on every job of every flow', async () => {
    const id = 'bullmq-4e5f6a7b-flow-bulk';
    await get('/flow-bulk?marker=flow-bulk', id);
    const all = { parent: [id], child: [id, id], grandchild: [id, id] };
    expect(await flowIds('flow-bulk-1')).toEqual(all);
    expect(await flowIds('flow-bulk-2')).toEqual(all);
  });

  it("an ID a flow's job carries in its own options wins, for that job only", async () => {
    const id = 'bullmq-4e5f6a7b-flow-gateway';
    await get('/flow?marker=flow-own&own=flow-own-id', id);
    expect(await flowIds('flow-own')).toEqual({
      parent: [id],
      child: ['flow-own-id', 'flow-own-id'],
      grandchild: [id, id],
    });
  });

  it('a flow producer made by hand forwards after TransactionForwarding.forward()', async () => {
    const id = 'bullmq-4e5f6a7b-flow-hand-made';
    await get('/flow?marker=flow-hand-made&hand-made=1', id);
    expect(await flowIds('flow-hand-made')).toEqual({
      parent: [id],
      child: [id, id],
      grandchild: [id, id],
    });
  });

  it('a flow added outside any unit of work carries nothing, and each job gets an ID of its own', async () => {
    const flows = gateway.get<FlowProducer>(getFlowProducerToken(FLOWS));
    await flows.add(flowOf('flow-outside'));
    await flowIds('flow-outside');
    const seen = ['parent', 'child', 'grandchild'].flatMap((node) =>
      attempts.get(`flow-outside-${node}`)!,
    );
    for (const attempt of seen) {
      expect(attempt.opts[KEY]).toBeUndefined();
      expect(attempt.id).toMatch(UUID);
    }
  });

  it('a job a plain BullMQ producer added with the option set by hand is read', async () => {
    await plain.add('work', { marker: 'plain' }, { [KEY]: 'plain-bullmq-id' } as object);
    expect((await attemptsOf('plain'))[0].id).toBe('plain-bullmq-id');
  });

  it('outside any unit of work nothing is sent, and the job gets an ID of its own', async () => {
    const queue = gateway.get<Queue>(`BullQueue_${QUEUE}`);
    await queue.add('work', { marker: 'outside' });
    const [attempt] = await attemptsOf('outside');
    expect(attempt.opts[KEY]).toBeUndefined();
    expect(attempt.id).toMatch(UUID);
  });

  it.each([
    ['CR/LF', 'bad\r\nid'],
    ['too long', 'x'.repeat(300)],
    ['not ASCII', 'ïd-ünïcode'],
    ['a number', 42],
    ['an array', ['first-id', 'second-id']],
  ])('a hostile value (%s) is replaced, never seen', async (name, value) => {
    const marker = `hostile-${name}`;
    await plain.add('work', { marker }, { [KEY]: value } as object);
    expect((await attemptsOf(marker))[0].id).toMatch(UUID);
  });

  it("with invalid: 'reject', a job with an invalid ID fails for good, never processed", async () => {
    const refused = await strict.add('work', { marker: 'refused' }, {
      attempts: 3,
      [KEY]: 'bad id',
    } as object);
    const accepted = await strict.add('work', { marker: 'accepted' }, {
      [KEY]: 'strict-good-id',
    } as object);
    await expect.poll(() => strict.getJobState(refused.id!), { timeout: 10_000 }).toBe('failed');
    const job = await strict.getJob(refused.id!);
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toContain('not a valid transaction ID');
    await expect
      .poll(() => strict.getJobState(accepted.id!), { timeout: 10_000 })
      .toBe('completed');
    expect(strictCalls).toEqual(['accepted']);
  });

  it('an error the processor captured itself is not reported again', async () => {
    const id = 'bullmq-4e5f6a7b-captured';
    await plain.add('work', { marker: 'captured', fail: true, capture: true }, {
      [KEY]: id,
    } as object);
    await attemptsOf('captured');
    await sentry.waitFor(() => sentry.eventsFor(id).length > 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sentry.eventsFor(id).map((event) => event.exception?.values?.[0]?.value)).toEqual([
      'job failed for captured',
    ]);
  });

  it('200 concurrent jobs, half failing: no cross-talk, none lost, none duplicated, failures reported once', async () => {
    sentry.clear();
    const ids = Array.from({ length: 200 }, (_, i) => `bullmq-load-${i}-${i % 7}`);
    await Promise.all(ids.map((id, i) => get(`/enqueue?marker=${id}&fail=${i % 2}`, id)));
    await expect.poll(() => attempts.size, { timeout: 20_000 }).toBe(200);
    for (const id of ids) expect(attempts.get(id)?.map((attempt) => attempt.id)).toEqual([id]);
    const failing = ids.filter((_, i) => i % 2 === 1);
    await expectEachFailureReportedOnce(
      sentry,
      'bullmq-load-',
      failing,
      (id) => `job failed for ${id}`,
    );
  });
});
