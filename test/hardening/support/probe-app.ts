// Import this module only after `Sentry.init()`: it loads Nest, as an application's main file would.
import 'reflect-metadata';
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Controller,
  Get,
  Inject,
  type INestApplication,
  Logger,
  type LoggerService,
  Module,
  Param,
  Query,
  Req,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import * as Sentry from '@sentry/node';
import { firstValueFrom } from 'rxjs';
import {
  TransactionContext,
  TransactionHttpService,
  TransactionId,
  TransactionModule,
  type TransactionModuleOptions,
} from '../../../lib/index.js';

export type Adapter = 'express' | 'fastify';

/** What the probe controller knows about the outside world. */
interface ProbeConfig {
  /** URL that `GET /who?call=1` and `GET /probe` call with `TransactionHttpService`. */
  downstream?: string;
}

const PROBE_CONFIG = Symbol('probe-config');

/** Errors the `/call` route saw before letting them escape, for tests to inspect. */
export const escapedErrors: unknown[] = [];

/** Requests inside the `/slow` handler right now. */
export const inFlight = { slow: 0 };

/** What the `/probe` handler saw of one request, by the transaction ID it was given. */
export interface Seen {
  /** Values of the `x-transaction-id` lines, as Node.js parsed them. */
  lines: string[];
  context: string | undefined;
  /** The header the downstream service received on the handler's outgoing call. */
  forwarded: string | undefined;
  /** Whether the handler went on to throw (`/probe/fail`). */
  failed: boolean;
}
export const seen = new Map<string, Seen>();

function transactionLines(request: IncomingMessage): string[] {
  const values: string[] = [];
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    if (request.rawHeaders[i].toLowerCase() === 'x-transaction-id') {
      values.push(request.rawHeaders[i + 1]);
    }
  }
  return values;
}

type AnyRequest = IncomingMessage & { raw?: IncomingMessage };

/** A controller with one route per behaviour the hardening tests need. */
@Controller()
class ProbeController {
  private readonly logger = new Logger('Probe');

  constructor(
    private readonly http: TransactionHttpService,
    private readonly context: TransactionContext,
    @Inject(PROBE_CONFIG) private readonly config: ProbeConfig,
  ) {}

  /** The ID as the handler sees it; `capture=1` records a Sentry message, `call=1` calls downstream. */
  @Get('who')
  async who(
    @TransactionId() id: string,
    @Query('capture') capture?: string,
    @Query('call') call?: string,
  ) {
    if (call === '1' && this.config.downstream !== undefined) {
      await firstValueFrom(this.http.get(this.config.downstream));
    }
    if (capture === '1') Sentry.captureMessage(`who ${id}`);
    return { id, context: this.context.id };
  }

  /**
   * Everything a request touches: the downstream call (which must answer `{ header }`), a log
   * line, a Sentry message, and with `/probe/fail` an unhandled error; records what it saw.
   */
  @Get('probe')
  probe(@TransactionId() id: string, @Req() request: AnyRequest) {
    return this.touchEverything(id, request.raw ?? request, false);
  }

  @Get('probe/fail')
  probeFail(@TransactionId() id: string, @Req() request: AnyRequest) {
    return this.touchEverything(id, request.raw ?? request, true);
  }

  private async touchEverything(id: string, request: IncomingMessage, fail: boolean) {
    const { data } = await firstValueFrom(
      this.http.get<{ header?: string }>(this.config.downstream ?? 'http://127.0.0.1:9/'),
    );
    seen.set(id, {
      lines: transactionLines(request),
      context: this.context.id,
      forwarded: data.header,
      failed: fail,
    });
    this.logger.log(`handled transaction ${id}`);
    Sentry.captureMessage(`probe ${id}`);
    if (fail) throw new Error(`probe failed in transaction ${id}`);
    return { id };
  }

  /** Fails after an await, with nothing to catch it. */
  @Get('fail')
  async fail(): Promise<never> {
    await sleep(1);
    throw new Error('probe failure');
  }

  /** Answers after `ms` milliseconds, for in-flight requests during shutdown; `capture=1` as above. */
  @Get('slow/:ms')
  async slow(
    @TransactionId() id: string,
    @Param('ms') ms: string,
    @Query('capture') capture?: string,
  ) {
    inFlight.slow++;
    try {
      await sleep(Number(ms));
    } finally {
      inFlight.slow--;
    }
    if (capture === '1') Sentry.captureMessage(`slow ${id}`);
    return { id, context: this.context.id };
  }

  /** Calls `url` and lets whatever error comes escape the handler. */
  @Get('call')
  async call(@Query('url') url: string, @Query('timeout') timeout?: string) {
    try {
      const response = await firstValueFrom(
        this.http.get(url, { timeout: timeout === undefined ? undefined : Number(timeout) }),
      );
      return { status: response.status, data: response.data };
    } catch (error) {
      escapedErrors.push(error);
      throw error;
    }
  }
}

export interface ProbeAppOptions {
  adapter: Adapter;
  options?: TransactionModuleOptions;
  /** A Nest logger, or `false` (the default) for none. */
  logger?: LoggerService | false;
  downstream?: string;
  /** Address to listen on; `'::'` for both IPv4 and IPv6. */
  host?: string;
}

/** Starts a listening probe application: `TransactionModule.forRoot(options)` and `ProbeController`. */
export async function startProbeApp({
  adapter,
  options = {},
  logger = false,
  downstream,
  host = '127.0.0.1',
}: ProbeAppOptions): Promise<INestApplication> {
  @Module({
    imports: [TransactionModule.forRoot(options)],
    controllers: [ProbeController],
    providers: [{ provide: PROBE_CONFIG, useValue: { downstream } satisfies ProbeConfig }],
  })
  class ProbeModule {}

  const app =
    adapter === 'fastify'
      ? await NestFactory.create(ProbeModule, new FastifyAdapter(), { logger })
      : await NestFactory.create(ProbeModule, { logger });
  await app.listen(0, host);
  return app;
}
