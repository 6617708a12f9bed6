import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { RESOLVED_TRANSACTION_OPTIONS } from '../transaction.internal-constants.js';
import type { ResolvedTransactionOptions } from '../options/transaction-options.js';
import { REJECTED } from '../id/transaction-id.policy.js';
import { UnitOfWork } from '../context/unit-of-work.js';
import { forwardableId } from '../http/propagation-targets.js';
import { BULLMQ_PACKAGES, type BullMqPackages } from './bullmq.packages.js';
import { readJobId, withFlowId, withJobId } from './job-options.carrier.js';
import {
  claimProcessorDecorators,
  type JobProcessor,
  type JobRunner,
} from './processor-decoration.js';

/** The part of BullMQ's `Queue` that adds jobs. */
interface JobQueue {
  add(name: string, data: unknown, opts?: unknown): Promise<unknown>;
  addBulk(jobs: ReadonlyArray<{ name: string; data: unknown; opts?: unknown }>): Promise<unknown>;
}

/** The part of BullMQ's `FlowProducer` that adds flows. */
interface FlowAdder {
  add(flow: unknown, opts?: unknown): Promise<unknown>;
  addBulk(flows: readonly unknown[]): Promise<unknown>;
}

/** Marks queues and flow producers this library forwards from already. */
const BOUND = Symbol.for('nestjs-transaction-id:bound');

// Jobs are work of the same system, not calls to other services: `propagationTargets`, which
// lists services, does not filter them.
const currentId = () => forwardableId(undefined, undefined);

/** Makes `queue`'s `add()` and `addBulk()` put the current ID on the options of each job. */
function stampJobs(queue: JobQueue, key: string): void {
  const { add, addBulk } = queue;
  queue.add = function (this: JobQueue, name, data, opts) {
    return add.call(this, name, data, withJobId(opts, key, currentId()));
  };
  queue.addBulk = function (this: JobQueue, jobs) {
    const id = currentId();
    if (id === undefined || !Array.isArray(jobs)) return addBulk.call(this, jobs);
    return addBulk.call(
      this,
      jobs.map((job) => ({ ...job, opts: withJobId(job?.opts, key, id) })),
    );
  };
}

/** Makes `producer`'s `add()` and `addBulk()` put the current ID on every job of each flow. */
function stampFlows(producer: FlowAdder, key: string): void {
  const { add, addBulk } = producer;
  producer.add = function (this: FlowAdder, flow, opts) {
    return add.call(this, withFlowId(flow, key, currentId()), opts);
  };
  producer.addBulk = function (this: FlowAdder, flows) {
    const id = currentId();
    if (id === undefined || !Array.isArray(flows)) return addBulk.call(this, flows);
    return addBulk.call(
      this,
      flows.map((flow) => withFlowId(flow, key, id)),
    );
  };
}

/**
 * Carries the transaction ID through `@nestjs/bullmq` queues, with no code in the application.
 * Queues and flow producers registered as providers (`BullModule.registerQueue()`,
 * `BullModule.registerFlowProducer()`) put the current ID on every job they add;
 * `TransactionForwarding.forward()` does the same for ones made by hand. Every job of a
 * `@Processor` runs as a unit of work of its own, under the ID its job carries, in the isolation
 * scope `@sentry/nestjs` forked for it where it did (a fresh one otherwise); an error the
 * processor throws is reported once, tagged, for each attempt it fails.
 */
@Injectable()
export class BullMqBinding implements JobRunner, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('TransactionModule');
  private readonly key: string;
  private release: (() => void) | undefined;

  constructor(
    private readonly modules: ModulesContainer,
    private readonly work: UnitOfWork,
    @Inject(RESOLVED_TRANSACTION_OPTIONS) private readonly options: ResolvedTransactionOptions,
    @Optional() @Inject(BULLMQ_PACKAGES) private readonly bullmq?: BullMqPackages,
  ) {
    this.key = options.header;
    if (bullmq === undefined) return;
    // Claimed now, while Nest creates providers: `@nestjs/bullmq` decorates its processors in
    // its own module init, which runs before the library's.
    const decorators = [...modules.values()].flatMap((module) => {
      const wrapper = module.providers.get(bullmq.ProcessorDecoratorService);
      return wrapper === undefined ? [] : [wrapper];
    });
    if (decorators.length === 0) return;
    this.release = claimProcessorDecorators({
      owns: (decorator) => decorators.some((wrapper) => wrapper.instance === decorator),
      runner: this,
    });
  }

  onModuleInit(): void {
    if (this.bullmq === undefined) return;
    for (const module of this.modules.values()) {
      for (const { instance } of module.providers.values()) this.forward(instance);
    }
  }

  onApplicationShutdown(): void {
    this.release?.();
    this.release = undefined;
  }

  /**
   * Makes `producer` put the current transaction ID on every job it adds: a BullMQ `Queue`, or a
   * `FlowProducer` (every job of every flow); `false` when it is neither. Forwarding a producer
   * twice changes nothing.
   */
  forward(producer: unknown): boolean {
    const { Queue, FlowProducer } = this.bullmq ?? {};
    const isQueue = Queue !== undefined && producer instanceof Queue;
    if (!isQueue && !(FlowProducer !== undefined && producer instanceof FlowProducer)) {
      return false;
    }
    const target = producer as { [BOUND]?: true };
    if (target[BOUND]) return true;
    target[BOUND] = true;
    if (isQueue) stampJobs(producer as JobQueue, this.key);
    else stampFlows(producer as FlowAdder, this.key);
    return true;
  }

  /** Runs one attempt of a job as its unit of work. */
  runJob(processor: JobProcessor, args: unknown[]): unknown {
    const [job] = args;
    const store = this.work.settle(readJobId(job, this.key), { transport: 'bullmq', context: job });
    if (store === REJECTED) {
      const name = (job as { name?: unknown } | undefined)?.name;
      this.logger.warn(`A BullMQ job (${String(name)}) with an invalid ${this.key} was refused.`);
      // Refused for good: a retry would carry the same value.
      return Promise.reject(
        new this.bullmq!.UnrecoverableError(
          `nestjs-transaction-id: the job's ${this.key} is not a valid transaction ID.`,
        ),
      );
    }
    return this.work.adopt(store, () => this.attempt(processor, args));
  }

  private async attempt(processor: JobProcessor, args: unknown[]): Promise<unknown> {
    try {
      return await processor(...args);
    } catch (error) {
      // Nest's exception filters never see a processor's errors.
      this.work.reportUnhandled(error);
      throw error;
    }
  }
}
