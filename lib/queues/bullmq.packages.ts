import type { ModulesContainer } from '@nestjs/core';
import { importOptional } from '../utils/import-optional.js';
import { patchProcessorDecorator } from './processor-decoration.js';

/** What the library uses of `bullmq` and `@nestjs/bullmq`, when the application has both. */
export interface BullMqPackages {
  /** BullMQ's `Queue`: providers that are instances of it forward the ID. */
  readonly Queue: abstract new (...args: never[]) => object;
  /** BullMQ's `FlowProducer`: providers that are instances of it forward the ID on every job. */
  readonly FlowProducer: abstract new (...args: never[]) => object;
  /** Fails a job for good, without retries. */
  readonly UnrecoverableError: new (message: string) => Error;
  /** The token of `@nestjs/bullmq`'s processor decorator. */
  readonly ProcessorDecoratorService: abstract new (...args: never[]) => object;
}

/** Injection token of the loaded `BullMqPackages`; `undefined` without BullMQ. */
export const BULLMQ_PACKAGES = Symbol('nestjs-transaction-id:bullmq');

/**
 * Loads BullMQ and `@nestjs/bullmq`, and makes the processor decorator hand jobs to the library,
 * when the application imports `BullModule`. A provider's factory: it runs while Nest creates
 * providers, after every module is known, before any module's init, and so before
 * `@nestjs/bullmq` makes its workers.
 */
export async function loadBullMq(modules: ModulesContainer): Promise<BullMqPackages | undefined> {
  // Not merely because it is installed: loading `bullmq` (and what it loads) leaves V8 defining
  // the properties of every `process.nextTick()` through its runtime, for the life of the process
  // (~60 k instructions per NATS round trip on Node 24, bench/README.md).
  if (![...modules.values()].some((module) => module.metatype?.name === 'BullModule')) {
    return undefined;
  }
  const nest = await importOptional<Partial<BullMqPackages>>('@nestjs/bullmq');
  if (nest?.ProcessorDecoratorService === undefined) return undefined;
  const bullmq = await importOptional<Partial<BullMqPackages>>('bullmq');
  if (
    bullmq?.Queue === undefined ||
    bullmq.FlowProducer === undefined ||
    bullmq.UnrecoverableError === undefined
  ) {
    return undefined;
  }
  patchProcessorDecorator(nest.ProcessorDecoratorService);
  return {
    Queue: bullmq.Queue,
    FlowProducer: bullmq.FlowProducer,
    UnrecoverableError: bullmq.UnrecoverableError,
    ProcessorDecoratorService: nest.ProcessorDecoratorService,
  };
}
