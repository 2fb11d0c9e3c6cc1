/**
 * Lists the web platform and JavaScript features the app's source uses, as @mdn/browser-compat-data keys,
 * with the TypeScript checker: every property, method, constructor and global whose declaration is in
 * TypeScript's own lib files (lib.dom, lib.webworker, lib.es*), and every option of an options object passed
 * to such a call (BCD lists options as sub-features: `api.createImageBitmap.options_premultiplyAlpha_parameter`,
 * `api.FileSystemFileHandle.createSyncAccessHandle.mode`). Calls through the app's own surrogate types (an API
 * that lib.dom lacks, reached through a cast) are found by name: a property named like a BCD interface
 * (`BarcodeDetector`), or a called method with a distinctive name (14+ characters) that only one BCD
 * interface has (`createSyncAccessHandle`), with the options passed to it.
 */
import bcd from '@mdn/browser-compat-data' with { type: 'json' };
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export interface Use {
  readonly key: string;
  readonly file: string;
  readonly line: number;
}

type Tree = { __compat?: unknown } & { [name: string]: Tree };

function node(key: string): Tree | undefined {
  let at = bcd as unknown as Tree | undefined;
  for (const part of key.split('.')) at = at?.[part];
  return at?.__compat ? at : undefined;
}

export function bcdHas(key: string): boolean {
  return node(key) !== undefined;
}

function sourceFiles(root: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const LIB = /[\\/]typescript[\\/]lib[\\/]lib\.([\w.]+)\.d\.ts$/;

/** The owner (interface) and kind of a lib declaration, or undefined when it is not from a lib file. */
function libOwner(declaration: ts.Declaration): { lib: string; owner: string | undefined } | undefined {
  const match = LIB.exec(declaration.getSourceFile().fileName);
  if (!match) return undefined;
  let parent: ts.Node | undefined = declaration.parent;
  while (parent && !ts.isInterfaceDeclaration(parent) && !ts.isSourceFile(parent) && !ts.isModuleDeclaration(parent)) parent = parent.parent;
  const owner = parent && ts.isInterfaceDeclaration(parent) ? parent.name.text : undefined;
  return { lib: match[1]!, owner };
}

/** BCD keys a lib member may be filed under, most specific first. */
function candidateKeys(lib: string, owner: string | undefined, member: string | undefined): string[] {
  const es = lib.startsWith('es') || lib === 'decorators';
  const base = owner?.replace(/Constructor$/, '').replace(/^WindowOrWorkerGlobalScope$|^WorkerGlobalScope$|^Window$|^DedicatedWorkerGlobalScope$/, '');
  const statics = owner?.endsWith('Constructor') && member ? [`${member}_static`, member] : member ? [member] : [];
  const keys: string[] = [];
  if (base) {
    const roots = es ? ['javascript.builtins', 'api'] : ['api', 'javascript.builtins'];
    for (const root of roots) {
      for (const m of statics) keys.push(`${root}.${base}.${m}`);
      if (!member) keys.push(`${root}.${base}`);
    }
  } else if (member) {
    keys.push(`api.${member}`, `javascript.builtins.${member}`);
  }
  return keys;
}

/** Sub-features of BCD entry `key` that name option `name`. */
function optionKeys(key: string, name: string): string[] {
  const entry = node(key);
  if (!entry) return [];
  const lower = name.toLowerCase();
  return Object.keys(entry)
    .filter((sub) => sub !== '__compat')
    .filter((sub) => {
      const s = sub.toLowerCase();
      return s === lower || s === `options_${lower}_parameter` || s === `${lower}_option` || s === `${lower}_parameter` || s === `settings_${lower}_parameter` || s === `contextattributes_${lower}_parameter`;
    })
    .map((sub) => `${key}.${sub}`);
}

/**
 * Names that identify one BCD feature for surrogate types: every `api` interface name (upper case), and each
 * member name that exactly one interface has (so `close` or `state` never match, `createSyncAccessHandle` does).
 */
function surrogateIndex(): Map<string, string> {
  const members = new Map<string, string[]>();
  const index = new Map<string, string>();
  const api = (bcd as unknown as { api: Record<string, Tree> }).api;
  for (const [name, entry] of Object.entries(api)) {
    index.set(name, `api.${name}`);
    for (const member of Object.keys(entry)) if (member !== '__compat' && !member.includes('_')) members.set(member, [...(members.get(member) ?? []), `api.${name}.${member}`]);
  }
  for (const [member, keys] of members) if (keys.length === 1 && member.length >= 14 && !index.has(member)) index.set(member, keys[0]!);
  return index;
}

export function scanApis(projectRoot: string): Use[] {
  const files = sourceFiles(join(projectRoot, 'src'));
  const config = ts.getParsedCommandLineOfConfigFile(join(projectRoot, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const program = ts.createProgram(files, { ...config.options, noEmit: true });
  const checker = program.getTypeChecker();
  const surrogates = surrogateIndex();
  const uses = new Map<string, Use>();
  const add = (key: string, at: ts.Node) => {
    const source = at.getSourceFile();
    const file = relative(projectRoot, source.fileName);
    const id = `${key}@${file}`;
    if (!uses.has(id)) uses.set(id, { key, file, line: source.getLineAndCharacterOfPosition(at.getStart()).line + 1 });
  };

  const keysOf = (symbol: ts.Symbol | undefined, member: string | undefined): string[] => {
    const found = new Set<string>();
    const resolved = symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    for (const declaration of resolved?.declarations ?? []) {
      const lib = libOwner(declaration);
      if (!lib) continue;
      const key = candidateKeys(lib.lib, lib.owner, member).find(bcdHas);
      if (key) found.add(key);
    }
    return [...found];
  };

  /** Declared only by the app (a surrogate for what lib.dom lacks): matched by name. */
  const appDeclared = (symbol: ts.Symbol | undefined) => (symbol?.declarations ?? []).length > 0 && symbol!.declarations!.every((d) => !LIB.test(d.getSourceFile().fileName) && !d.getSourceFile().fileName.includes('node_modules'));

  for (const source of program.getSourceFiles()) {
    if (!files.includes(source.fileName)) continue;
    const visit = (n: ts.Node): void => {
      if (ts.isPropertyAccessExpression(n) || ts.isPropertySignature(n)) {
        const name = n.name.getText();
        const symbol = checker.getSymbolAtLocation(n.name);
        for (const key of keysOf(symbol, name)) add(key, n);
        const surrogate = appDeclared(symbol) && /^[A-Z]/.test(name) ? surrogates.get(name) : undefined;
        if (surrogate) add(surrogate, n);
      } else if (ts.isIdentifier(n) && !ts.isPropertyAccessExpression(n.parent) && !ts.isPropertySignature(n.parent)) {
        const symbol = checker.getSymbolAtLocation(n);
        const declaration = symbol?.declarations?.find((d) => ts.isVariableDeclaration(d) || ts.isFunctionDeclaration(d));
        if (declaration && libOwner(declaration)) {
          const key = [`api.${n.text}`, `javascript.builtins.${n.text}`].find(bcdHas);
          if (key) add(key, n);
        }
      }
      // Options objects passed to lib calls: each property name is a candidate sub-feature.
      if ((ts.isCallExpression(n) || ts.isNewExpression(n)) && n.arguments) {
        const callee = ts.isPropertyAccessExpression(n.expression) ? n.expression.name : n.expression;
        const member = callee.getText();
        const symbol = checker.getSymbolAtLocation(callee);
        const targets = ts.isNewExpression(n) ? keysOf(symbol, undefined).map((k) => `${k}.${member}`) : keysOf(symbol, member);
        // The app's own surrogate of a lib method (e.g. createSyncAccessHandle with `mode`): by name.
        const surrogate = appDeclared(symbol) ? surrogates.get(member) : undefined;
        if (surrogate) targets.push(surrogate);
        for (const arg of n.arguments) {
          if (!ts.isObjectLiteralExpression(arg)) continue;
          for (const property of arg.properties) {
            if (!property.name || !(ts.isIdentifier(property.name) || ts.isStringLiteral(property.name))) continue;
            for (const target of targets) for (const key of optionKeys(target, property.name.text)) add(key, property);
            // 2D context attributes are filed under HTMLCanvasElement in BCD, for OffscreenCanvas too.
            if (member === 'getContext') for (const key of optionKeys('api.HTMLCanvasElement.getContext.2d_context', property.name.text)) add(key, property);
          }
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(source);
  }
  return [...uses.values()].sort((a, b) => a.key.localeCompare(b.key) || a.file.localeCompare(b.file));
}

type Statement = { version_added: string | boolean | null; version_removed?: string | boolean | null; partial_implementation?: boolean; flags?: unknown; prefix?: string; alternative_name?: string };

function versionNumber(v: string): number[] {
  return v.replace(/^≤/, '').split('.').map((x) => Number(x));
}

function atOrBefore(a: string, b: string): boolean {
  const [x, y] = [versionNumber(a), versionNumber(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d < 0;
  }
  return true;
}

/** Whether BCD says `key` works, fully and without flags or prefixes, in `browser` from `version` on. */
export function supportedIn(key: string, browser: string, version: string): boolean {
  const support = (node(key)?.__compat as { support: Record<string, Statement | Statement[]> } | undefined)?.support[browser];
  if (!support) return false;
  return ([] as Statement[]).concat(support).some((s) => {
    if (s.flags || s.prefix || s.alternative_name || s.partial_implementation) return false;
    if (typeof s.version_added !== 'string' || s.version_added === 'preview' || !atOrBefore(s.version_added, version)) return false;
    return !(typeof s.version_removed === 'string' && atOrBefore(s.version_removed, version));
  });
}
