/**
 * Helpers for tests that use the package as users get it: `npm pack` of the built `dist/`,
 * installed into a scratch application by nested `npm` and `node` runs.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This repository. */
export const root = fileURLToPath(new URL('../../../', import.meta.url));

// Installs take a while on a cold npm cache.
export const INSTALL_TIMEOUT = 240_000;
export const RUN_TIMEOUT = 60_000;

/** The version this repository develops against, so the scratch install hits the npm cache. */
export function installedVersion(name: string): string {
  const file = join(root, 'node_modules', name, 'package.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { version: string };
  return `${name}@${manifest.version}`;
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment for nested npm/node runs, without what `npm test` set for this repository. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const key of Object.keys(env)) {
    if (/^npm_(package_|lifecycle_|config_local_prefix$)/i.test(key) || key === 'INIT_CWD') {
      delete env[key];
    }
  }
  env.npm_config_update_notifier = 'false';
  return env;
}

/** Runs a command to completion, killing it after `timeoutMs`. */
export function run(
  command: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = childEnv(),
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export async function mustRun(command: string, args: string[], cwd: string, timeoutMs: number) {
  const result = await run(command, args, cwd, timeoutMs);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited with ${result.code}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}

/**
 * Packs this repository (built already: `npm test` builds it first) into `destination`; returns
 * the tarball's path and the files it holds.
 */
export async function packPackage(
  destination: string,
): Promise<{ tarball: string; files: string[] }> {
  // Without `prepack`: dist/ is built already, and other test files are loading it meanwhile.
  const pack = await mustRun(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', destination],
    root,
    60_000,
  );
  const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: { path: string }[] }>;
  return {
    tarball: join(destination, info.filename),
    files: info.files.map((file) => file.path).toSorted(),
  };
}
