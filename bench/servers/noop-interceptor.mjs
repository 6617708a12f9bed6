// Diagnostic, not a competitor: the bare app plus one global interceptor that does nothing
// (`next.handle()`). What any global interceptor costs in Nest, whatever it does: with one, Nest
// runs every handler through its rxjs interceptor pipeline.
import { Injectable, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { NO_ID, decorateClass, defineController } from './shared.mjs';

class NoopInterceptor {
  intercept(_execution, next) {
    return next.handle();
  }
}
decorateClass(NoopInterceptor, Injectable());

export function create({ readTag }) {
  const AppController = defineController({ handle: () => ({ id: NO_ID }), readTag });
  class AppModule {}
  decorateClass(
    AppModule,
    Module({
      controllers: [AppController],
      providers: [{ provide: APP_INTERCEPTOR, useClass: NoopInterceptor }],
    }),
  );
  return { module: AppModule };
}
