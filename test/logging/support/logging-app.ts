import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  type ArgumentsHost,
  type CanActivate,
  Catch,
  Controller,
  type DynamicModule,
  type ExceptionFilter,
  type ExecutionContext,
  Get,
  Injectable,
  Logger,
  Module,
  Param,
  Query,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TransactionModule } from '../../../lib/index.js';
import { Barriers } from '../../fixtures/barrier.js';

/** Thrown by `GET /fail/:name`, answered 418 by `LoggingFilter`. */
class TeapotError extends Error {
  constructor(readonly teapot: string) {
    super(`teapot ${teapot}`);
  }
}

/** The path a request was sent to, for lines logged where only the request is at hand. */
function pathOf(context: ArgumentsHost): string {
  const request = context.switchToHttp().getRequest<{ url?: string; originalUrl?: string }>();
  return (request.originalUrl ?? request.url ?? '').split('?')[0];
}

@Injectable()
class LoggingGuard implements CanActivate {
  private readonly logger = new Logger('LoggingGuard');

  canActivate(context: ExecutionContext): boolean {
    this.logger.log(`guard ${pathOf(context)}`);
    return true;
  }
}

@Catch(TeapotError)
class LoggingFilter implements ExceptionFilter {
  private readonly logger = new Logger('LoggingFilter');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: TeapotError, host: ArgumentsHost): void {
    this.logger.warn(`filter ${pathOf(host)}`);
    const { httpAdapter } = this.adapterHost;
    httpAdapter.reply(host.switchToHttp().getResponse(), { teapot: error.teapot }, 418);
  }
}

@Controller()
@UseGuards(LoggingGuard)
@UseFilters(LoggingFilter)
class LoggingController {
  private readonly logger = new Logger('LoggingController');

  constructor(private readonly barriers: Barriers) {}

  /** Logs before and after awaiting the other requests of `group` (of `size`), then another turn. */
  @Get('work/:name')
  async work(
    @Param('name') name: string,
    @Query('group') group?: string,
    @Query('size') size?: string,
  ): Promise<{ name: string }> {
    this.logger.log(`before /work/${name}`);
    if (group !== undefined) await this.barriers.arrive(group, Number(size));
    await nextTurn();
    this.logger.log(`after /work/${name}`);
    return { name };
  }

  @Get('fail/:name')
  async fail(@Param('name') name: string): Promise<never> {
    await nextTurn();
    this.logger.error(`failing /fail/${name}`);
    throw new TeapotError(name);
  }
}

/**
 * An application that logs with `new Logger(Context)` in a guard, in a handler before and after
 * awaits and in an exception filter, every line naming the request's path. `imports` adds a
 * logger module (nestjs-pino's).
 */
export function loggingModule(imports: DynamicModule['imports'] = []): DynamicModule {
  @Module({})
  class LoggingAppModule {}
  return {
    module: LoggingAppModule,
    imports: [TransactionModule.forRoot(), ...(imports ?? [])],
    controllers: [LoggingController],
    providers: [LoggingGuard, Barriers],
  };
}

/** The lines each request of `sendRequests()` logs, `<path>` standing for its path. */
export const LINES_OF_WORK = ['guard <path>', 'before <path>', 'after <path>'];
export const LINES_OF_FAILURE = ['guard <path>', 'failing <path>', 'filter <path>'];
