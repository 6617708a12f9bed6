import { Inject, Injectable, Logger, type OnModuleInit, Optional } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { SENTRY_BRIDGE } from '../transaction.internal-constants.js';
import type { SentryBridge } from './sentry-bridge.js';
import { importOptional } from '../utils/import-optional.js';
import { otherSdkCopyWarning } from './sdk-copies.js';

/**
 * Looks at how the application set Sentry up, once, before it serves anything:
 *
 * - Where `@sentry/nestjs` is in use (its `SentryModule`, which every set-up of it imports, is in
 *   the application), its filter reports unhandled exceptions by its own rules (no
 *   `HttpException`, no `RpcException` over HTTP, its mechanism): the module leaves reporting to
 *   it and only tags.
 * - Where Sentry was initialised by another copy of the SDK than the one the module loaded, no
 *   event would be tagged: one warning says so and names the fix.
 */
@Injectable()
export class SentrySetupInspector implements OnModuleInit {
  private readonly logger = new Logger('TransactionModule');

  constructor(
    private readonly modules: ModulesContainer,
    @Optional() @Inject(SENTRY_BRIDGE) private readonly sentry?: SentryBridge,
  ) {}

  async onModuleInit(): Promise<void> {
    const warning = otherSdkCopyWarning(this.sentry?.sdkVersion);
    if (warning !== undefined) this.logger.warn(warning);
    if (this.sentry !== undefined && (await this.usesSentryNestjs())) {
      this.sentry.leavesReportingToSentryNestjs = true;
    }
  }

  /** Whether `@sentry/nestjs`'s `SentryModule` is one of the application's modules. */
  private async usesSentryNestjs(): Promise<boolean> {
    const named = [...this.modules.values()].filter(
      (module) => module.metatype?.name === 'SentryModule',
    );
    if (named.length === 0) return false; // spares the import in most applications
    const setup = await importOptional<{ SentryModule?: unknown }>('@sentry/nestjs/setup').catch(
      () => undefined,
    );
    return (
      setup?.SentryModule !== undefined &&
      named.some((module) => module.metatype === setup.SentryModule)
    );
  }
}
