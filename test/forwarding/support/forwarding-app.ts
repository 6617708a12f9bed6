import 'reflect-metadata';
import { Controller, Get, Module, Query, type Type } from '@nestjs/common';
import { HttpModule, HttpService } from '@nestjs/axios';
import {
  TransactionHttpService,
  TransactionModule,
  type TransactionModuleOptions,
} from '../../../lib/index.js';
import { startApp, type RunningApp } from '../../fixtures/nest-app.js';
import { CLIENTS } from './http-clients.js';

/**
 * A Nest service whose `GET /call?client=…&url=…` makes one GET of `url` with the named client
 * while serving the request, and answers with the downstream's body.
 */
@Controller()
class CallController {
  constructor(
    private readonly nestAxios: HttpService,
    private readonly transactionHttp: TransactionHttpService,
  ) {}

  @Get('call')
  async call(
    @Query('client') client: string,
    @Query('url') url: string,
    @Query('sends') sends?: string,
  ): Promise<string> {
    // `sends`: a transaction ID header the call sets itself.
    const headers = sends === undefined ? undefined : { 'x-transaction-id': sends };
    if (client === 'TransactionHttpService') {
      const response = await this.transactionHttp.fetch(url, { headers });
      return response.text();
    }
    if (client === 'fetch, redirect: manual') {
      // A redirect the call does not follow.
      const response = await fetch(url, { headers, redirect: 'manual' });
      return String(response.status);
    }
    const call = CLIENTS[client];
    if (call === undefined) throw new Error(`unknown client ${client}`);
    return call(url, this.nestAxios, headers);
  }
}

export function forwardingModule(options?: TransactionModuleOptions): Type {
  @Module({
    imports: [TransactionModule.forRoot(options), HttpModule],
    controllers: [CallController],
  })
  class ForwardingAppModule {}
  return ForwardingAppModule;
}

/** Starts the service on Express with `options`. */
export function startForwardingApp(options?: TransactionModuleOptions): Promise<RunningApp> {
  return startApp('express', forwardingModule(options));
}

/** Asks the service, as request `id`, to GET `url` with `client`; resolves with its body. */
export async function callThrough(
  app: RunningApp,
  client: string,
  url: string,
  id?: string,
  sends?: string,
): Promise<string> {
  const query = new URLSearchParams({ client, url, ...(sends === undefined ? {} : { sends }) });
  const response = await fetch(`${app.url}/call?${query}`, {
    headers: id === undefined ? {} : { 'x-transaction-id': id },
  });
  const body = await response.text();
  if (!response.ok) throw new Error(`${client} ${url}: ${response.status} ${body}`);
  return body;
}
