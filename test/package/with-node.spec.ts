/**
 * scripts/with-node.mjs, which `npm test` and `npm run test:node22` run vitest with: the command
 * and everything it starts run on the Node.js major asked for, whatever `node` the machine has.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const script = join(root, 'scripts', 'with-node.mjs');

/** Runs `node scripts/with-node.mjs ...args` with the machine's first `node` on PATH. */
function withNode(...args: string[]) {
  return spawnSync('node', [script, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
}

describe('scripts/with-node.mjs', () => {
  it.each(['22', '24'])(
    'runs a command, and the node it starts, on Node.js %s',
    (major) => {
      const run = withNode(
        major,
        'node',
        '-p',
        'process.version + " " + require("node:child_process").execSync("node --version")',
      );
      expect(run.status, run.stderr).toBe(0);
      const [own, child] = run.stdout.trim().split(' ');
      expect(own).toMatch(new RegExp(`^v${major}\\.`));
      expect(child).toBe(own);
    },
    120_000,
  );

  it('passes on the exit code of the command', () => {
    expect(withNode('24', 'node', '-e', 'process.exit(3)').status).toBe(3);
  });

  it('refuses what is not a major version, saying so', () => {
    const run = withNode('latest', 'node', '--version');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('expected a Node.js major version such as 24, got "latest"');
  });
});
