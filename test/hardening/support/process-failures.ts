/**
 * Collects what escapes into the process: an `unhandledRejection` or `uncaughtException` during a
 * test is a failure of the library (or of the test), never something to let pass silently.
 */
export class ProcessFailures {
  readonly errors: Array<{ kind: 'unhandledRejection' | 'uncaughtException'; error: unknown }> = [];

  private readonly onRejection = (error: unknown) =>
    this.errors.push({ kind: 'unhandledRejection', error });
  private readonly onException = (error: unknown) =>
    this.errors.push({ kind: 'uncaughtException', error });

  constructor() {
    process.on('unhandledRejection', this.onRejection);
    process.on('uncaughtException', this.onException);
  }

  /** Human-readable list, for assertion messages. */
  describe(errors = this.errors): string {
    return errors
      .map(({ kind, error }) => `${kind}: ${error instanceof Error ? error.stack : String(error)}`)
      .join('\n');
  }

  /** What was collected so far, forgotten here: one test's failures do not fail the next. */
  take(): ProcessFailures['errors'] {
    return this.errors.splice(0);
  }

  dispose(): void {
    process.off('unhandledRejection', this.onRejection);
    process.off('uncaughtException', this.onException);
  }
}
