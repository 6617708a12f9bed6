import 'reflect-metadata';
import { Test, type TestingModule } from '@nestjs/testing';
import { firstValueFrom, type Observable } from 'rxjs';
import {
  TransactionContext,
  TransactionHttpError,
  TransactionHttpService,
  TransactionModule,
  type TransactionModuleOptions,
} from '../../../lib/index.js';

/** `TransactionHttpService` and `TransactionContext` from a real Nest testing module. */
export interface HttpClientHarness {
  http: TransactionHttpService;
  context: TransactionContext;
  close(): Promise<void>;
}

/** Compiles `TransactionModule.forRoot(options)` as an application would import it. */
export async function createHttpClient(
  options?: TransactionModuleOptions,
): Promise<HttpClientHarness> {
  const moduleRef: TestingModule = await Test.createTestingModule({
    imports: [TransactionModule.forRoot(options)],
  }).compile();
  return {
    http: moduleRef.get(TransactionHttpService),
    context: moduleRef.get(TransactionContext),
    close: () => moduleRef.close(),
  };
}

/** The error an Observable fails with; fails the test if it emits or completes instead. */
export async function failureOf<T>(source: Observable<T>): Promise<TransactionHttpError> {
  try {
    await firstValueFrom(source);
  } catch (error) {
    if (error instanceof TransactionHttpError) return error;
    throw new Error(`expected a TransactionHttpError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/**
 * Collects unhandled promise rejections while a test runs, so it can assert there were none:
 * an error that escapes the Observable would crash an application.
 */
export function watchUnhandledRejections(): { reasons: unknown[]; stop(): void } {
  const reasons: unknown[] = [];
  const listener = (reason: unknown) => reasons.push(reason);
  process.on('unhandledRejection', listener);
  return { reasons, stop: () => process.off('unhandledRejection', listener) };
}
