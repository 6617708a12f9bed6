import 'reflect-metadata';
import type { LoggerService } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { TransactionModule, type TransactionModuleOptions } from '../../../lib/index.js';

/** One line a `LoggerService` was asked to write. */
export interface LogEntry {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  message: unknown;
  params: unknown[];
}

/** A Nest logger that keeps what it is given, so tests can assert on warnings. */
export class RecordingLogger implements LoggerService {
  readonly entries: LogEntry[] = [];

  log(message: unknown, ...params: unknown[]): void {
    this.entries.push({ level: 'log', message, params });
  }
  error(message: unknown, ...params: unknown[]): void {
    this.entries.push({ level: 'error', message, params });
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.entries.push({ level: 'warn', message, params });
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.entries.push({ level: 'debug', message, params });
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.entries.push({ level: 'verbose', message, params });
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.entries.push({ level: 'fatal', message, params });
  }

  /** Messages logged at `level`. */
  messages(level: LogEntry['level']): unknown[] {
    return this.entries.filter((entry) => entry.level === level).map((entry) => entry.message);
  }
}

/**
 * Compiles a testing module that imports `TransactionModule.forRoot(options)`, the way an
 * application would, with its log lines kept in `logger`.
 */
export function compileTransactionModule(
  options?: TransactionModuleOptions,
  logger: RecordingLogger = new RecordingLogger(),
): Promise<TestingModule> {
  return Test.createTestingModule({ imports: [TransactionModule.forRoot(options)] })
    .setLogger(logger)
    .compile();
}

/** A small seeded PRNG (mulberry32): random interleavings that replay the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** RFC 9562 textual form, the shape of `crypto.randomUUID()`. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
