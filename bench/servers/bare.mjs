// No transaction ID at all: the baseline. With BENCH_SENTRY set, Sentry is initialised and nothing
// else ("the same app with Sentry").
import { Module } from '@nestjs/common';
import { NO_ID, decorateClass, defineController } from './shared.mjs';

export function create({ readTag }) {
  const AppController = defineController({ handle: () => ({ id: NO_ID }), readTag });
  class AppModule {}
  decorateClass(AppModule, Module({ controllers: [AppController] }));
  return { module: AppModule };
}
