import 'reflect-metadata';
import { Controller, Get, Injectable, Module, type Type } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import {
  hasMessageHandlers,
  hasUnboundEntryPoints,
} from '../../lib/interceptors/unbound-entry-points.js';

// The metadata the decorators of @nestjs/microservices, @nestjs/websockets and @nestjs/graphql
// write, written by hand: none of those packages is a dependency of this library.
@Controller()
class HttpController {
  @Get()
  get() {
    return {};
  }
}

class BaseListener {
  onOrderPlaced(): void {}
}
Reflect.defineMetadata(
  'microservices:pattern',
  ['order.placed'],
  BaseListener.prototype.onOrderPlaced,
);

@Controller()
class InheritedListener extends BaseListener {}

@Injectable()
class Gateway {}
Reflect.defineMetadata('websockets:is_gateway', true, Gateway);

@Injectable()
class OrdersResolver {}
Reflect.defineMetadata('graphql:resolver_type', 'Order', OrdersResolver);

async function decide(
  controllers: Type[],
  providers: Type[] = [],
  question = hasUnboundEntryPoints,
): Promise<boolean> {
  @Module({ controllers, providers })
  class FeatureModule {}
  const moduleRef = await Test.createTestingModule({ imports: [FeatureModule] }).compile();
  try {
    return question(moduleRef.get(ModulesContainer));
  } finally {
    await moduleRef.close();
  }
}

describe('hasUnboundEntryPoints', () => {
  it('is false for an application of HTTP controllers only', async () => {
    expect(await decide([HttpController])).toBe(false);
  });

  it('leaves message handlers out: the microservices binding settles their IDs', async () => {
    expect(await decide([HttpController, InheritedListener])).toBe(false);
  });

  it('finds a WebSocket gateway', async () => {
    expect(await decide([HttpController], [Gateway])).toBe(true);
  });

  it('finds a GraphQL resolver', async () => {
    expect(await decide([], [OrdersResolver])).toBe(true);
  });
});

describe('hasMessageHandlers', () => {
  it('finds a message handler, also one a controller inherits', async () => {
    expect(await decide([HttpController, InheritedListener], [], hasMessageHandlers)).toBe(true);
  });

  it('is false without one', async () => {
    expect(await decide([HttpController], [Gateway], hasMessageHandlers)).toBe(false);
  });
});
