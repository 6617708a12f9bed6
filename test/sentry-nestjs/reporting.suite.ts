import { randomUUID } from 'node:crypto';
import {
  type CanActivate,
  Controller,
  Get,
  Injectable,
  InternalServerErrorException,
  UseGuards,
} from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import * as Sentry from '@sentry/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TRANSACTION_ID_HEADER } from '../../lib/index.js';
import { call } from '../fixtures/http-client.js';
import { ADAPTERS, type RunningApp, startApp } from '../fixtures/nest-app.js';
import type { SentryEnvelopeServer, SentryEvent } from '../fixtures/sentry-envelope-server.js';

@Injectable()
class FailingGuard implements CanActivate {
  canActivate(): boolean {
    throw new Error('guard failed');
  }
}

/** One route per kind of failure whose reporting differs between the set-ups. */
@Controller()
export class FailuresController {
  @Get('unhandled')
  unhandled(): never {
    throw new Error('handler failed');
  }

  @Get('guarded')
  @UseGuards(FailingGuard)
  guarded(): string {
    return 'never';
  }

  @Get('http-500')
  http500(): never {
    throw new InternalServerErrorException('answered with a 500');
  }

  @Get('rpc')
  rpc(): never {
    throw new RpcException('an RPC exception over HTTP');
  }
}

/** What a set-up reports: the mechanism of unhandled errors, and which exceptions it reports. */
export interface Reporting {
  mechanism: string;
  reportsHttpException500: boolean;
  reportsRpcExceptionOverHttp: boolean;
}

/**
 * Sends one request per failure, each with its own ID, and checks the events Sentry received:
 * how many per ID, with which mechanism, tagged with the ID.
 */
export function reportingSuite(
  sentry: SentryEnvelopeServer,
  rootModule: new () => unknown,
  expected: Reporting,
): void {
  describe.each(ADAPTERS)('on %s', (adapter) => {
    let app: RunningApp;
    beforeAll(async () => {
      app = await startApp(adapter, rootModule);
    });
    afterAll(() => app?.close());
    beforeEach(async () => {
      await Sentry.flush(5_000);
      sentry.clear();
    });

    /** Requests `path` with a fresh ID; its status and the ID. */
    async function fail(path: string): Promise<{ status: number; id: string }> {
      const id = `${path}-${randomUUID().slice(0, 8)}`;
      const response = await call(`${app.url}/${path}`, {
        headers: { [TRANSACTION_ID_HEADER]: id },
      });
      return { status: response.status, id };
    }

    /** The events of every ID once the last request's event arrived and the SDK sent the rest. */
    async function eventsOf(ids: string[]): Promise<SentryEvent[][]> {
      const last = ids.at(-1)!;
      await sentry.waitFor(() => sentry.eventsFor(last).length > 0);
      await Sentry.flush(5_000);
      return ids.map((id) => sentry.eventsFor(id));
    }

    it(`reports an error of a handler or a guard once, tagged, with mechanism ${expected.mechanism}`, async () => {
      const handler = await fail('unhandled');
      const guard = await fail('guarded');
      expect([handler.status, guard.status]).toEqual([500, 500]);

      const [handlerEvents, guardEvents] = await eventsOf([handler.id, guard.id]);
      for (const events of [handlerEvents, guardEvents]) {
        expect(events).toHaveLength(1);
        expect(events[0].exception?.values?.at(-1)?.mechanism).toMatchObject({
          type: expected.mechanism,
          handled: false,
        });
      }
      // Every event Sentry received is one of these, tagged with its request's ID.
      expect(sentry.events).toHaveLength(2);
      expect(handlerEvents[0].exception?.values?.at(-1)?.value).toBe('handler failed');
      expect(guardEvents[0].exception?.values?.at(-1)?.value).toBe('guard failed');
    });

    it(`${expected.reportsHttpException500 ? 'reports' : 'does not report'} an HttpException with status 500, and ${expected.reportsRpcExceptionOverHttp ? 'reports' : 'does not report'} an RpcException over HTTP`, async () => {
      const http500 = await fail('http-500');
      const rpc = await fail('rpc');
      // A failure reported by every set-up, last: once its event is in, the others would be.
      const sentinel = await fail('unhandled');
      expect([http500.status, rpc.status, sentinel.status]).toEqual([500, 500, 500]);

      const [http500Events, rpcEvents] = await eventsOf([http500.id, rpc.id, sentinel.id]);
      expect(http500Events).toHaveLength(expected.reportsHttpException500 ? 1 : 0);
      expect(rpcEvents).toHaveLength(expected.reportsRpcExceptionOverHttp ? 1 : 0);
      // No untagged event either.
      expect(sentry.events).toHaveLength(1 + http500Events.length + rpcEvents.length);
    });
  });
}
