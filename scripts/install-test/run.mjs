// The install test: every public package packed as it would be published, the tarballs installed with plain
// npm (and one app with pnpm, `installWith: "pnpm"`) into fresh apps outside the workspace (the templates in apps/<name>/, written from the packages'
// READMEs), each app built with its own tsc when it has a build script, started on 127.0.0.1 and asked for
// a route whose upstream is a closed port (a 502 UPSTREAM_UNREACHABLE problem) and for an unknown route (a 404
// problem). npm's and tsc's output is shown only when they fail. Needs the packages built.
//
// An app's template: a package.json whose @gateway-errors/* dependencies are replaced by the tarballs, whose
// `main` is started with node (after `npm run build` when it has a build script), with PORT=0 and ORDERS_URL;
// the app prints `listening on http://127.0.0.1:<port>` once it listens, and GET /orders/:id calls ORDERS_URL.
//
// Run: node scripts/install-test/run.mjs [--only <app>]... [--keep]
//   --only <app>  run that app only (repeatable)
//   --keep        keep the temporary directory (packs and installed apps) and print where it is
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const APPS = fileURLToPath(new URL('apps', import.meta.url));
/** The repository's pnpm (`packageManager`, without a hash), through npx. */
const PNPM = ['-y', JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).packageManager.split('+')[0]];

const PACK_MS = 120_000;
const INSTALL_MS = 180_000;
const BUILD_MS = 120_000;
const START_MS = 20_000;
const REQUEST_MS = 10_000;
const TOTAL_MS = 15 * 60_000;
/** What an app prints once it accepts connections. */
const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)/;

/** An error of one step, with the output of the command that failed. */
class StepError extends Error {
  constructor(message, output = '') {
    super(message);
    this.output = output;
  }
}

const { values: options } = parseArgs({ options: { only: { type: 'string', multiple: true }, keep: { type: 'boolean' } } });
const apps = readdirSync(APPS).sort();
for (const name of options.only ?? []) {
  if (!apps.includes(name)) fail(`no app named ${name} (apps: ${apps.join(', ')})`);
}
const selected = options.only ? apps.filter((name) => options.only.includes(name)) : apps;

const work = mkdtempSync(join(tmpdir(), 'gateway-errors-install-'));
if (!relative(ROOT, work).startsWith('..')) {
  rmSync(work, { recursive: true, force: true });
  fail(`the temporary directory ${work} is inside the repository`);
}

/** Every child still running, killed (with its process group) when the run ends early. */
const children = new Set();
const overall = setTimeout(() => {
  console.error(`FAIL install test: over ${TOTAL_MS / 60_000} minutes`);
  finish(1);
}, TOTAL_MS);

process.on('SIGINT', () => finish(130));
process.on('SIGTERM', () => finish(143));

try {
  const tarballs = await pack();
  let failed = 0;
  for (const name of selected) {
    const started = performance.now();
    const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
    try {
      const answer = await testApp(name, tarballs);
      console.log(`ok ${name} ${answer} in ${seconds()}`);
    } catch (error) {
      failed += 1;
      const { message, output = '' } = error instanceof StepError ? error : { message: String(error?.stack ?? error) };
      console.log(`FAIL ${name} ${message} in ${seconds()}`);
      if (output.trim()) console.log(indent(lastLines(output, 40)));
    }
  }
  finish(failed > 0 ? 1 : 0);
} catch (error) {
  console.error(`FAIL install test: ${error instanceof StepError ? error.message : String(error?.stack ?? error)}`);
  if (error instanceof StepError && error.output.trim()) console.error(indent(lastLines(error.output, 40)));
  finish(1);
}

/**
 * Packs every public package into `work/packs` and checks what a registry would get: a manifest without
 * `workspace:` ranges, and every file the manifest points at.
 * @returns {Promise<Map<string, string>>} package name → tarball path
 */
async function pack() {
  const manifests = readdirSync(join(ROOT, 'packages'))
    .map((dir) => JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')))
    .filter((manifest) => manifest.private !== true);
  const packs = join(work, 'packs');
  const filters = manifests.flatMap(({ name }) => ['--filter', name]);
  await run('npx', [...PNPM, ...filters, 'pack', '--pack-destination', packs], { cwd: ROOT, timeoutMs: PACK_MS, step: 'pnpm pack' });

  const tarballs = new Map();
  for (const file of readdirSync(packs)) {
    const tarball = join(packs, file);
    const listing = await run('tar', ['-tzf', tarball], { cwd: packs, timeoutMs: PACK_MS, step: `tar -tzf ${file}` });
    const text = await run('tar', ['-xOzf', tarball, 'package/package.json'], { cwd: packs, timeoutMs: PACK_MS, step: `tar -xOzf ${file}` });
    if (text.includes('workspace:')) throw new StepError(`${file}: the packed package.json keeps a workspace: range`, text);
    const manifest = JSON.parse(text);
    const files = new Set(listing.split('\n'));
    const missing = [...targets(manifest)].filter((path) => !files.has(`package/${path}`));
    if (missing.length > 0) throw new StepError(`${file}: the package.json points at files the tarball lacks: ${missing.join(', ')}`, listing);
    tarballs.set(manifest.name, tarball);
  }
  const unpacked = manifests.filter(({ name }) => !tarballs.has(name)).map(({ name }) => name);
  if (unpacked.length > 0) throw new StepError(`pnpm pack made no tarball for ${unpacked.join(', ')}`);
  return tarballs;
}

/** The files a manifest's `main`, `module`, `types` and `exports` point at (not the patterns of `exports`). */
function targets(manifest) {
  const found = new Set();
  const walk = (value) => {
    if (typeof value === 'string') {
      if (!value.includes('*')) found.add(value.replace(/^\.\//, ''));
    } else if (value && typeof value === 'object') {
      for (const inner of Object.values(value)) walk(inner);
    }
  };
  walk([manifest.main, manifest.module, manifest.types, manifest.exports]);
  return found;
}

/**
 * Copies an app's template out of the workspace, points its @gateway-errors dependencies (and, through
 * `overrides`, those of the tarballs themselves, which the registry does not have) at the tarballs,
 * installs it with npm, builds it, starts it against a dead upstream and checks its answers.
 * @returns {Promise<string>} what the dead upstream answered, e.g. `502 UPSTREAM_UNREACHABLE`
 */
async function testApp(name, tarballs) {
  const dir = join(work, 'apps', name);
  cpSync(join(APPS, name), dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const packed = Object.fromEntries([...tarballs].map(([pkg, tarball]) => [pkg, `file:${tarball}`]));
  for (const field of ['dependencies', 'devDependencies']) {
    for (const pkg of Object.keys(manifest[field] ?? {})) {
      if (!pkg.startsWith('@gateway-errors/')) continue;
      if (!packed[pkg]) throw new StepError(`depends on ${pkg}, which is not a public package`);
      manifest[field][pkg] = packed[pkg];
    }
  }
  // `installWith: 'pnpm'`: pnpm's strict layout, where an app imports only what it depends on itself.
  const pnpm = manifest.installWith === 'pnpm';
  if (pnpm) manifest.pnpm = { overrides: packed };
  else manifest.overrides = packed;
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  if (pnpm) await run('npx', [...PNPM, 'install', '--reporter=silent'], { cwd: dir, timeoutMs: INSTALL_MS, step: 'pnpm install' });
  else await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, timeoutMs: INSTALL_MS, step: 'npm install' });
  if (manifest.scripts?.build) await run('npm', ['run', 'build'], { cwd: dir, timeoutMs: BUILD_MS, step: `npm run build (${manifest.scripts.build})` });

  const upstream = await closedPort();
  const app = start(dir, manifest.main, { ORDERS_URL: `http://127.0.0.1:${upstream}` });
  try {
    const base = await app.listening;
    const answer = await expectProblem(`${base}/orders/7`, { status: 502, code: 'UPSTREAM_UNREACHABLE', upstream });
    await expectProblem(`${base}/no-such-route`, { status: 404, upstream });
    return answer;
  } catch (error) {
    throw new StepError(error instanceof StepError ? error.message : String(error?.message ?? error), app.output());
  } finally {
    await app.stop();
  }
}

/**
 * Asks for `url` and checks that the answer is the problem expected: status, content type, `no-store`, the
 * request ID of the header in the body, the code when given, and nothing of the upstream's address.
 */
async function expectProblem(url, { status, code, upstream }) {
  const { pathname } = new URL(url);
  let response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(REQUEST_MS) });
  } catch (error) {
    throw new StepError(`GET ${pathname} failed: ${error?.cause?.message ?? error?.message ?? error}`);
  }
  const text = await response.text();
  const wrong = (what) => new StepError(`GET ${pathname}: ${what}; answered ${response.status} ${response.headers.get('content-type')} ${text.slice(0, 300)}`);
  if (response.status !== status) throw wrong(`status ${response.status}, not ${status}`);
  const contentType = response.headers.get('content-type');
  if (contentType !== 'application/problem+json; charset=utf-8') throw wrong(`content-type ${contentType}`);
  if (response.headers.get('cache-control') !== 'no-store') throw wrong(`cache-control ${response.headers.get('cache-control')}`);
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw wrong('a body that is not JSON');
  }
  if (body.status !== status) throw wrong(`body status ${body.status}`);
  if (code !== undefined && body.code !== code) throw wrong(`code ${body.code}, not ${code}`);
  const requestId = response.headers.get('x-request-id');
  if (!requestId || body.requestId !== requestId) throw wrong(`requestId ${body.requestId}, x-request-id ${requestId}`);
  // The request ID is random: a port number could appear in it by chance.
  const rest = text.replaceAll(requestId, '');
  if (rest.includes('127.0.0.1') || new RegExp(`\\b${upstream}\\b`).test(rest)) throw wrong(`the upstream's address (127.0.0.1:${upstream}) in the body`);
  return `${response.status} ${body.code}`;
}

/**
 * A port nothing listens on: bound and closed again, below Linux's ephemeral range (32768–60999), so an
 * app started later on port 0 cannot be handed it (and proxy to itself).
 */
async function closedPort() {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const server = createServer();
    const bound = await new Promise((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }
  throw new Error('no free port between 20000 and 30000 after 50 tries');
}

/**
 * Starts an app (`node <main>`) on a port of the system's choice, in production mode.
 * @returns {{ listening: Promise<string>, output: () => string, stop: () => Promise<void> }}
 */
function start(dir, main, env) {
  const child = spawn(process.execPath, [main], {
    cwd: dir,
    env: { ...process.env, ...env, NODE_ENV: 'production', PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  const closed = new Promise((resolve) => child.once('close', resolve));
  closed.then(() => children.delete(child));
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new StepError(`did not print "listening on http://127.0.0.1:<port>" within ${START_MS / 1000} s`)), START_MS);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = LISTENING.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${match[1]}`);
      }
    });
    child.once('error', (error) => reject(new StepError(`could not start node ${main}: ${error.message}`)));
    void closed.then((code) => {
      clearTimeout(timer);
      reject(new StepError(`node ${main} exited with ${code} before listening`));
    });
  });
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return {
    listening,
    output: () => [stderr && `stderr:\n${stderr}`, stdout && `stdout:\n${stdout}`].filter(Boolean).join('\n'),
    stop: async () => {
      kill(child);
      await closed;
    },
  };
}

/**
 * Runs a command in its own process group, killed with the group after `timeoutMs`.
 * @returns {Promise<string>} its stdout; a StepError with stdout and stderr when it fails
 */
function run(command, args, { cwd, timeoutMs, step }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.add(child);
    let stdout = '';
    let output = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      output += chunk;
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      kill(child);
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      children.delete(child);
      reject(new StepError(`at ${step}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (timedOut) reject(new StepError(`at ${step}: over ${timeoutMs / 1000} s`, output));
      else if (code !== 0) reject(new StepError(`at ${step}: exit ${code ?? signal}`, output));
      else resolve(stdout);
    });
  });
}

/** Kills a child started in its own process group, with the group (npm's and tsc's children too). */
function kill(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

function lastLines(text, count) {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

function indent(text) {
  return text.replace(/^/gm, '    ');
}

function fail(message) {
  console.error(`install test: ${message}`);
  process.exit(2);
}

function finish(code) {
  clearTimeout(overall);
  for (const child of children) kill(child);
  if (options.keep) console.log(`install test: kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
  process.exit(code);
}
