import { Catch, type ExceptionFilter } from '@nestjs/common';

/**
 * Makes an exception filter that sees every exception reaching Nest's global exception layer but
 * never handles one: its `@Catch()` type reports the exception while Nest checks whether the
 * filter applies, and answers "no". So it reports what `TransactionInterceptor` cannot see
 * (exceptions thrown by guards and middleware) without shadowing any filter of the application,
 * whatever order Nest keeps global filters in.
 */
export function createUnhandledExceptionProbe(
  report: (exception: unknown) => void,
): ExceptionFilter {
  class UnhandledException {
    static [Symbol.hasInstance](exception: unknown): boolean {
      report(exception);
      return false;
    }
  }

  @Catch(UnhandledException)
  class UnhandledExceptionProbe implements ExceptionFilter {
    catch(): void {
      // Never called: no exception is an instance of `UnhandledException`.
    }
  }

  return new UnhandledExceptionProbe();
}
