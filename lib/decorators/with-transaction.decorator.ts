import { asUnitOfWork, type RunIdSource } from '../jobs/unit-of-work-method.js';

/**
 * Options of `@WithTransaction()`.
 *
 * @publicApi
 */
export interface WithTransactionOptions {
  /**
   * Reads the transaction ID that came with the work from the method's arguments (a message's
   * header, a job's field). It goes through the same validation and trust policy as any other
   * (option `trustMessages`); a fresh ID is made when it returns `undefined`.
   *
   * @default none: every run gets a fresh ID
   */
  id?: (...args: any[]) => string | null | undefined;

  /**
   * The name the work's source goes by, for `trustMessages` and error messages.
   *
   * @default 'custom'
   */
  transport?: string;
}

/**
 * Makes every run of a method a unit of work of its own, as if its body were wrapped in
 * `TransactionContext.run()`: for methods that start work no request, message or scheduled run
 * started, such as the consumer of a queue library the module does not know. The run gets its own
 * ID and isolation scope; an error it ends with keeps the ID wherever it is captured.
 *
 * `@Cron()`, `@Interval()`, `@Timeout()` and `@OnEvent()` methods need no decorator: the module
 * makes their runs units of work by itself.
 *
 * @example
 * ```ts
 * @WithTransaction({ id: (message: Message) => message.headers['x-transaction-id'] })
 * async handle(message: Message) {
 *   await this.orders.sync(message.body);
 * }
 * ```
 *
 * @publicApi
 */
export function WithTransaction(options: WithTransactionOptions = {}): MethodDecorator {
  const { id, transport = 'custom' } = options;
  const source: RunIdSource =
    id === undefined ? 'fresh' : { transport, read: (args) => id(...args) };
  return (_target, _key, descriptor) => {
    if (typeof descriptor.value !== 'function') {
      throw new TypeError('nestjs-transaction-id: @WithTransaction() decorates methods only.');
    }
    // Not reported here: the caller of the method sees what it throws.
    descriptor.value = asUnitOfWork(
      descriptor.value as never,
      source,
      false,
    ) as typeof descriptor.value;
    return descriptor;
  };
}
