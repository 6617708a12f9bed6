import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { Controller, Get, Injectable, Module, UseInterceptors } from '@nestjs/common';
import type { ExecutionContext, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import {
  TransactionContext,
  TransactionId,
  TransactionIdPolicy,
  TransactionInterceptor,
  TransactionModule,
  type TransactionModuleOptions,
} from '../../lib/index.js';
import { RecordingLogger } from '../unit/support/testing-module.js';

// What the README promises about the public API: option mistakes stop the application where it
// says, and `TransactionInterceptor` can be extended with nothing but exported names.

@Injectable()
class JobHeader {
  readonly name = 'x-job-id';
}

/** A subclass with a constructor and a dependency of its own, as an application would write it. */
@Injectable()
class JobIdInterceptor extends TransactionInterceptor {
  constructor(
    context: TransactionContext,
    policy: TransactionIdPolicy,
    private readonly jobHeader: JobHeader,
  ) {
    super(context, policy);
  }

  protected override incomingId(execution: ExecutionContext): string | null | undefined {
    const value = execution.switchToHttp().getRequest<{ headers: Record<string, unknown> }>()
      .headers[this.jobHeader.name];
    return typeof value === 'string' ? value : undefined;
  }
}

@Controller()
@UseInterceptors(JobIdInterceptor)
class JobController {
  @Get('job')
  job(@TransactionId() id: string | undefined) {
    return { id: id ?? null };
  }
}

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('a subclass of TransactionInterceptor', () => {
  it('needs no internal token: its own constructor, the options and the policy all work', async () => {
    @Module({
      imports: [TransactionModule.forRoot({ globalInterceptor: false })],
      controllers: [JobController],
      providers: [JobHeader],
    })
    class AppModule {}

    app = await NestFactory.create(AppModule, { logger: false });
    await app.init();
    // Through Express directly, not the HTTP server: the interceptor settles the ID itself.
    const express = app.getHttpAdapter().getInstance();

    const given = await request(express).get('/job').set('x-job-id', 'job-42');
    expect(given.body).toEqual({ id: 'job-42' });
    // Echoed under the module's header: `this.options` reached the subclass.
    expect(given.headers['x-transaction-id']).toBe('job-42');

    const invalid = await request(express).get('/job').set('x-job-id', 'not valid!');
    expect(invalid.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(invalid.headers['x-transaction-id']).toBe(invalid.body.id);
  });
});

describe('forRootAsync({ useExisting })', () => {
  it("takes the options from the provider's createTransactionOptions()", async () => {
    @Injectable()
    class OptionsFactory {
      createTransactionOptions(): TransactionModuleOptions {
        return { header: 'x-request-ref' };
      }
    }
    @Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
    class OptionsModule {}
    @Controller()
    class IdController {
      @Get('id')
      id(@TransactionId() id: string | undefined) {
        return { id: id ?? null };
      }
    }
    @Module({
      imports: [
        TransactionModule.forRootAsync({ imports: [OptionsModule], useExisting: OptionsFactory }),
      ],
      controllers: [IdController],
    })
    class AppModule {}

    app = await NestFactory.create(AppModule, { logger: false });
    await app.init();
    const response = await request(app.getHttpServer()).get('/id').set('x-request-ref', 'ref-1');
    expect(response.body).toEqual({ id: 'ref-1' });
    expect(response.headers['x-request-ref']).toBe('ref-1');
  });
});

describe('an invalid option', () => {
  @Module({})
  class Empty {}

  /** The error `NestFactory.create()` rejects with, and what it logged meanwhile. */
  async function createFails(imports: unknown[]): Promise<Error> {
    @Module({ imports: imports as never[], controllers: [] })
    class AppModule {}
    const created = NestFactory.create(AppModule, {
      logger: new RecordingLogger(),
      abortOnError: false,
    });
    const outcome = await created.catch((error: Error) => error);
    expect(outcome).toBeInstanceOf(Error);
    return outcome as Error;
  }

  it('of forRoot() fails NestFactory.create() (abortOnError: false), naming the option', async () => {
    const error = await createFails([
      TransactionModule.forRoot({ invalid: 'ignore' } as unknown as TransactionModuleOptions),
      Empty,
    ]);
    expect(error.message).toBe(
      'nestjs-transaction-id: option "invalid" must be "replace" or "reject"; received "ignore".',
    );
  });

  it('by default, makes NestFactory.create() log the error and exit with code 1', async () => {
    // Nest's default (`abortOnError: true`), in a process of its own, with the built package.
    const script = `
      import { Module } from '@nestjs/common';
      import { NestFactory } from '@nestjs/core';
      import { TransactionModule } from './dist/index.js';
      class AppModule {}
      Module({ imports: [TransactionModule.forRoot({ invalid: 'ignore' })] })(AppModule);
      await NestFactory.create(AppModule);
      console.log('created');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect({ code, output }).toMatchObject({ code: 1 });
    expect(stripVTControlCharacters(output)).toContain(
      'nestjs-transaction-id: option "invalid" must be "replace" or "reject"; received "ignore".',
    );
    expect(output).not.toContain('created');
  });

  it('of forRootAsync() fails NestFactory.create() (abortOnError: false), naming the option', async () => {
    const error = await createFails([
      TransactionModule.forRootAsync({
        useFactory: () => ({ header: 'not a header' }),
      }),
    ]);
    expect(error.message).toContain('option "header" must be an HTTP header name');
  });

  it('globalInterceptor throws in forRoot() and forRootAsync() themselves, before Nest starts', () => {
    const message = `option "globalInterceptor" must be true, false or 'auto' (got yes)`;
    const globalInterceptor = 'yes' as unknown as boolean;
    expect(() => TransactionModule.forRoot({ globalInterceptor })).toThrow(message);
    expect(() =>
      TransactionModule.forRootAsync({ useFactory: () => ({}), globalInterceptor }),
    ).toThrow(message);
  });
});
