import { inspect } from 'node:util';
import type { LoggerService } from '@nestjs/common';

/** A Nest logger that keeps every line as the text a log sink would store. */
export class RecordingLogger implements LoggerService {
  readonly lines: string[] = [];

  log(message: unknown, ...params: unknown[]): void {
    this.record('log', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.record('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.record('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.record('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.record('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.record('fatal', message, params);
  }

  /** Lines at `level` (the level is the first word of each line). */
  at(level: string): string[] {
    return this.lines.filter((line) => line.startsWith(`${level} `));
  }

  private record(level: string, message: unknown, params: unknown[]): void {
    // Errors and objects as a log sink would print them: stacks and nested values included.
    const text = [message, ...params]
      .map((part) => (typeof part === 'string' ? part : inspect(part, { depth: 5 })))
      .join(' ');
    this.lines.push(`${level} ${text}`);
  }
}
