import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { RESOLVED_TRANSACTION_OPTIONS } from '../transaction.internal-constants.js';
import type { ResolvedTransactionOptions } from '../options/transaction-options.js';
import { startHttpClientForwarding } from './http-client.instrumentation.js';

/**
 * Turns the process-wide HTTP client instrumentation on while the application runs (option
 * `forwardHttpCalls`), and withdraws the application's request when it shuts down.
 */
@Injectable()
export class HttpClientForwarding implements OnModuleInit, OnApplicationShutdown {
  private stop: (() => void) | undefined;

  constructor(
    @Inject(RESOLVED_TRANSACTION_OPTIONS) private readonly options: ResolvedTransactionOptions,
  ) {}

  onModuleInit(): void {
    if (!this.options.forwardHttpCalls || this.stop !== undefined) return;
    this.stop = startHttpClientForwarding(this.options);
  }

  onApplicationShutdown(): void {
    this.stop?.();
    this.stop = undefined;
  }
}
