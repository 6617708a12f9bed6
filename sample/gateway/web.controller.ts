import { readFile } from 'node:fs/promises';
import { Controller, Get, Header } from '@nestjs/common';

/** The page's bundle, built by sample/web/build.mjs beside this service's build. */
const WEB_DIR = new URL('../web/', import.meta.url);

/**
 * Serves the shop's page (sample/web): a "Place order" button that calls `POST /checkout`. Its
 * Sentry DSN comes from `SENTRY_DSN_WEB`; without one, the page reports to Spotlight.
 */
@Controller()
export class WebController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  page(): Promise<string> {
    return readFile(new URL('index.html', WEB_DIR), 'utf8');
  }

  @Get('main.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'no-store')
  script(): Promise<string> {
    return readFile(new URL('main.js', WEB_DIR), 'utf8');
  }

  @Get('config.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'no-store')
  config(): string {
    const config = {
      dsn: process.env.SENTRY_DSN_WEB || undefined,
      apiUrl: '',
      propagationTargets: [],
    };
    return `globalThis.sampleConfig = ${JSON.stringify(config)};\n`;
  }
}
