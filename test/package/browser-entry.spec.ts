/**
 * `nestjs-transaction-id/browser` as shipped (the built dist/, `npm run build` first): nothing from
 * Node.js, Nest or Sentry in anything it loads, no effect on import, its grammar and header taken
 * from the server's own file, and its size in a minified, gzipped bundle.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { measureBrowserSize } from '../../bench/browser-size.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = join(root, 'dist');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, { types: string; default: string }>;
};

/** Every file the entry loads, with the specifiers each imports or re-exports (types included). */
function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (graph.has(file)) continue;
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
    const specifiers = source.statements.flatMap((statement) =>
      (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) &&
      statement.moduleSpecifier !== undefined &&
      ts.isStringLiteral(statement.moduleSpecifier)
        ? [statement.moduleSpecifier.text]
        : [],
    );
    graph.set(relative(dist, file), specifiers);
    for (const specifier of specifiers) {
      // A declaration file names the JavaScript file; its types are beside it.
      const target = entry.endsWith('.d.ts') ? specifier.replace(/\.js$/, '.d.ts') : specifier;
      if (specifier.startsWith('.')) pending.push(join(dirname(file), target));
    }
  }
  return graph;
}

describe('nestjs-transaction-id/browser', () => {
  it('is exported beside ./sentry, built from lib/browser to dist/browser', () => {
    expect(manifest.exports['./browser']).toEqual({
      types: './dist/browser/index.d.ts',
      default: './dist/browser/index.js',
    });
  });

  it('loads nothing but its own files and the constants it shares with the server', () => {
    for (const extension of ['.js', '.d.ts']) {
      const graph = importGraph(join(dist, `browser/index${extension}`));
      const bare = [...graph.values()].flat().filter((specifier) => !specifier.startsWith('.'));
      expect(bare).toEqual([]);
      const outside = [...graph.keys()].filter((file) => !file.startsWith('browser/'));
      expect(outside).toEqual([`transaction.shared-constants${extension}`]);
    }
  });

  it('shares the header, the tag and the ID grammar with the server through one file', () => {
    const reexports = (file: string) => readFileSync(join(dist, file), 'utf8');
    expect(reexports('transaction.constants.js')).toContain(
      "export { TRANSACTION_ID_HEADER, TRANSACTION_ID_TAG } from './transaction.shared-constants.js';",
    );
    expect(reexports('transaction.internal-constants.js')).toContain(
      "export { isDefaultId } from './transaction.shared-constants.js';",
    );
    expect(readFileSync(join(dist, 'transaction.shared-constants.js'), 'utf8')).not.toMatch(
      /^import /m,
    );
  });

  it('has no effect on import, and is small: under 2 KB minified and gzipped without Sentry', async () => {
    const sizes = await measureBrowserSize();
    // Imported and unused, it bundles to nothing: no side effects at the top of any module.
    expect(sizes['imported, nothing used'].minified).toBe(0);
    // 2 KB read strictly: 2,000 bytes, not 2,048.
    expect(sizes['without Sentry'].gzipped).toBeLessThan(2000);
    // Without the integration, nothing of it is bundled.
    expect(sizes['without Sentry'].code).not.toContain('captureException');
  });
});
