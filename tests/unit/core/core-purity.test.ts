/**
 * Backs up the ESLint rules for src/core: the core imports nothing outside src/core but hash-wasm (no UI,
 * storage, workers, other runtime packages or Node built-ins) and never touches DOM, storage, network or Node globals.
 *
 * Imports are read twice: with the TypeScript parser and with a regex over the comment-stripped source.
 * Globals are resolved with the TypeScript checker, so a local variable that happens to be called `window`
 * is fine while `document`, `globalThis.fetch` or an undeclared `process` are not; comments and strings never count.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const CORE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src/core');

/**
 * The runtime packages the core may import: hash-wasm, for Argon2id (FORMAT.md §3; WebCrypto has no
 * memory-hard KDF), and @hpke/core, the HPKE framing (RFC 9180) of key cards (FORMAT.md §11.3) over
 * WebCrypto's ECDH and AES-GCM. Both are plain JavaScript (and WebAssembly), with no DOM, storage or network use.
 */
const ALLOWED_PACKAGES: readonly string[] = ['hash-wasm', '@hpke/core'];

const FORBIDDEN_GLOBALS: readonly string[] = [
  'document',
  'window',
  'indexedDB',
  'localStorage',
  'sessionStorage',
  'fetch',
  'XMLHttpRequest',
  'navigator',
  'customElements',
  'HTMLElement',
  'IDBFactory',
  'Worker',
  'WebSocket',
  'process',
  'require',
  'Buffer',
  '__dirname',
];

/** Module specifiers of every import/export/dynamic import/import type in a file. */
function importSpecifiers(file: ts.SourceFile): string[] {
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      specifiers.push(node.moduleReference.expression.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      specifiers.push(arg && ts.isStringLiteralLike(arg) ? arg.text : '<dynamic import>');
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      specifiers.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return specifiers;
}

/** Forbidden names that resolve to a global (declared outside `ownDir`, or not declared at all). */
function globalUses(program: ts.Program, file: ts.SourceFile, ownDir: string): string[] {
  const checker = program.getTypeChecker();
  const uses: string[] = [];
  const isOwn = (symbol: ts.Symbol | undefined) =>
    symbol?.declarations?.some((d) => resolve(d.getSourceFile().fileName).startsWith(ownDir + sep)) ?? false;
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && FORBIDDEN_GLOBALS.includes(node.text)) {
      const parent = node.parent;
      if (ts.isPropertyAccessExpression(parent) && parent.name === node) {
        // `x.fetch` is a property; only `globalThis.fetch` / `self.fetch` reach the global.
        const target = parent.expression;
        if (ts.isIdentifier(target) && (target.text === 'globalThis' || target.text === 'self')) uses.push(node.text);
      } else if (
        (ts.isPropertyAssignment(parent) || ts.isPropertySignature(parent) || ts.isPropertyDeclaration(parent) || ts.isMethodDeclaration(parent)) &&
        parent.name === node
      ) {
        // A property name, not a reference.
      } else {
        const symbol = ts.isShorthandPropertyAssignment(parent) ? checker.getShorthandAssignmentValueSymbol(parent) : checker.getSymbolAtLocation(node);
        if (!isOwn(symbol)) uses.push(node.text);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return uses;
}

function createProgram(fileNames: readonly string[]): ts.Program {
  return ts.createProgram(fileNames, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    // DOM on purpose: DOM globals must resolve to lib.dom.d.ts so that they are recognised as globals.
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    types: [],
    noEmit: true,
    skipLibCheck: true,
  });
}

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//gu, ' ').replace(/(^|[^:\\])\/\/.*$/gmu, '$1');
}

function regexSpecifiers(source: string): string[] {
  return [...stripComments(source).matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"]([^'"]+)['"]/gu)].map((m) => m[1]!);
}

const coreFiles = readdirSync(CORE_DIR)
  .filter((name) => name.endsWith('.ts'))
  .sort();
const program = createProgram(coreFiles.map((name) => join(CORE_DIR, name)));

describe('src/core purity', () => {
  it('scans every TypeScript file of src/core', () => {
    expect(coreFiles).toEqual(
      expect.arrayContaining(['bytes.ts', 'envelope.ts', 'errors.ts', 'fragments.ts', 'index.ts', 'kdf.ts', 'key-text.ts', 'object-head.ts', 'object-wrap.ts', 'open-objects.ts', 'padding.ts', 'record.ts', 'seal-objects.ts', 'sequence-key.ts']),
    );
  });

  it('the scanners find imports and globals in code, but not locals, properties, comments or strings', () => {
    const sample = [
      "import { html } from 'lit';",
      "import type { IDBPDatabase } from 'idb';",
      "export * from '../storage/db.js';",
      "const fs = await import('node:fs');",
      'type T = import("comlink").Remote<unknown>;',
      '// document.title = fetch(window.location);',
      "/* localStorage.setItem('x', indexedDB); */",
      "const note = 'window and document are words here';",
      'const title = document.title;',
      'globalThis.fetch("/x");',
      'function f(options: { fetch: () => void }) { const window = 3; options.fetch(); return window; }',
      'const o = { navigator: 1 };',
      'export { html, fs, note, title, f, o };',
      'export type { T, IDBPDatabase };',
    ].join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'core-purity-'));
    try {
      const path = join(dir, 'sample.ts');
      writeFileSync(path, sample);
      const sampleProgram = createProgram([path]);
      const file = sampleProgram.getSourceFile(path)!;
      expect(importSpecifiers(file)).toEqual(['lit', 'idb', '../storage/db.js', 'node:fs', 'comlink']);
      expect(regexSpecifiers(sample)).toEqual(['lit', 'idb', '../storage/db.js', 'node:fs', 'comlink']);
      expect(globalUses(sampleProgram, file, resolve(dir))).toEqual(['document', 'fetch']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const name of coreFiles) {
    describe(name, () => {
      const path = join(CORE_DIR, name);
      const source = readFileSync(path, 'utf8');

      it('imports only sibling files of src/core (and hash-wasm)', () => {
        const file = program.getSourceFile(path)!;
        const specifiers = importSpecifiers(file);
        expect(regexSpecifiers(source)).toEqual(specifiers);
        for (const specifier of specifiers) {
          if (ALLOWED_PACKAGES.includes(specifier)) continue;
          expect(specifier, `${name} imports ${specifier}`).toMatch(/^\.\/[\w.-]+\.js$/u);
          const target = relative(CORE_DIR, resolve(CORE_DIR, specifier.replace(/\.js$/u, '.ts')));
          expect(coreFiles, `${name} imports ${specifier}, which is not a file of src/core`).toContain(target);
        }
      });

      it('uses no DOM, storage, network or Node globals', () => {
        expect(globalUses(program, program.getSourceFile(path)!, CORE_DIR)).toEqual([]);
      });
    });
  }
});
