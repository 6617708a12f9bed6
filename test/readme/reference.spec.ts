/**
 * The README's reference against the built declarations: the options table lists exactly the
 * options of `TransactionModuleOptions`, the extras table exactly `TransactionModuleExtras`, each
 * with the type the declaration gives, and every exported name is documented.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { root } from '../package/support/scratch-package.js';

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const program = ts.createProgram([join(root, 'dist/index.d.ts')], {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
});
const checker = program.getTypeChecker();
const entry = checker.getSymbolAtLocation(program.getSourceFile(join(root, 'dist/index.d.ts'))!)!;
const exported = new Map(checker.getExportsOfModule(entry).map((symbol) => [symbol.name, symbol]));

/** `{ name: type }` of an exported interface, types as the declaration writes them. */
function declaredProperties(name: string): Record<string, string> {
  let symbol = exported.get(name)!;
  if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  const properties: Record<string, string> = {};
  for (const member of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) {
    const declaration = member.declarations?.[0];
    if (declaration && ts.isPropertySignature(declaration) && declaration.type) {
      properties[member.name] = normalise(declaration.type.getText());
    }
  }
  return properties;
}

/** The rows of the README table whose header starts with `| first |`: `{ name: type }`. */
function tableRows(first: string): Record<string, string> {
  const lines = readme.split('\n');
  const start = lines.findIndex((line) => new RegExp(`^\\| ${first} +\\| type `).test(line));
  expect(start, `a table with columns "${first} | type"`).toBeGreaterThan(-1);
  const rows: Record<string, string> = {};
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [name, type] = line
      .split(/(?<!\\)\|/)
      .slice(1, 3)
      .map((cell) => cell.trim().replaceAll('\\|', '|'));
    // "`InvalidTransactionIdPolicy`: `'replace' | 'reject'`" names the type, then spells it out.
    rows[name.replaceAll('`', '')] = normalise(type.split('`: `')[0].replaceAll('`', ''));
  }
  return rows;
}

function normalise(type: string): string {
  return type.replace(/\s+/g, ' ').trim();
}

describe('the README reference', () => {
  it('lists every option with the type TransactionModuleOptions declares', () => {
    expect(tableRows('option')).toEqual(declaredProperties('TransactionModuleOptions'));
  });

  it('lists the extras with the types TransactionModuleExtras declares', () => {
    expect(tableRows('extra')).toEqual(declaredProperties('TransactionModuleExtras'));
  });

  it('documents every exported name in its API section', () => {
    const api = readme.slice(
      readme.indexOf('\n## API\n'),
      readme.indexOf('\n## ', readme.indexOf('\n## API\n') + 1),
    );
    const names = [...exported.keys(), 'errorsOnlyIntegrations'];
    expect(names.filter((name) => !readme.includes(`\`${name}`))).toEqual([]);
    expect(names.filter((name) => !api.includes(name))).toEqual([]);
  });
});
