/** A BullMQ processor function: `(job, token, signal)`. */
export type JobProcessor = (...args: unknown[]) => unknown;

/** Runs every job of the processors of one application. */
export interface JobRunner {
  runJob(processor: JobProcessor, args: unknown[]): unknown;
}

/** The decorator instances (`ProcessorDecoratorService`) of one application, and its runner. */
interface Claim {
  owns(decorator: object): boolean;
  readonly runner: JobRunner;
}

const claims = new Set<Claim>();
const PATCHED = Symbol.for('nestjs-transaction-id:processor-decorator');

/**
 * Makes `ProcessorDecoratorService#decorate()` of `@nestjs/bullmq`, which decorates every
 * processor when its worker is made, hand each job to the runner of the application the decorator
 * belongs to. Patched on the class once, before any module's init (workers are made in
 * `@nestjs/bullmq`'s, which runs before the library's): several applications in one process
 * (tests, a producer beside a worker) each keep their own runner. A decorator of an application
 * without the library decorates as before.
 */
export function patchProcessorDecorator(type: unknown): void {
  const prototype = (type as { prototype?: Record<PropertyKey, unknown> } | undefined)?.prototype;
  const decorate = prototype?.decorate;
  if (prototype === undefined || typeof decorate !== 'function' || prototype[PATCHED]) return;
  prototype[PATCHED] = true;
  prototype.decorate = function (this: object, processor: JobProcessor) {
    const decorated: unknown = decorate.call(this, processor);
    const runner = runnerOf(this);
    if (runner === undefined || typeof decorated !== 'function') return decorated;
    return (...args: unknown[]) => runner.runJob(decorated as JobProcessor, args);
  };
}

/** Registers an application's decorators and runner; returns what undoes it. */
export function claimProcessorDecorators(claim: Claim): () => void {
  claims.add(claim);
  return () => claims.delete(claim);
}

function runnerOf(decorator: object): JobRunner | undefined {
  for (const claim of claims) if (claim.owns(decorator)) return claim.runner;
  return undefined;
}
