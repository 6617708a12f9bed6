/**
 * The package as users get it: `npm pack` of the built `dist/` (`npm test` builds it first),
 * installed from the tarball into a scratch ESM application that imports it by name, without and
 * then with `@sentry/node`; plus a TypeScript consumer compiled against the installed types.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import {
  childEnv,
  INSTALL_TIMEOUT,
  installedVersion,
  mustRun,
  packPackage,
  root,
  run,
  RUN_TIMEOUT,
} from './support/scratch-package.js';

const appSources = fileURLToPath(new URL('./app/', import.meta.url));
const requireFromRoot = createRequire(join(root, 'package.json'));

const ownManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  exports: Record<string, unknown>;
};
const ownVersion = ownManifest.version;
/** Every subpath besides the root and package.json, each with some export. */
const expectedSubpaths = Object.fromEntries(
  Object.keys(ownManifest.exports)
    .filter((subpath) => subpath !== '.' && !subpath.endsWith('.json'))
    .map((subpath) => [
      `nestjs-transaction-id${subpath.slice(1)}`,
      expect.arrayContaining([expect.any(String)]),
    ]),
);

interface Started {
  port: number;
  header: string;
  resolved: string;
  manifest: { name: string; version: string };
  subpaths: Record<string, string[]>;
  sentry: boolean;
  sentryHttpIntegration: boolean;
}

/** The scratch application (test/package/app/main.mjs), running in its own `node` process. */
class ScratchApp {
  private stderr = '';
  private readonly exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly started: Started,
  ) {
    child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null) resolve(child.exitCode);
      else child.on('exit', (code) => resolve(code));
    });
  }

  static start(cwd: string, nodeArgs: string[], env: NodeJS.ProcessEnv): Promise<ScratchApp> {
    const child = spawn(process.execPath, [...nodeArgs, 'main.mjs'], { cwd, env });
    return new Promise((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      const fail = (why: string) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`scratch app ${why}\nstdout: ${stdout}\nstderr: ${stderr}`));
      };
      const timer = setTimeout(() => fail('did not start within 30 s'), 30_000);
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', (code) => fail(`exited with ${code} before listening`));
      const onData = (chunk: Buffer) => {
        stdout += chunk.toString();
        const newline = stdout.indexOf('\n');
        if (newline === -1) return;
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.removeAllListeners('exit');
        try {
          const app = new ScratchApp(child, JSON.parse(stdout.slice(0, newline)) as Started);
          app.stderr = stderr;
          resolve(app);
        } catch (error) {
          fail(`printed something else than its start line: ${String(error)}`);
        }
      };
      child.stdout.on('data', onData);
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.started.port}`;
  }

  /** Closes its standard input, which shuts it down, and returns its exit code. */
  async stop(): Promise<number | null> {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    const code = await this.exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`scratch app exited with ${code}\nstderr: ${this.stderr}`);
    return code;
  }

  /** For `afterAll`: ends the process whatever state it is in. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** What every flavour of the scratch app must do over real HTTP. */
async function expectTransactionIds(app: ScratchApp): Promise<void> {
  const given = await fetch(`${app.url}/echo`, { headers: { 'x-transaction-id': 'pkg-echo:1' } });
  expect(given.status).toBe(200);
  expect(given.headers.get('x-transaction-id')).toBe('pkg-echo:1');
  expect(await given.json()).toEqual({ fromDecorator: 'pkg-echo:1', fromContext: 'pkg-echo:1' });

  const invalid = await fetch(`${app.url}/echo`, { headers: { 'x-transaction-id': 'not valid!' } });
  expect(invalid.status).toBe(200);
  const replaced = invalid.headers.get('x-transaction-id');
  expect(replaced).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(await invalid.json()).toEqual({ fromDecorator: replaced, fromContext: replaced });

  const none = await fetch(`${app.url}/echo`);
  const fresh = none.headers.get('x-transaction-id');
  expect(fresh).toMatch(/^[0-9a-f-]{36}$/);
  expect(fresh).not.toBe(replaced);
  expect(await none.json()).toEqual({ fromDecorator: fresh, fromContext: fresh });
}

describe('the npm package', () => {
  let work: string;
  let tarball: string;
  let packed: string[];
  let extracted: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'nestjs-transaction-id-package-'));
    expect(existsSync(join(root, 'dist/index.js')), 'dist/ is built by `npm test` (pretest)').toBe(
      true,
    );
    ({ tarball, files: packed } = await packPackage(work));
    extracted = join(work, 'extracted');
    await mkdir(extracted);
    await mustRun('tar', ['-xzf', tarball, '-C', extracted], work, 60_000);
    extracted = join(extracted, 'package');
  }, INSTALL_TIMEOUT);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  describe('tarball', () => {
    it('ships the build, the README and the manifest', () => {
      expect(packed).toEqual(
        expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts']),
      );
    });

    it('ships no tests, samples, benchmarks or tooling files', () => {
      const unwanted = packed.filter(
        (file) =>
          /(^|\/)(test|tests|sample|bench|soak|coverage|node_modules|\.build)\//.test(file) ||
          /\.(spec|test)\.[cm]?[jt]s$/.test(file) ||
          /(^|\/)\./.test(file) ||
          /\.(tgz|tsbuildinfo)$/.test(file) ||
          /^(tsconfig[^/]*\.json|vitest\.config\.[cm]?[jt]s|nest-cli\.json)$/.test(file),
      );
      expect(unwanted).toEqual([]);
    });

    it('has a declaration beside every module in dist/', () => {
      const modules = packed.filter((file) => file.startsWith('dist/') && file.endsWith('.js'));
      expect(modules.length).toBeGreaterThan(1);
      const undeclared = modules.filter((file) => !packed.includes(file.replace(/\.js$/, '.d.ts')));
      expect(undeclared).toEqual([]);
    });

    it('points main, types and exports at files it ships', async () => {
      const manifest = JSON.parse(await readFile(join(extracted, 'package.json'), 'utf8')) as {
        main: string;
        types: string;
        exports: Record<string, string | Record<string, string>>;
      };
      const targets = [manifest.main, manifest.types];
      for (const target of Object.values(manifest.exports)) {
        targets.push(...(typeof target === 'string' ? [target] : Object.values(target)));
      }
      const missing = targets.filter((target) => !packed.includes(posix.normalize(target)));
      expect(missing).toEqual([]);
    });

    it('ships source maps whose sources are in the package or embedded in the map', async () => {
      const maps = packed.filter((file) => file.endsWith('.map'));
      const outside: string[] = [];
      for (const file of maps) {
        const map = JSON.parse(await readFile(join(extracted, file), 'utf8')) as {
          sourceRoot?: string;
          sources: string[];
          sourcesContent?: Array<string | null>;
        };
        map.sources.forEach((source, index) => {
          if (typeof map.sourcesContent?.[index] === 'string') return;
          const path = posix.normalize(
            posix.join(posix.dirname(file), map.sourceRoot ?? '', source),
          );
          if (!packed.includes(path)) outside.push(`${file} -> ${path}`);
        });
      }
      // A map whose sources are missing sends debuggers and "go to definition" nowhere.
      expect(outside.slice(0, 3), `${outside.length} of ${maps.length} maps point outside`).toEqual(
        [],
      );
    });
  });

  describe('installed in an ESM application', () => {
    let app: string;
    let scratch: ScratchApp | undefined;
    let sentry: SentryEnvelopeServer | undefined;

    beforeAll(async () => {
      app = join(work, 'app');
      await mkdir(app);
      await writeFile(
        join(app, 'package.json'),
        `${JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }, null, 2)}\n`,
      );
      for (const file of ['main.mjs', 'instrument.mjs']) {
        await copyFile(join(appSources, file), join(app, file));
      }
      await mustRun(
        'npm',
        [
          'install',
          '--prefer-offline',
          '--no-audit',
          '--no-fund',
          tarball,
          installedVersion('@nestjs/common'),
          installedVersion('@nestjs/core'),
          installedVersion('@nestjs/platform-express'),
          installedVersion('rxjs'),
          installedVersion('reflect-metadata'),
        ],
        app,
        INSTALL_TIMEOUT,
      );
    }, INSTALL_TIMEOUT);

    afterAll(async () => {
      scratch?.kill();
      await sentry?.close();
    });

    describe('without @sentry/node', () => {
      it('does not pull in the optional Sentry peers', () => {
        expect(existsSync(join(app, 'node_modules/@sentry/node'))).toBe(false);
        expect(existsSync(join(app, 'node_modules/@sentry/core'))).toBe(false);
      });

      it(
        'starts, and reads, exposes and echoes the transaction ID over real HTTP',
        async () => {
          scratch = await ScratchApp.start(app, [], childEnv());
          const installed = join(app, 'node_modules/nestjs-transaction-id/');
          expect(scratch.started.subpaths).toEqual(expectedSubpaths);
          expect(scratch.started.subpaths['nestjs-transaction-id/sentry']).toContain(
            'errorsOnlyIntegrations',
          );
          expect(scratch.started).toMatchObject({
            header: 'x-transaction-id',
            manifest: { name: 'nestjs-transaction-id', version: ownVersion },
            sentry: false,
          });
          // The copy from the tarball, not this repository through a link.
          expect(scratch.started.resolved).toBe(
            pathToFileURL(join(installed, 'dist/index.js')).href,
          );

          await expectTransactionIds(scratch);

          const failed = await fetch(`${scratch.url}/fail`, {
            headers: { 'x-transaction-id': 'pkg-fail-no-sentry' },
          });
          expect(failed.status).toBe(500);
          expect(failed.headers.get('x-transaction-id')).toBe('pkg-fail-no-sentry');

          expect(await scratch.stop()).toBe(0);
          scratch = undefined;
        },
        RUN_TIMEOUT,
      );

      it(
        'type-checks a TypeScript consumer (module nodenext) against the installed declarations',
        async () => {
          await mustRun(
            'npm',
            [
              'install',
              '--prefer-offline',
              '--no-audit',
              '--no-fund',
              installedVersion('@types/node'),
            ],
            app,
            INSTALL_TIMEOUT,
          );
          await writeFile(join(app, 'consumer.ts'), CONSUMER);
          await writeFile(join(app, 'tsconfig.json'), JSON.stringify(CONSUMER_TSCONFIG, null, 2));
          const tsc = join(dirname(requireFromRoot.resolve('typescript/package.json')), 'bin/tsc');
          const result = await run(
            process.execPath,
            [tsc, '-p', 'tsconfig.json', '--listFiles'],
            app,
            RUN_TIMEOUT,
          );
          expect(result.stdout.split('\n').filter((line) => /error TS\d+/.test(line))).toEqual([]);
          expect(result.code).toBe(0);
          expect(result.stdout).toContain('/node_modules/nestjs-transaction-id/dist/index.d.ts');
        },
        INSTALL_TIMEOUT,
      );
    });

    describe('with @sentry/node', () => {
      beforeAll(async () => {
        await mustRun(
          'npm',
          [
            'install',
            '--prefer-offline',
            '--no-audit',
            '--no-fund',
            installedVersion('@sentry/node'),
          ],
          app,
          INSTALL_TIMEOUT,
        );
        sentry = await SentryEnvelopeServer.start();
      }, INSTALL_TIMEOUT);

      it.each([
        ['default integrations', '7', false],
        ["the package's errorsOnlyIntegrations", '8', true],
      ] as const)(
        'with %s, tags the unhandled error it reports to Sentry, once, with the ID',
        async (_mode, project, errorsOnly) => {
          const id = `pkg-fail-sentry-${project}`;
          scratch = await ScratchApp.start(
            app,
            ['--import', './instrument.mjs'],
            childEnv({
              SENTRY_DSN: sentry!.dsn(project),
              SENTRY_ERRORS_ONLY: errorsOnly ? '1' : '0',
            }),
          );
          expect(scratch.started.sentry).toBe(true);
          expect(scratch.started.sentryHttpIntegration).toBe(!errorsOnly);

          await expectTransactionIds(scratch);

          const failed = await fetch(`${scratch.url}/fail`, {
            headers: { 'x-transaction-id': id },
          });
          expect(failed.status).toBe(500);
          expect(failed.headers.get('x-transaction-id')).toBe(id);

          // Stopping closes the Sentry client, which flushes every queued event first.
          expect(await scratch.stop()).toBe(0);
          scratch = undefined;

          const received = sentry!.events.filter((event) => event.project === project);
          expect(received).toHaveLength(1);
          expect(received[0]).toMatchObject({
            tags: { transaction_id: id },
            exception: {
              values: [expect.objectContaining({ value: `scratch app failure in ${id}` })],
            },
          });
        },
        RUN_TIMEOUT,
      );
    });
  });
});

/** A consumer whose `@ts-expect-error` lines fail the compile if the package's types were `any`. */
const CONSUMER = `import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { firstValueFrom } from 'rxjs';
import {
  TRANSACTION_ID_HEADER,
  TRANSACTION_ID_TAG,
  TransactionContext,
  TransactionHttpError,
  TransactionHttpService,
  TransactionId,
  TransactionModule,
  type TransactionModuleOptions,
} from 'nestjs-transaction-id';
import { errorsOnlyIntegrations } from 'nestjs-transaction-id/sentry';

export const kept: Array<{ name: string; setupOnce(): void }> = errorsOnlyIntegrations([
  { name: 'Http', setupOnce() {} },
]);
// @ts-expect-error: integrations have a name
errorsOnlyIntegrations([{ setupOnce() {} }]);

const options: TransactionModuleOptions = { header: TRANSACTION_ID_HEADER, invalid: 'reject' };
// @ts-expect-error: 'ignore' is not an \`invalid\` policy
export const wrong: TransactionModuleOptions = { invalid: 'ignore' };
export const tag: 'transaction_id' = TRANSACTION_ID_TAG;

@Controller()
export class AppController {
  constructor(
    private readonly transaction: TransactionContext,
    private readonly http: TransactionHttpService,
  ) {}

  @Get()
  async get(@TransactionId() id: string): Promise<string> {
    // @ts-expect-error: the current ID may be undefined
    const current: string = this.transaction.id;
    try {
      const response = await firstValueFrom(this.http.get<{ ok: boolean }>('http://127.0.0.1/'));
      const ok: boolean = response.data.ok;
      const status: number = response.status;
      return \`\${current} \${id} \${ok} \${status}\`;
    } catch (error) {
      if (error instanceof TransactionHttpError) return String(error.status);
      throw error;
    }
  }
}

@Module({
  imports: [
    TransactionModule.forRoot(options),
    TransactionModule.forRootAsync({ useFactory: () => ({ echo: false }) }),
  ],
  controllers: [AppController],
})
export class AppModule {}
`;

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2023',
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    noEmit: true,
    skipLibCheck: false,
    types: ['node'],
  },
  files: ['consumer.ts'],
};

describe('npm pack from a clean clone', () => {
  let clone: string;

  beforeAll(async () => {
    clone = await mkdtemp(join(tmpdir(), 'nestjs-transaction-id-clone-'));
  });
  afterAll(async () => {
    if (clone) await rm(clone, { recursive: true, force: true });
  });

  it(
    'builds dist/ itself (prepack) and ships it',
    async () => {
      // The repository's files as a clone has them: tracked or new, none that git ignores (no
      // dist/), with the installed dependencies beside them.
      const listed = await mustRun(
        'git',
        ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
        root,
        RUN_TIMEOUT,
      );
      for (const file of listed.stdout.split('\0').filter(Boolean)) {
        if (!existsSync(join(root, file))) continue; // deleted, not yet committed
        await mkdir(dirname(join(clone, file)), { recursive: true });
        await copyFile(join(root, file), join(clone, file));
      }
      await symlink(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir');
      expect(existsSync(join(clone, 'dist'))).toBe(false);

      const pack = await mustRun('npm', ['pack', '--json'], clone, INSTALL_TIMEOUT);
      const [info] = JSON.parse(pack.stdout.slice(pack.stdout.search(/^\[$/m))) as Array<{
        files: { path: string }[];
      }>;
      const files = info.files.map((file) => file.path);
      expect(files).toEqual(
        expect.arrayContaining([
          'dist/index.js',
          'dist/index.d.ts',
          'dist/sentry/index.js',
          'dist/sentry/index.d.ts',
        ]),
      );
    },
    INSTALL_TIMEOUT,
  );
});
