/**
 * Exceptions that are the application's answers to a client, like `HttpException`s below 500:
 * thrown on purpose, sent back, not failures to report. `RpcException` of
 * `@nestjs/microservices` and `WsException` of `@nestjs/websockets`, known by their class names:
 * the packages are optional, and an application may hold more than one copy of them.
 */
const ANSWERS = new Set(['RpcException', 'WsException']);

/** Whether `exception` is an instance of an answer class, or of one extending it. */
export function isAnswer(exception: unknown): boolean {
  if (!(exception instanceof Error)) return false;
  for (let proto = Object.getPrototypeOf(exception); proto !== Error.prototype && proto !== null;) {
    if (ANSWERS.has(proto.constructor?.name)) return true;
    proto = Object.getPrototypeOf(proto);
  }
  return false;
}
