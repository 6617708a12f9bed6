/**
 * The README's Quick start, followed as a newcomer would: its commands and files, read from the
 * README itself (the blocks marked `<!-- quick-start:… -->`), in an empty directory with the
 * packed package. It is compiled with the README's tsconfig, both services are started as the
 * README says, the README's failing checkout is sent, and both errors must reach the local
 * envelope endpoint that stands in for Spotlight, each tagged with its service and one
 * transaction_id.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import {
  childEnv,
  INSTALL_TIMEOUT,
  installedVersion,
  mustRun,
  packPackage,
  root,
  RUN_TIMEOUT,
} from '../package/support/scratch-package.js';
import { freePorts } from '../fixtures/free-ports.js';

interface Block {
  kind: string;
  file?: string;
  code: string;
}

/** The marked blocks of the README's Quick start, in order. */
function quickStartBlocks(readme: string): Block[] {
  const marked = /<!-- quick-start:(\w+)(?:=(\S+))? -->\s*```\w*\n([\s\S]*?)```/g;
  return [...readme.matchAll(marked)].map(([, kind, file, code]) => ({ kind, file, code }));
}

/** The commands of a shell block: one per line, comments and continuations joined. */
function commands(code: string): string[] {
  return code
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** The other TypeScript snippets (marked `<!-- readme:compile -->`), dedented. */
function compiledSnippets(readme: string): string[] {
  const marked = /<!-- readme:compile -->\s*?\n( *)```ts\n([\s\S]*?)\n *```/g;
  return [...readme.matchAll(marked)].map(([, indent, code]) =>
    code
      .split('\n')
      .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
      .join('\n'),
  );
}

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = quickStartBlocks(readme);
const install = blocks.filter((block) => block.kind === 'install').flatMap((b) => commands(b.code));
const files = blocks.filter((block) => block.kind === 'file');
const runLines = blocks.filter((block) => block.kind === 'run').flatMap((b) => commands(b.code));

describe('the README Quick start', () => {
  let work: string;
  let app: string;
  let sentry: SentryEnvelopeServer;
  const services: ChildProcess[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'nestjs-transaction-id-quick-start-'));
    sentry = await SentryEnvelopeServer.start();
  });

  afterAll(async () => {
    for (const service of services) service.kill('SIGKILL');
    await sentry?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('is complete: commands, a tsconfig and every source file main.ts needs', () => {
    expect(install[0]).toMatch(/^mkdir (\S+) && cd \1$/);
    expect(install).toEqual(
      expect.arrayContaining([
        'npm init -y',
        'npm pkg set type=module',
        expect.stringMatching(/^npm install nestjs-transaction-id /),
      ]),
    );
    expect(files.map((file) => file.file)).toEqual(
      expect.arrayContaining(['tsconfig.json', 'src/instrument.ts', 'src/main.ts']),
    );
    // Every relative import of a source file is one of the files shown.
    const shown = new Set(files.map((file) => file.file));
    const missing = files.flatMap((file) =>
      [...file.code.matchAll(/from '(\.\/[^']+)\.js'|import '(\.\/[^']+)\.js'/g)]
        .map((match) => join(dirname(file.file!), `${match[1] ?? match[2]}.ts`))
        .filter((path) => !shown.has(path)),
    );
    expect(missing).toEqual([]);
  });

  it(
    'installs, compiles and shows two services’ errors under one transaction_id',
    async () => {
      // 1. The install commands, in a fresh directory, with this repository's package.
      const [, directory] = /^mkdir (\S+)/.exec(install[0])!;
      app = join(work, directory);
      await mkdir(app);
      const { tarball } = await packPackage(work);
      for (const line of install.slice(1)) {
        const [command, ...args] = line.split(/\s+/);
        expect(command).toBe('npm');
        if (args[0] === 'install') {
          // The package from the tarball, the others at the versions this repository tests.
          const packages = args.slice(1).filter((arg) => !arg.startsWith('-'));
          const flags = args.slice(1).filter((arg) => arg.startsWith('-'));
          const specs = packages.map((name) =>
            name === 'nestjs-transaction-id' ? tarball : installedVersion(name),
          );
          await mustRun(
            'npm',
            ['install', ...flags, '--prefer-offline', '--no-audit', '--no-fund', ...specs],
            app,
            INSTALL_TIMEOUT,
          );
        } else {
          await mustRun(command, args, app, RUN_TIMEOUT);
        }
      }

      // 2. The files, then the build command.
      for (const file of files) {
        await mkdir(dirname(join(app, file.file!)), { recursive: true });
        await writeFile(join(app, file.file!), file.code);
      }
      const build = runLines.find((line) => line.startsWith('npx tsc'));
      expect(build).toBe('npx tsc');
      await mustRun('npx', ['--no-install', 'tsc'], app, RUN_TIMEOUT);

      // 3. Both services, started as the README says, on free loopback ports; events to the
      // local endpoint instead of Spotlight (`spotlight: true` honours SENTRY_SPOTLIGHT).
      const starts = runLines
        .map((line) => /^((?:[A-Z_]+=\S+ )+)node (\S+)$/.exec(line))
        .filter((match) => match !== null)
        .map(([, assignments, script]) => ({
          env: Object.fromEntries(
            assignments
              .trim()
              .split(' ')
              .map((pair) => pair.split('=') as [string, string]),
          ),
          script,
        }));
      expect(starts.map((start) => start.env.SERVICE)).toEqual(['orders', 'gateway']);
      const ports = await freePorts(starts.length);
      const readmePorts = new Map(starts.map((start, i) => [start.env.PORT, ports[i]]));
      const curl = runLines.find((line) => line.startsWith('curl '))!;
      const readmeId = /-H 'x-transaction-id: ([^']+)'/.exec(curl)![1];
      const body = /-d '([^']+)'/.exec(curl)![1];
      const gateway = readmePorts.get(/127\.0\.0\.1:(\d+)\/checkout/.exec(curl)![1])!;

      /** Starts both services with `env`, sends the README's checkout with `id`, stops them. */
      async function checkout(id: string, env: Record<string, string>) {
        const started: ChildProcess[] = [];
        for (const start of starts) {
          const port = readmePorts.get(start.env.PORT)!;
          const child = spawn(process.execPath, [start.script], {
            cwd: app,
            env: childEnv({
              ...start.env,
              ...env,
              PORT: String(port),
              ORDERS_URL: `http://127.0.0.1:${readmePorts.get('3001')}`,
            }),
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          services.push(child);
          started.push(child);
          await waitForService(port, child);
        }
        const response = await fetch(`http://127.0.0.1:${gateway}/checkout`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-transaction-id': id },
          body,
        });
        expect(response.status).toBe(500);
        expect(response.headers.get('x-transaction-id')).toBe(id);
        await sentry.waitFor(
          (events) => events.filter((e) => e.tags?.transaction_id === id).length >= 2,
        );
        for (const child of started) child.kill('SIGKILL');
        return sentry
          .eventsFor(id)
          .map((event) => ({
            project: event.project,
            service: event.tags?.service,
            type: event.exception?.values?.[0]?.type,
          }))
          .toSorted((a, b) => String(a.service).localeCompare(String(b.service)));
      }

      // 4. What Spotlight shows: one error from each service, both with the README's ID. The
      // services send to the local endpoint instead (`spotlight: true` honours SENTRY_SPOTLIGHT).
      const spotlight = `http://${new URL(sentry.dsn()).host}/api/spotlight/envelope/`;
      expect(await checkout(readmeId, { SENTRY_SPOTLIGHT: spotlight })).toEqual([
        { project: 'spotlight', service: 'gateway', type: 'TransactionHttpError' },
        { project: 'spotlight', service: 'orders', type: 'Error' },
      ]);
      // The README says what the reader will see.
      expect(readme).toContain(`transaction_id: ${readmeId}`);

      // 5. "With SENTRY_DSN set, the same two errors go to Sentry."
      expect(readme.replace(/\s+/g, ' ')).toContain(
        'With `SENTRY_DSN` set, the same two errors go to Sentry',
      );
      expect(await checkout('second-checkout', { SENTRY_DSN: sentry.dsn(7) })).toEqual([
        { project: '7', service: 'gateway', type: 'TransactionHttpError' },
        { project: '7', service: 'orders', type: 'Error' },
      ]);
    },
    INSTALL_TIMEOUT * 2,
  );

  it(
    'has its other snippets compile against the installed package',
    async () => {
      expect(app, 'the Quick start app is installed by the test before').toBeDefined();
      const snippets = compiledSnippets(readme);
      expect(snippets.length).toBeGreaterThanOrEqual(6);
      const dir = join(app, 'snippets');
      await mkdir(dir);
      for (const [index, code] of snippets.entries()) {
        await writeFile(join(dir, `snippet-${index + 1}.ts`), `${code}\n`);
      }
      await writeFile(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          extends: '../tsconfig.json',
          compilerOptions: { rootDir: '.', noEmit: true },
          include: ['*.ts'],
        }),
      );
      await mustRun('npx', ['--no-install', 'tsc', '-p', 'snippets'], app, RUN_TIMEOUT);
    },
    RUN_TIMEOUT,
  );
});

/** Waits until the service answers (with its ID header: the module is on), or fails. */
async function waitForService(port: number, child: ChildProcess): Promise<void> {
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const response = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
    await response?.arrayBuffer();
    if (response?.headers.has('x-transaction-id')) return;
    await sleep(200);
  }
  throw new Error(`service on port ${port} did not start:\n${output}`);
}
