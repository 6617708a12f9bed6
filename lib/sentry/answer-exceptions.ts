/**
 * Exception types that are the application's answers to a client, like `HttpException`s below
 * 500: thrown on purpose, sent back, not failures to report. Registered by the entries whose
 * packages define them (`WsException` of `@nestjs/websockets`), so that none of those packages
 * has to be installed for the others.
 */
const answerTypes = new Set<abstract new (...args: never[]) => unknown>();

/** Adds an exception type whose instances are answers, not failures. */
export function addAnswerType(type: unknown): void {
  if (typeof type === 'function') answerTypes.add(type as abstract new () => unknown);
}

/** Whether `exception` is an instance of a registered answer type. */
export function isAnswer(exception: unknown): boolean {
  for (const type of answerTypes) if (exception instanceof type) return true;
  return false;
}
