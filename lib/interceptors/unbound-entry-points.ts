import type { Type } from '@nestjs/common';
import type { ModulesContainer } from '@nestjs/core';

// Metadata keys of the decorators that declare handlers outside HTTP, read by name so that none
// of their packages has to be installed: `@MessagePattern()` / `@EventPattern()` (methods),
// `@WebSocketGateway()` and `@Resolver()` (classes; GraphQL subscriptions run over WebSockets).
const MESSAGE_PATTERN = 'microservices:pattern';
const GATEWAY = 'websockets:is_gateway';
const RESOLVER = 'graphql:resolver_type';

/**
 * Whether the application has handlers that neither the HTTP server binding nor the
 * microservices binding reaches: WebSocket gateways or GraphQL resolvers. Only those need
 * `TransactionInterceptor` to bind the ID; an HTTP or microservice application does without it,
 * and without the rxjs pipeline Nest runs every handler through once any global interceptor
 * exists (on a NATS round trip, most of what the module cost).
 */
export function hasUnboundEntryPoints(modules: ModulesContainer): boolean {
  for (const module of modules.values()) {
    for (const { metatype } of module.providers.values()) {
      if (typeof metatype !== 'function') continue;
      if (Reflect.hasMetadata(GATEWAY, metatype) || Reflect.hasMetadata(RESOLVER, metatype)) {
        return true;
      }
    }
  }
  return false;
}

/** Whether the application has message handlers (`@MessagePattern()`, `@EventPattern()`). */
export function hasMessageHandlers(modules: ModulesContainer): boolean {
  for (const module of modules.values()) {
    for (const { metatype } of module.controllers.values()) {
      if (typeof metatype === 'function' && declaresMessageHandlers(metatype)) return true;
    }
  }
  return false;
}

function declaresMessageHandlers(controller: Type | Function): boolean {
  for (let proto = controller.prototype; proto && proto !== Object.prototype;) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const method = Object.getOwnPropertyDescriptor(proto, name)?.value;
      if (typeof method === 'function' && Reflect.hasMetadata(MESSAGE_PATTERN, method)) {
        return true;
      }
    }
    proto = Object.getPrototypeOf(proto);
  }
  return false;
}
