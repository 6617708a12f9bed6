// The build that a run measures. Tests rebuild dist/ (`rm -rf dist && tsc`) whenever they run, so
// a long run copies it once and has every server load the copy: a rebuild halfway cannot break a
// server start or mix two builds in one table.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';

function listFiles(dir, filter) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && filter(entry.name))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .toSorted();
}

/** Whether dist/ has a .js file for every .ts file of lib/ (a build is not halfway). */
function isComplete(root) {
  const sources = listFiles(
    join(root, 'lib'),
    (name) => name.endsWith('.ts') && !name.endsWith('.d.ts'),
  );
  return (
    sources.length > 0 &&
    sources.every((file) =>
      existsSync(join(root, 'dist', relative(join(root, 'lib'), file).replace(/\.ts$/, '.js'))),
    )
  );
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Makes sure dist/ is built (building it when missing), then copies it under
 * bench/.dist-snapshot/. Resolves with `{ dir, hash }`.
 */
export async function snapshotDist(root, log = () => {}) {
  const dist = join(root, 'dist');
  // Someone else may be building right now: give a build in progress time to finish first.
  for (let i = 0; i < 30 && !isComplete(root); i++) await sleep(1000);
  if (!isComplete(root)) {
    log('dist/ is missing or incomplete: npm run build');
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const base = join(root, 'bench', '.dist-snapshot');
  for (let attempt = 0; attempt < 5; attempt++) {
    const files = listFiles(dist, (name) => name.endsWith('.js'));
    const hash = createHash('sha256');
    for (const file of files) hash.update(relative(dist, file)).update(readFileSync(file));
    const digest = hash.digest('hex').slice(0, 12);
    const dir = join(base, digest);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(base, { recursive: true });
    try {
      cpSync(dist, dir, { recursive: true, filter: (source) => !source.endsWith('.map') });
    } catch {
      await sleep(1000); // dist/ vanished while copying: a rebuild started
      continue;
    }
    // The copy is good only if it is complete and dist/ did not change while it was made.
    const copied = listFiles(dir, (name) => name.endsWith('.js'));
    if (copied.length === files.length && copied.length > 0 && isComplete(root)) {
      return { dir, hash: digest };
    }
    await sleep(1000);
  }
  throw new Error('could not take a consistent snapshot of dist/ (is a build running in a loop?)');
}

/** Removes snapshots other than `keep`. */
export function pruneSnapshots(root, keep) {
  const base = join(root, 'bench', '.dist-snapshot');
  if (!existsSync(base)) return;
  for (const name of readdirSync(base)) {
    if (join(base, name) !== keep) rmSync(join(base, name), { recursive: true, force: true });
  }
}
