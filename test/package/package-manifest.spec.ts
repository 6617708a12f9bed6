/**
 * package.json against the code: every package `lib/` imports is declared for the applications
 * that install this one, optional peers are exactly the packages loaded only when present, and
 * the module format, `exports` and `engines` are what an ESM-only Nest 12 library needs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Manifest {
  type?: string;
  main?: string;
  types?: string;
  exports?: Record<string, string | Record<string, string>>;
  engines?: Record<string, string>;
  files?: string[];
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
}

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
const dependencies = Object.keys(manifest.dependencies ?? {});
const peers = Object.keys(manifest.peerDependencies ?? {});
const optionalPeers = peers.filter((name) => manifest.peerDependenciesMeta?.[name]?.optional);

/** How a file uses a package. */
type Use =
  | 'runtime' // a static import or re-export: the file fails to load without the package
  | 'optional' // loaded at run time through an import helper, which copes with its absence
  | 'type'; // erased from the JavaScript output

interface Found {
  file: string;
  specifier: string;
  use: Use;
}

/** Bare specifiers (not relative, not Node built-ins) and the package they name. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return undefined;
  if (specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0])) {
    return undefined;
  }
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function filesUnder(dir: string, suffix: RegExp): string[] {
  return (readdirSync(join(root, dir), { recursive: true }) as string[])
    .filter((file) => suffix.test(file))
    .map((file) => join(root, dir, file));
}

// Helpers such as `importOptional('@sentry/node')`: calls whose callee name says it imports.
const IMPORTING_CALLEE = /^(import|require)/i;

function calleeName(expression: ts.Expression): string | undefined {
  if (ts.isIdentifier(expression)) return expression.text;
  if (ts.isPropertyAccessExpression(expression)) return expression.name.text;
  return undefined;
}

/** Every module specifier in a TypeScript file, with how it is used; throws on what it cannot see. */
function importsOf(file: string): Found[] {
  const source = ts.createSourceFile(
    file,
    readFileSync(file, 'utf8'),
    ts.ScriptTarget.Latest,
    true,
    file.endsWith('.d.ts') ? ts.ScriptKind.TS : undefined,
  );
  const name = relative(root, file);
  const found: Found[] = [];
  const add = (node: ts.Node, use: Use) => {
    if (ts.isStringLiteralLike(node)) found.push({ file: name, specifier: node.text, use });
  };

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            bindings !== undefined &&
            ts.isNamedImports(bindings) &&
            bindings.elements.length > 0 &&
            bindings.elements.every((element) => element.isTypeOnly)));
      add(node.moduleSpecifier, typeOnly ? 'type' : 'runtime');
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const typeOnly =
        node.isTypeOnly ||
        (node.exportClause !== undefined &&
          ts.isNamedExports(node.exportClause) &&
          node.exportClause.elements.length > 0 &&
          node.exportClause.elements.every((element) => element.isTypeOnly));
      add(node.moduleSpecifier, typeOnly ? 'type' : 'runtime');
    } else if (ts.isImportEqualsDeclaration(node)) {
      if (ts.isExternalModuleReference(node.moduleReference)) {
        add(node.moduleReference.expression, node.isTypeOnly ? 'type' : 'runtime');
      }
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      if (ts.isLiteralTypeNode(argument)) add(argument.literal, 'type');
    } else if (ts.isCallExpression(node)) {
      const [first] = node.arguments;
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        if (first && ts.isStringLiteralLike(first)) add(first, 'optional');
        else if (!insideImportingHelper(node)) {
          throw new Error(
            `${name}: import(${first?.getText()}) with a specifier this test cannot read; ` +
              'pass literals, or go through a helper named import…/require… called with literals',
          );
        }
      } else {
        const callee = calleeName(node.expression);
        if (callee && IMPORTING_CALLEE.test(callee) && first && ts.isStringLiteralLike(first)) {
          add(first, 'optional');
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function insideImportingHelper(node: ts.Node): boolean {
  for (let parent = node.parent; parent; parent = parent.parent) {
    if (ts.isFunctionLike(parent) && parent.name && ts.isIdentifier(parent.name)) {
      return IMPORTING_CALLEE.test(parent.name.text);
    }
  }
  return false;
}

/** `{ package: [files] }` for the uses of bare packages matching `use`. */
function byPackage(found: Found[], use: Use): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const entry of found) {
    const name = packageOf(entry.specifier);
    if (name === undefined || entry.use !== use) continue;
    map.set(name, [...(map.get(name) ?? []), entry.file]);
  }
  return map;
}

const libFiles = filesUnder('lib', /(?<!\.(spec|test))\.ts$/);
const libImports = libFiles.flatMap(importsOf);
const runtime = byPackage(libImports, 'runtime');
const optional = byPackage(libImports, 'optional');
const typeOnly = byPackage(libImports, 'type');

describe('package.json', () => {
  it('finds the imports it checks', () => {
    expect(libFiles.length).toBeGreaterThan(5);
    expect([...runtime.keys()]).toEqual(expect.arrayContaining(['@nestjs/common', 'rxjs']));
    // The Sentry SDK is loaded only when the application has it.
    expect([...optional.keys()]).toContain('@sentry/node');
    expect(runtime.has('@sentry/node')).toBe(false);
  });

  it('declares every package lib/ loads in dependencies or peerDependencies', () => {
    const declared = new Set([...dependencies, ...peers]);
    const undeclared = [...runtime, ...optional]
      .filter(([name]) => !declared.has(name))
      .map(([name, files]) => `${name} (${[...new Set(files)].join(', ')})`);
    expect(undeclared).toEqual([]);
  });

  it('marks as optional the peers lib/ loads only when they are installed', () => {
    const missing = [...optional.keys()]
      .filter((name) => !runtime.has(name) && !dependencies.includes(name))
      .filter((name) => !optionalPeers.includes(name));
    expect(missing).toEqual([]);
  });

  it('marks as optional no peer that lib/ imports statically', () => {
    expect(optionalPeers.filter((name) => runtime.has(name))).toEqual([]);
  });

  it('has every type-only import available to the build', () => {
    const declared = new Set([
      ...dependencies,
      ...peers,
      ...Object.keys(manifest.devDependencies ?? {}),
    ]);
    expect([...typeOnly.keys()].filter((name) => !declared.has(name))).toEqual([]);
  });

  it('leaves what the host application owns to it: Nest, rxjs, reflect-metadata as peers', () => {
    const hostOwned = ['@nestjs/common', '@nestjs/core', 'rxjs', 'reflect-metadata'];
    expect(peers).toEqual(expect.arrayContaining(hostOwned));
    expect(dependencies.filter((name) => peers.includes(name))).toEqual([]);
    // Tests run against every peer, so each is a devDependency too.
    const devDependencies = Object.keys(manifest.devDependencies ?? {});
    expect(peers.filter((name) => !devDependencies.includes(name))).toEqual([]);
  });

  it('is pure ESM with an exports map that lists types first', () => {
    expect(manifest.type).toBe('module');
    const exports = manifest.exports ?? {};
    const entry = exports['.'];
    expect(typeof entry).toBe('object');
    const conditions = entry as Record<string, string>;
    expect(Object.keys(conditions)[0]).toBe('types');
    expect(conditions.types).toBe(manifest.types);
    expect(conditions.default ?? conditions.import).toBe(manifest.main);
    // TypeScript takes the first condition that matches: `types` after `default` is never read.
    const typesNotFirst = Object.entries(exports)
      .filter(([, target]) => typeof target === 'object' && 'types' in target)
      .filter(([, target]) => Object.keys(target)[0] !== 'types')
      .map(([subpath]) => subpath);
    expect(typesNotFirst).toEqual([]);
    expect(exports['./package.json']).toBe('./package.json');
  });

  it('claims the Node.js versions that Nest 12 and its dependencies support, and that `npm test` runs on', () => {
    // Node 20 is past its end of life, and Nest 12.5's own dependencies (file-type 22, got 16,
    // undici 8) declare Node >= 22.
    expect(manifest.engines?.node).toBe('^22.12.0 || >=24');
    // `npm test` runs the suites on Node 24, `npm run test:node22` on Node 22 (scripts/with-node.mjs).
    expect(manifest.scripts?.test).toMatch(/^node scripts\/with-node\.mjs 24 vitest run\b/);
    expect(manifest.scripts?.['test:node22']).toMatch(
      /^node scripts\/with-node\.mjs 22 vitest run\b/,
    );
  });

  it('runs its tests on a Node.js that engines claims (npm test: 24, npm run test:node22: 22)', () => {
    const [major, minor] = process.versions.node.split('.').map(Number);
    expect(
      (major === 22 && minor! >= 12) || major! >= 24,
      `Node.js ${process.versions.node}: run the suites with npm test or npm run test:node22`,
    ).toBe(true);
  });

  it('builds dist/ whenever it is packed, so that `npm pack` from a clean clone ships it', () => {
    expect(manifest.scripts?.prepack).toBe('npm run build');
    expect(manifest.files).toContain('dist');
  });
});

describe('built declarations (dist/)', () => {
  const dist = join(root, 'dist');

  it('reference only packages that applications without the optional peers have', () => {
    expect(existsSync(dist), 'run `npm run build` first (`npm test` does)').toBe(true);
    const found = filesUnder('dist', /\.d\.ts$/).flatMap(importsOf);
    const required = new Set([...dependencies, ...peers.filter((p) => !optionalPeers.includes(p))]);
    const offending = found
      .map((entry) => ({ ...entry, name: packageOf(entry.specifier) }))
      .filter((entry) => entry.name !== undefined && !required.has(entry.name))
      .map((entry) => `${entry.name} (${entry.file})`);
    // A consumer compiling with skipLibCheck off and no @sentry/node would fail on these.
    expect(offending).toEqual([]);
  });
});

/**
 * The public API, as users get it: every name the built entry points export, types included.
 * A name added or removed here is a decision about the API, and the README documents each one.
 */
const PUBLIC_API: Record<string, { values: string[]; types: string[] }> = {
  '.': {
    values: [
      'CLIENT_TRANSACTION_ID_TAG',
      'TRANSACTION_ID_HEADER',
      'TRANSACTION_ID_TAG',
      'TRANSACTION_MODULE_OPTIONS',
      'TransactionConsoleLogger',
      'transactionIdCors',
      'TransactionContext',
      'TransactionForwarding',
      'TransactionHttpError',
      'TransactionHttpService',
      'TransactionId',
      'TransactionIdPolicy',
      'TransactionInterceptor',
      'TransactionModule',
      'WithTransaction',
      'mqttCarrier',
      'transactionIdMeta',
      'transactionIdMixin',
    ],
    types: [
      'CorsHeaderOptions',
      'InvalidTransactionIdPolicy',
      'MqttCarrierOptions',
      'PropagationTarget',
      'ResolvedTransactionOptions',
      'TransactionHttpErrorCode',
      'TransactionIdFields',
      'TransactionHttpRequestConfig',
      'TransactionHttpResponse',
      'TransactionModuleExtras',
      'TransactionMessageSource',
      'TransactionModuleOptions',
      'TransactionSource',
      'TransportCarrier',
      'WithTransactionOptions',
    ],
  },
  './browser': {
    values: [
      'TRANSACTION_ID_HEADER',
      'TRANSACTION_ID_TAG',
      'TransactionRequestError',
      'createTransactionId',
      'getTransactionId',
      'installTransactionId',
      'requestFailure',
      'startNewTransaction',
      'transactionIdIntegration',
      'transactionIdOf',
    ],
    types: [
      'BrowserPropagationTarget',
      'BrowserTransactionOptions',
      'SentryClientLike',
      'SentryEventLike',
      'StatusCodeRange',
      'TransactionIdIntegration',
    ],
  },
  './sentry': { values: ['errorsOnlyIntegrations'], types: [] },
};

/** What the declarations of one class offer users: its public and protected members. */
function declaredMembers(checker: ts.TypeChecker, symbol: ts.Symbol): string[] {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const isPrivate = (member: ts.Symbol) =>
    (member.declarations ?? []).some(
      (declaration) =>
        ts.getCombinedModifierFlags(declaration) & ts.ModifierFlags.Private ||
        (ts.isPropertyDeclaration(declaration) && ts.isPrivateIdentifier(declaration.name)),
    );
  return checker
    .getPropertiesOfType(checker.getDeclaredTypeOfSymbol(target))
    .filter((member) => !isPrivate(member))
    .map((member) => member.name)
    .toSorted();
}

describe('public API (dist/)', () => {
  const dist = join(root, 'dist');
  const entries = Object.entries(manifest.exports ?? {})
    .filter(([, target]) => typeof target === 'object')
    .map(([subpath, target]) => ({
      subpath,
      js: join(root, (target as Record<string, string>).default),
      dts: join(root, (target as Record<string, string>).types),
    }));
  const program = ts.createProgram(
    entries.map((entry) => entry.dts),
    { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
  );
  const checker = program.getTypeChecker();
  const exportsOf = (dts: string) => {
    const source = program.getSourceFile(dts);
    if (source === undefined) throw new Error(`${dts} is missing: run \`npm run build\``);
    return checker.getExportsOfModule(checker.getSymbolAtLocation(source)!);
  };

  it('covers every entry point of package.json', () => {
    expect(existsSync(dist), 'run `npm run build` first (`npm test` does)').toBe(true);
    expect(entries.map((entry) => entry.subpath).toSorted()).toEqual(
      Object.keys(PUBLIC_API).toSorted(),
    );
  });

  it.each(Object.keys(PUBLIC_API))('%s exports exactly the listed values', async (subpath) => {
    const entry = entries.find((candidate) => candidate.subpath === subpath)!;
    const loaded = (await import(entry.js)) as Record<string, unknown>;
    expect(Object.keys(loaded).toSorted()).toEqual(PUBLIC_API[subpath].values.toSorted());
  });

  it.each(Object.keys(PUBLIC_API))('%s declares exactly the listed values and types', (subpath) => {
    const entry = entries.find((candidate) => candidate.subpath === subpath)!;
    const names = exportsOf(entry.dts).map((symbol) => symbol.name);
    const { values, types } = PUBLIC_API[subpath];
    expect(names.toSorted()).toEqual([...values, ...types].toSorted());
  });

  it('keeps internal members out of the declarations (`@internal`, stripped by the build)', () => {
    const exported = new Map(exportsOf(entries[0].dts).map((symbol) => [symbol.name, symbol]));
    expect(declaredMembers(checker, exported.get('TransactionContext')!)).toEqual(['id', 'run']);
    expect(declaredMembers(checker, exported.get('TransactionIdPolicy')!)).toEqual([
      'generate',
      'isValid',
      'trusts',
    ]);
    // What a subclass of the interceptor sees, besides `intercept()`.
    expect(declaredMembers(checker, exported.get('TransactionInterceptor')!)).toEqual([
      'context',
      'incomingId',
      'intercept',
      'options',
      'policy',
    ]);
  });
});
