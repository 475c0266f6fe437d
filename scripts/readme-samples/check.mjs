// Compiles every ```ts sample of README.md and packages/*/README.md against the built packages, as a user
// gets them, in three configurations: node16 (ESM), bundler, and commonjs with node10 resolution.
// A sample that stops matching the API fails here, with the README's file:line.
//
//   node scripts/readme-samples/check.mjs [--keep]
//
// --keep leaves the extracted files in scripts/readme-samples/.out/ to look at.
// Each block becomes its own module under scripts/readme-samples/.out/<package>/. The names a README
// treats as given (`app`, `conventions`, `request`…) are declared at the end of each block's file, typed
// for that README's framework, except those the block declares or imports itself. A block opts out with
// `<!-- sample: skip (reason) -->` on the line right before its fence.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const out = join(root, 'scripts/readme-samples/.out');
const publicPackages = ['core', 'express', 'fastify', 'hono', 'nestjs', 'client', 'otel'];

// The names the READMEs use without defining them, per package (the root README's blocks use `core`'s).
const conventionsType = "import('@gateway-errors/core').Conventions";
const givens = {
  core: {
    conventions: conventionsType,
    error: 'unknown',
    problem: "import('@gateway-errors/core').Problem",
    req: "import('node:http').IncomingMessage & { log: import('pino').Logger }",
    res: "import('node:http').ServerResponse",
    reply: "import('fastify').FastifyReply",
    request: 'Request',
    requestId: 'string',
    body: 'unknown',
    maintenance: 'boolean',
    isValidOrder: '(body: unknown) => boolean',
    axios: "import('axios').AxiosStatic",
    logger: "import('pino').Logger",
    PaymentDeclined: 'new (message?: string) => Error',
    USERS: 'string',
    PRICES_URL: 'string',
  },
  express: { conventions: conventionsType, app: "import('express').Express", ORDERS_URL: 'string' },
  fastify: {
    conventions: conventionsType,
    app: "import('fastify').FastifyInstance",
    ORDERS: 'string',
    Order: 'object',
    handler: "import('fastify').RouteHandlerMethod",
    metrics: '{ increment(name: string): void }',
    tenantOf: '(request: { headers: Record<string, string | string[] | undefined> }) => string',
  },
  hono: { conventions: conventionsType, app: "import('hono').Hono" },
  nestjs: { conventions: conventionsType, app: "import('@nestjs/common').INestApplication" },
  client: {
    order: 'unknown',
    response: 'Response',
    signal: 'AbortSignal',
    started: 'number',
    log: '{ info(record: object): void }',
  },
  otel: { app: "import('express').Express" },
};
// Classes the READMEs use as given, both a value and a type.
const givenClasses = {
  nestjs: {
    Order: 'declare class Order { id: string; }',
    OrdersService: 'declare class OrdersService { findOne(id: string): Promise<Order>; }',
  },
};

// Packages a README mentions that the workspace does not install: declared here from their public types.
const ambientModules = {
  nestjs: `declare module '@nestjs/config' {
  import type { DynamicModule } from '@nestjs/common';
  export class ConfigModule { static forRoot(options?: object): DynamicModule; }
  export class ConfigService { get<T = any>(propertyPath: string): T | undefined; }
}
`,
};

// Packages published as ESM only: a sample importing one cannot be compiled as CommonJS.
const esmOnlyPackages = ['got', 'ky'];

const conventionsModule = `import { defineConventions } from '@gateway-errors/core';

export const conventions = defineConventions({ typeBase: 'https://errors.example.com/problems/' });
`;

const modes = [
  { name: 'node16', options: { module: 'node16', moduleResolution: 'node16' } },
  { name: 'bundler', options: { module: 'esnext', moduleResolution: 'bundler' } },
  // No moduleResolution: commonjs implies node10, where subpaths resolve through typesVersions.
  { name: 'commonjs', options: { module: 'commonjs' }, cjs: true },
];
const sharedOptions = {
  strict: true,
  skipLibCheck: true,
  noEmit: true,
  target: 'es2022',
  lib: ['es2023', 'dom'],
  types: ['node'],
  esModuleInterop: true,
  // Nest's parameter decorators exist only as legacy decorators.
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
};

const fence = /^(\s*)```(ts|typescript)\s*$/;
const closing = /^\s*```\s*$/;
const skipMarker = /^\s*<!--\s*sample:\s*skip\b\s*(?:\((.*)\))?\s*-->\s*$/;

/** Every ts block of a README: its first content line (1-based) and text, or the reason it is skipped. */
function extractBlocks(text) {
  const lines = text.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = fence.exec(lines[i]);
    if (open === null) continue;
    const indent = open[1].length;
    let end = i + 1;
    while (end < lines.length && !closing.test(lines[end])) end++;
    const skip = i > 0 ? skipMarker.exec(lines[i - 1]) : null;
    blocks.push({
      line: i + 2,
      code: lines.slice(i + 1, end).map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))).join('\n'),
      skip: skip === null ? undefined : (skip[1] ?? 'no reason given'),
    });
    i = end;
  }
  return blocks;
}

/** The names a block declares or imports at its top level, and whether it awaits at its top level. */
function inspect(code) {
  const source = ts.createSourceFile('block.ts', code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const names = new Set();
  const addBinding = (name) => {
    if (ts.isIdentifier(name)) names.add(name.text);
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) addBinding(element.name);
  };
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && statement.importClause !== undefined) {
      const clause = statement.importClause;
      if (clause.name !== undefined) names.add(clause.name.text);
      const bindings = clause.namedBindings;
      if (bindings !== undefined && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
      else if (bindings !== undefined) for (const element of bindings.elements) names.add(element.name.text);
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) addBinding(declaration.name);
    } else if ('name' in statement && statement.name !== undefined && ts.isIdentifier(statement.name)) {
      names.add(statement.name.text);
    }
  }
  let topLevelAwait = false;
  const visit = (node) => {
    if (topLevelAwait || ts.isFunctionLike(node) || ts.isClassLike(node)) return;
    if (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier !== undefined)) topLevelAwait = true;
    else ts.forEachChild(node, visit);
  };
  ts.forEachChild(source, visit);
  return { names, topLevelAwait };
}

function link(target, path) {
  mkdirSync(dirname(path), { recursive: true });
  if (!existsSync(path)) symlinkSync(realpathSync(target), path);
}

/**
 * A node_modules for a README's samples: the package's own dependencies (the versions its types were built
 * against), every public package through its package.json, and, for a module the package does not depend on,
 * the first other workspace member that does.
 */
function linkModules(pkg, folder, specifiers) {
  const modules = join(folder, 'node_modules');
  for (const name of publicPackages) link(join(root, 'packages', name), join(modules, '@gateway-errors', name));
  const own = join(root, 'packages', pkg, 'node_modules');
  const members = ['packages', 'examples'].flatMap((dir) => readdirSync(join(root, dir)).map((name) => join(root, dir, name, 'node_modules')));
  for (const specifier of specifiers) {
    const parts = specifier.split('/');
    const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
    if (name.startsWith('@gateway-errors/')) continue;
    const typesName = `@types/${name.replace('@', '').replace('/', '__')}`;
    for (const candidate of [name, typesName]) {
      const from = [own, ...members].find((dir) => existsSync(join(dir, candidate)));
      if (from !== undefined) link(join(from, candidate), join(modules, candidate));
    }
  }
}

function importsOf(code) {
  const source = ts.createSourceFile('block.ts', code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  return source.statements
    .filter((s) => ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier))
    .map((s) => s.moduleSpecifier.text)
    .filter((s) => !s.startsWith('.') && !s.startsWith('node:'));
}

const started = performance.now();
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');

const readmes = [{ file: 'README.md', pkg: 'core' }, ...publicPackages.map((pkg) => ({ file: `packages/${pkg}/README.md`, pkg }))];
const files = []; // { path (relative to out), readme, line, esmOnly }
const extraFiles = [];
const skipped = [];
const counts = new Map();
for (const { file, pkg } of readmes) {
  if (!existsSync(join(root, file))) continue;
  const blocks = extractBlocks(readFileSync(join(root, file), 'utf8'));
  const folder = join(out, file === 'README.md' ? 'root' : pkg);
  mkdirSync(folder, { recursive: true });
  const specifiers = new Set(['@types/node']);
  counts.set(file, { blocks: blocks.length, skipped: 0, esmOnly: 0 });
  for (const block of blocks) {
    if (block.skip !== undefined) {
      skipped.push(`${file}:${block.line - 1}: ${block.skip}`);
      counts.get(file).skipped++;
      continue;
    }
    const { names, topLevelAwait } = inspect(block.code);
    const declarations = Object.entries(givens[pkg] ?? {})
      .filter(([name]) => !names.has(name) && new RegExp(`\\b${name}\\b`).test(block.code))
      .map(([name, type]) => `declare const ${name}: ${type};`);
    const classes = Object.entries(givenClasses[pkg] ?? {})
      .filter(([name]) => !names.has(name) && new RegExp(`\\b${name}\\b`).test(block.code))
      .map(([, declaration]) => declaration);
    // After the block, so its lines keep the README's numbering; `export {}` makes every file a module.
    const text = `${block.code}\n\n${[...declarations, ...classes].join('\n')}\nexport {};\n`;
    const path = join(folder, `line-${block.line}.ts`);
    writeFileSync(path, text);
    const imports = importsOf(block.code);
    for (const specifier of [...imports, ...declarations.flatMap((d) => [...d.matchAll(/import\('([^']+)'\)/g)].map((m) => m[1]))]) {
      if (!specifier.startsWith('node:')) specifiers.add(specifier);
    }
    const esmOnly = topLevelAwait || imports.some((s) => esmOnlyPackages.includes(s));
    files.push({ path: relative(out, path), readme: file, line: block.line, lines: block.code.split('\n').length, esmOnly });
    if (esmOnly) counts.get(file).esmOnly++;
  }
  if (files.some((f) => f.readme === file)) {
    writeFileSync(join(folder, 'conventions.ts'), conventionsModule);
    extraFiles.push(relative(out, join(folder, 'conventions.ts')));
    if (ambientModules[pkg] !== undefined) {
      writeFileSync(join(folder, 'ambient.d.ts'), ambientModules[pkg]);
      extraFiles.push(relative(out, join(folder, 'ambient.d.ts')));
    }
    specifiers.add('@gateway-errors/core');
    linkModules(pkg, folder, specifiers);
  }
}

const tsc = join(root, 'node_modules/typescript/bin/tsc');
const byPath = new Map(files.map((f) => [f.path, f]));
let failures = 0;
const compiled = new Map(); // readme -> { mode: count }
const timings = [];
for (const mode of modes) {
  const included = files.filter((f) => !(mode.cjs && f.esmOnly));
  for (const f of included) {
    const entry = compiled.get(f.readme) ?? {};
    entry[mode.name] = (entry[mode.name] ?? 0) + 1;
    compiled.set(f.readme, entry);
  }
  const config = join(out, `tsconfig.${mode.name}.json`);
  writeFileSync(config, JSON.stringify({ compilerOptions: { ...sharedOptions, ...mode.options }, files: [...extraFiles, ...included.map((f) => f.path)] }, null, 2));
  const begin = performance.now();
  let output = '';
  try {
    execFileSync(process.execPath, [tsc, '-p', config, '--pretty', 'false'], { cwd: out, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    output = `${error.stdout ?? ''}${error.stderr ?? ''}`;
    if (output.trim() === '') throw error;
  }
  timings.push(`${mode.name} ${((performance.now() - begin) / 1000).toFixed(1)} s`);
  // A diagnostic's first line names its file; the indented lines after it continue its message.
  for (const entry of output.split(/\n(?! )/).filter((e) => e.trim() !== '')) {
    failures++;
    const match = /^(.+?)\((\d+),(\d+)\): (.*)$/s.exec(entry);
    const sample = match === null ? undefined : byPath.get(match[1].replaceAll('\\', '/'));
    if (sample !== undefined) {
      const line = Number(match[2]);
      const where = line <= sample.lines ? `${sample.readme}:${sample.line + line - 1}:${match[3]}` : `${sample.readme}:${sample.line} (the given names declared after the block)`;
      console.log(`[${mode.name}] ${where} ${match[4]}`);
    } else {
      console.log(`[${mode.name}] scripts/readme-samples/.out/${entry}`);
    }
  }
}

console.log('\nREADME samples compiled (node16 / bundler / commonjs):');
for (const [file, { blocks, skipped: skips, esmOnly }] of counts) {
  const c = compiled.get(file) ?? {};
  const notes = [skips > 0 ? `${skips} skipped` : '', esmOnly > 0 ? `${esmOnly} ESM-only (top-level await or an ESM-only import; not compiled as commonjs)` : ''].filter(Boolean);
  console.log(`  ${file}: ${blocks} blocks; ${c.node16 ?? 0} / ${c.bundler ?? 0} / ${c.commonjs ?? 0}${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`);
}
for (const skip of skipped) console.log(`  skipped ${skip}`);
console.log(`tsc: ${timings.join(', ')}; ${((performance.now() - started) / 1000).toFixed(1)} s in all`);
// The extracted files go away (they would be linted and type-checked as the repo's own), unless asked to stay.
if (!process.argv.includes('--keep')) rmSync(out, { recursive: true, force: true });
if (failures > 0) {
  console.log(`\n${failures} error(s) in README samples.`);
  process.exit(1);
}
