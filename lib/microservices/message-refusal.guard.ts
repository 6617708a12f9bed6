import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { currentTransactionStore } from '../context/transaction.storage.js';

// How `@EventPattern()` marks its handlers (`PATTERN_HANDLER_METADATA`, `PatternHandler.EVENT` of
// `@nestjs/microservices`), read by name: the package is optional.
const PATTERN_HANDLER = 'microservices:handler_type';
const EVENT_HANDLER = 2;

/**
 * Turns away the messages the policy refused (`invalid: 'reject'`, `require: true`), before the
 * guards bound to controllers and methods, interceptors, pipes and the handler run (a global
 * guard: the application's own global guards registered earlier still run). The microservices
 * binding runs them in a unit of work that holds the refusal (an `RpcException`), and this guard
 * throws it. Nest answers a request with it; an event is dropped, with one warning line. Registered
 * only in applications with message handlers whose options can refuse a message; it lets
 * everything else through.
 */
@Injectable()
export class MessageRefusalGuard implements CanActivate {
  private readonly logger = new Logger('TransactionModule');

  canActivate(execution: ExecutionContext): boolean {
    const refusal = currentTransactionStore()?.refusal;
    if (refusal === undefined) return true;
    if (Reflect.getMetadata(PATTERN_HANDLER, execution.getHandler()) === EVENT_HANDLER) {
      this.logger.warn(`Event dropped. ${refusal.message}`);
    }
    throw refusal;
  }
}
