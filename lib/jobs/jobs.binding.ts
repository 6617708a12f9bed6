import { Injectable } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { UnitOfWork } from '../context/unit-of-work.js';
import { wrapMethod, type RunIdSource } from './unit-of-work-method.js';

// Metadata keys of the decorators that declare background work, read by name so that none of
// their packages has to be installed: `@Cron()`, `@Interval()`, `@Timeout()` of
// `@nestjs/schedule`, and `@OnEvent()` of `@nestjs/event-emitter`.
const SCHEDULED = 'SCHEDULER_TYPE';
const EVENT_LISTENER = 'EVENT_LISTENER_METADATA';

/** What a kind of background work gets: a fresh ID per scheduled run, the emitter's per event. */
const SOURCES: ReadonlyArray<readonly [metadataKey: string, source: RunIdSource]> = [
  [SCHEDULED, 'fresh'],
  [EVENT_LISTENER, 'inherit'],
];

/**
 * Makes every scheduled method and event handler of the application a unit of work of its own,
 * with no code of the application's. The methods are wrapped on their classes when this is
 * created, before any lifecycle hook runs: `@nestjs/schedule` reads its methods in its
 * `onModuleInit()`, whatever the order of modules, and `@nestjs/event-emitter` calls them through
 * the instance each time.
 */
@Injectable()
export class JobsBinding {
  // `UnitOfWork` first: the wrapped methods find the running application's through it.
  constructor(_work: UnitOfWork, modules: ModulesContainer) {
    for (const module of modules.values()) {
      for (const wrapper of [...module.providers.values(), ...module.controllers.values()]) {
        if (typeof wrapper.metatype === 'function') wrapBackgroundWork(wrapper.metatype);
      }
    }
  }
}

function wrapBackgroundWork(type: Function): void {
  for (let proto = type.prototype; proto && proto !== Object.prototype;) {
    for (const key of Reflect.ownKeys(proto)) {
      if (key === 'constructor') continue;
      const method = Object.getOwnPropertyDescriptor(proto, key)?.value;
      if (typeof method !== 'function') continue;
      const kind = SOURCES.find(([metadataKey]) => Reflect.hasOwnMetadata(metadataKey, method));
      if (kind !== undefined) wrapMethod(proto, key, kind[1], true);
    }
    proto = Object.getPrototypeOf(proto);
  }
}
