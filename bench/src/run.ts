/**
 * `pnpm bench [error] [proxy] [happy] [micro] [memory] [--quick] [--rounds N] [--duration S]
 *   [--frameworks express,fastify,hono,nest,nest-fastify,express-hpm,fastify-proxy,hono-proxy] [--prof] [--verbose]
 *   [--out FILE] [--quiet-wait S]`
 *
 * Runs each server in its own process pinned to core 0 and autocannon in this process pinned to
 * core 1 (where `taskset` exists), alternates the variants of a comparison round by round so
 * machine drift hits them alike, and prints medians with their min–max. A proxy stack runs where it is named
 * in `--frameworks` or its framework is (`express` brings `express-hpm`). A full run of every suite writes
 * bench/RESULTS.md. Measured, never asserted: nothing here fails on a missed target.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { closedPort, ERROR_PATH, OK_PATH } from './apps/shared.js';
import type { Framework, ProxyStack, Stack, Variant } from './apps/shared.js';
import { canPin, LOAD_CORE, pinSelf, SERVER_CORE, startChild } from './children.js';
import type { Child, ChildOptions } from './children.js';
import { hit } from './load.js';
import type { LoadResult } from './load.js';
import type { ChildReply, MicroSample } from './protocol.js';
import { ratios, show, spread, table } from './stats.js';

type Suite = 'error' | 'proxy' | 'happy' | 'micro' | 'memory';
const SUITES: readonly Suite[] = ['error', 'proxy', 'happy', 'micro', 'memory'];
const FRAMEWORKS: readonly Framework[] = ['express', 'fastify', 'hono', 'nest', 'nest-fastify'];
const PROXY_STACKS: readonly ProxyStack[] = ['express-hpm', 'fastify-proxy', 'hono-proxy'];
/** The framework each proxy stack runs on: naming the framework in `--frameworks` brings its proxy stack. */
const PROXY_FRAMEWORK: Readonly<Record<ProxyStack, Framework>> = {
  'express-hpm': 'express',
  'fastify-proxy': 'fastify',
  'hono-proxy': 'hono',
};
const STACK_NAMES: Readonly<Record<Stack, string>> = {
  express: 'Express 5',
  fastify: 'Fastify 5',
  hono: 'Hono 4 (node-server)',
  nest: 'NestJS 12 (platform-express)',
  'nest-fastify': 'NestJS 12 (platform-fastify)',
  'express-hpm': 'Express 5 + http-proxy-middleware 3',
  'fastify-proxy': 'Fastify 5 + @fastify/http-proxy 11',
  'hono-proxy': 'Hono 4 `proxy()` (node-server)',
};
/** What a proxy stack answers a refused upstream with on its own, and whether it logs it. */
const PROXY_DEFAULTS: Readonly<Record<ProxyStack, { readonly status: number; readonly how: string }>> = {
  'express-hpm': { status: 504, how: 'its error page, 504 text; its default logger is a no-op' },
  'fastify-proxy': { status: 500, how: "@fastify/reply-from's 500 through Fastify's handler, JSON; `logger: false`" },
  'hono-proxy': { status: 500, how: "the default onError, 500 text; **logs** each error with `console.error`" },
};
const VARIANT_NAMES: Readonly<Record<Variant, string>> = {
  'ge-quiet': 'gateway-errors, logging off',
  ge: 'gateway-errors, default logging',
  default: 'framework default',
  peer: 'ecosystem peer',
  floor: 'hand-written floor',
  bare: 'bare',
  'request-id': 'with requestId()',
  'request-id-no-hop': 'with requestId({ hopStorage: false })',
  'id-floor': 'hand-written request-ID middleware',
};
const PEERS: Readonly<Record<Framework, string>> = {
  express: 'http-errors `createError(502)` + hand-written handler',
  fastify: '@fastify/sensible `httpErrors.badGateway()`',
  hono: '`HTTPException(502)` + default onError',
  nest: '`BadGatewayException` + default filter',
  'nest-fastify': '`BadGatewayException` + default filter',
};
/** Below this share of one core the server was waiting for the load generator: compare CPU per request. */
const SATURATED = 0.9;
/** What RESULTS.md calls a quiet machine: a 1-minute load average below this at the start. */
const QUIET_LOAD = 0.5;

// `pnpm bench -- --quick` hands the `--` on: options after it are options all the same.
const args = process.argv.slice(2).filter((arg, index) => !(index === 0 && arg === '--'));
const { values, positionals } = parseArgs({
  args,
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string', default: '10' },
    frameworks: { type: 'string' },
    prof: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    out: { type: 'string' },
    // Seconds to wait, at most, for the machine to be quiet (1-minute load average below 0.5) before measuring.
    'quiet-wait': { type: 'string' },
  },
});

const quick = values.quick || process.env['BENCH_QUICK'] === '1';
const suites = positionals.length === 0 ? SUITES : positionals.map(suiteOf);
const selected = values.frameworks === undefined ? [...FRAMEWORKS, ...PROXY_STACKS] : values.frameworks.split(',').map(stackOf);
const frameworks = FRAMEWORKS.filter((framework) => selected.includes(framework));
const proxyStacks = PROXY_STACKS.filter((stack) => selected.includes(stack) || selected.includes(PROXY_FRAMEWORK[stack]));
const settings = {
  rounds: Number(values.rounds ?? (quick ? 2 : 6)),
  duration: Number(values.duration ?? (quick ? 0.5 : 1.5)),
  warmup: quick ? 0.3 : 1,
  connections: Number(values.connections),
  memoryWarmup: quick ? 2_000 : 10_000,
  memoryAmount: quick ? 20_000 : 200_000,
  microRounds: quick ? 2 : 8,
  microBudgetMs: quick ? 20 : 100,
};
if (!(settings.rounds >= 1 && settings.rounds <= 50)) throw new Error('--rounds: 1 to 50');
if (!(settings.duration > 0 && settings.duration <= 30)) throw new Error('--duration: more than 0, at most 30 seconds');

const benchDir = fileURLToPath(new URL('..', import.meta.url));
const profileDir = `${benchDir}profiles`;
const childOptions: ChildOptions = {
  nodeFlags: values.prof ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}/micro`] : [],
  verbose: values.verbose,
};
if (values.prof) mkdirSync(profileDir, { recursive: true });

function suiteOf(name: string): Suite {
  if ((SUITES as readonly string[]).includes(name)) return name as Suite;
  throw new Error(`unknown suite "${name}"; known: ${SUITES.join(', ')}`);
}

function stackOf(name: string): Stack {
  const known: readonly string[] = [...FRAMEWORKS, ...PROXY_STACKS];
  if (known.includes(name)) return name as Stack;
  throw new Error(`unknown framework "${name}"; known: ${known.join(', ')}`);
}

function isProxyStack(stack: Stack): stack is ProxyStack {
  return (PROXY_STACKS as readonly string[]).includes(stack);
}

const output: string[] = [];
function emit(text = ''): void {
  output.push(text);
  console.log(text);
}
const runStarted = Date.now();
function progress(text: string): void {
  process.stderr.write(`[${((Date.now() - runStarted) / 1000).toFixed(0).padStart(4)} s] ${text}\n`);
}

// ---------------------------------------------------------------------------------------------
// Servers and rounds

interface Server {
  readonly variant: Variant;
  readonly child: Child;
  readonly url: string;
}

interface Sample {
  readonly load: LoadResult;
  /** Server CPU time (user + system) per response, in microseconds. */
  readonly cpuPerRequest: number;
  /** Server CPU time over wall time: 1 means it used its whole core. */
  readonly busy: number;
}

type CpuReading = Extract<ChildReply, { type: 'cpu' }>;

/** The origin every proxy stack forwards to: a 127.0.0.1 port closed before any server of the run started. */
let refusedUpstream: Promise<string> | undefined;

async function startServers(stack: Stack, variants: readonly Variant[], path: string): Promise<Server[]> {
  refusedUpstream ??= closedPort().then((port) => `http://127.0.0.1:${port}`);
  const upstream = isProxyStack(stack) ? [await refusedUpstream] : [];
  // One at a time: a server starting would steal the core of another's warm-up.
  const servers: Server[] = [];
  for (const variant of variants) {
    // One folder per server: Node.js writes a profile per thread (the module loader has its own).
    const flags = values.prof ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}/${stack}-${variant}`] : [];
    const child = startChild('server.ts', [`${stack}:${variant}`, ...upstream], { ...childOptions, nodeFlags: flags });
    const ready = await child.next<Extract<ChildReply, { type: 'ready' }>>('ready');
    servers.push({ variant, child, url: `http://127.0.0.1:${ready.port}${path}` });
  }
  return servers;
}

async function stopServers(servers: readonly Server[]): Promise<void> {
  await Promise.all(servers.map((server) => server.child.stop()));
}

/** One request through each server: the answer must be what the comparison claims it is. */
async function check(servers: readonly Server[], expected: (variant: Variant) => number): Promise<string[]> {
  const notes: string[] = [];
  for (const { variant, url } of servers) {
    const response = await fetch(url);
    const body = await response.text();
    const want = expected(variant);
    if (response.status !== want) throw new Error(`${url} (${variant}): expected ${want}, got ${response.status}: ${body}`);
    const problem = variant === 'ge' || variant === 'ge-quiet' || variant === 'floor';
    if (problem && response.headers.get('content-type') !== 'application/problem+json; charset=utf-8') {
      throw new Error(`${url} (${variant}): not problem+json`);
    }
    if (problem && response.headers.get('x-request-id') === null) throw new Error(`${url} (${variant}): no request ID`);
    const code = problem ? problemCode(body) : undefined;
    if (problem && code !== 'UPSTREAM_UNREACHABLE') throw new Error(`${url} (${variant}): code ${code}, not UPSTREAM_UNREACHABLE`);
    const shown = code === undefined ? '' : ` ${code}`;
    notes.push(`${variant}: ${response.status} ${response.headers.get('content-type') ?? ''}${shown}, ${body.length} bytes`);
  }
  return notes;
}

function problemCode(body: string): string | undefined {
  try {
    const { code } = JSON.parse(body) as { code?: unknown };
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

async function measure(server: Server, duration: number): Promise<Sample> {
  const before = await server.child.request<CpuReading>('cpu');
  const load = await hit({ url: server.url, connections: settings.connections, duration });
  const after = await server.child.request<CpuReading>('cpu');
  const cpu = after.user - before.user + (after.system - before.system);
  return { load, cpuPerRequest: cpu / load.requests, busy: cpu / ((after.wallNs - before.wallNs) / 1000) };
}

/** Warm every server up, then A B C A B C …: each round measures every variant once, back to back. */
async function alternate(servers: readonly Server[], expected: (variant: Variant) => number): Promise<Map<Variant, Sample[]>> {
  for (const server of servers) await hit({ url: server.url, connections: settings.connections, duration: settings.warmup });
  const samples = new Map<Variant, Sample[]>(servers.map((server) => [server.variant, []]));
  for (let round = 0; round < settings.rounds; round++) {
    for (const server of servers) {
      const sample = await measure(server, settings.duration);
      const wrong = Object.entries(sample.load.statuses).filter(([code]) => Number(code) !== expected(server.variant));
      if (wrong.length > 0 || sample.load.errors > 0) {
        throw new Error(`${server.url} (${server.variant}): unexpected answers ${JSON.stringify(wrong)}, ${sample.load.errors} errors`);
      }
      samples.get(server.variant)!.push(sample);
    }
    progress(`  round ${round + 1}/${settings.rounds}`);
  }
  return samples;
}

interface Comparison {
  readonly a: Variant;
  readonly b: Variant;
  /** Least acceptable A/B, or undefined where there is no target. */
  readonly target: number | undefined;
  /** Shown in the target column where there is no target: what to expect, for information. */
  readonly info?: string;
}

interface Verdict {
  readonly framework: Stack;
  readonly comparison: Comparison;
  readonly throughput: ReturnType<typeof spread>;
  readonly cpu: ReturnType<typeof spread>;
  readonly decidedBy: 'req/s' | 'CPU/req';
  readonly met: boolean | undefined;
}

/** A variant's name in the tables: a proxy stack's own handling is its "stack default". */
function variantName(stack: Stack, variant: Variant): string {
  return variant === 'default' && isProxyStack(stack) ? 'stack default' : VARIANT_NAMES[variant];
}

function variantLabel(stack: Stack, variant: Variant): string {
  if (variant === 'peer' && !isProxyStack(stack)) return `${VARIANT_NAMES[variant]}: ${PEERS[stack]}`;
  if (variant === 'default' && isProxyStack(stack)) return `${variantName(stack, variant)}: ${PROXY_DEFAULTS[stack].how}`;
  return VARIANT_NAMES[variant];
}

function variantRows(framework: Stack, samples: Map<Variant, Sample[]>): string[][] {
  return [...samples].map(([variant, list]) => [
    STACK_NAMES[framework],
    variantLabel(framework, variant),
    show(spread(list.map((s) => s.load.rps))),
    show(spread(list.map((s) => s.load.p50)), 2),
    show(spread(list.map((s) => s.load.p99)), 2),
    show(spread(list.map((s) => s.cpuPerRequest)), 1),
    show(spread(list.map((s) => s.busy * 100))),
  ]);
}

function compare(framework: Stack, samples: Map<Variant, Sample[]>, comparison: Comparison): Verdict {
  const a = samples.get(comparison.a)!;
  const b = samples.get(comparison.b)!;
  const throughput = spread(ratios(a.map((s) => s.load.rps), b.map((s) => s.load.rps)));
  // CPU efficiency: B's CPU per request over A's, so above 1 means A is cheaper, like req/s.
  const cpu = spread(ratios(b.map((s) => s.cpuPerRequest), a.map((s) => s.cpuPerRequest)));
  const busy = spread([...a, ...b].map((s) => s.busy)).median;
  const decidedBy = busy < SATURATED ? 'CPU/req' : 'req/s';
  const decisive = decidedBy === 'req/s' ? throughput.median : cpu.median;
  const met = comparison.target === undefined ? undefined : decisive >= comparison.target;
  return { framework, comparison, throughput, cpu, decidedBy, met };
}

function verdictRows(verdicts: readonly Verdict[]): string[][] {
  return verdicts.map(({ framework, comparison, throughput, cpu, decidedBy, met }) => [
    STACK_NAMES[framework],
    `${variantName(framework, comparison.a)} / ${variantName(framework, comparison.b)}`,
    show(throughput, 3),
    show(cpu, 3),
    comparison.target === undefined ? (comparison.info ?? '—') : `≥ ${comparison.target} (${decidedBy})`,
    met === undefined ? '—' : met ? 'met' : '**missed**',
  ]);
}

const VARIANT_HEADER = ['framework', 'variant', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'server busy %'];
const RATIO_HEADER = ['framework', 'A / B', 'req/s ratio A/B', 'CPU/req ratio B/A', 'target', 'result'];
const verdicts: Verdict[] = [];

async function errorSuite(): Promise<void> {
  emit('## 1. Error path: a route whose upstream call fails');
  emit();
  const variants: readonly Variant[] = ['ge-quiet', 'floor', 'peer', 'ge', 'default'];
  const expected = (variant: Variant): number => (variant === 'default' ? 500 : 502);
  const comparisons: readonly Comparison[] = [
    { a: 'ge-quiet', b: 'floor', target: 0.95 },
    { a: 'ge-quiet', b: 'peer', target: undefined },
    { a: 'ge', b: 'default', target: 1 },
  ];
  const checks = await measureFrameworks('error path', { stacks: frameworks, variants, path: ERROR_PATH, expected, comparisons: () => comparisons });
  emitChecks(checks);
}

function emitChecks(checks: readonly string[]): void {
  emit('<details><summary>What each variant answered (one request, before the rounds)</summary>');
  emit();
  for (const note of checks) emit(`- ${note}`);
  emit();
  emit('</details>');
  emit();
}

async function proxySuite(): Promise<void> {
  emit('## 2. Proxy stacks: a refused upstream');
  emit();
  const variants: readonly Variant[] = ['ge-quiet', 'ge', 'default'];
  const expected = (variant: Variant, stack: Stack): number =>
    variant === 'default' && isProxyStack(stack) ? PROXY_DEFAULTS[stack].status : 502;
  // Like with like: the stack's default against gateway-errors logging as much as it does (Hono's logs every error).
  const info = "≥ 1.00 (info: gateway-errors vs the stack's default)";
  const comparisons = (stack: Stack): readonly Comparison[] =>
    stack === 'hono-proxy'
      ? [
          { a: 'ge', b: 'default', target: undefined, info },
          { a: 'ge-quiet', b: 'default', target: undefined },
        ]
      : [
          { a: 'ge-quiet', b: 'default', target: undefined, info },
          { a: 'ge', b: 'default', target: undefined },
        ];
  const checks = await measureFrameworks('proxy', { stacks: proxyStacks, variants, path: ERROR_PATH, expected, comparisons });
  emitChecks(checks);
}

async function happySuite(): Promise<void> {
  emit('## 3. Happy path: bare vs with the request-ID middleware');
  emit();
  const variants: readonly Variant[] = ['bare', 'id-floor', 'request-id', 'request-id-no-hop'];
  const expected = (): number => 200;
  const comparisons: readonly Comparison[] = [
    { a: 'request-id', b: 'bare', target: 0.97 },
    // Without the AsyncLocalStorage of the upstream helpers: what the request ID alone costs.
    { a: 'request-id-no-hop', b: 'bare', target: undefined },
    // What any request-ID middleware costs in this framework: the like-for-like reference.
    { a: 'request-id', b: 'id-floor', target: undefined },
    { a: 'id-floor', b: 'bare', target: undefined },
  ];
  await measureFrameworks('happy path', { stacks: frameworks, variants, path: OK_PATH, expected, comparisons: () => comparisons });
}

interface Measurement {
  readonly stacks: readonly Stack[];
  readonly variants: readonly Variant[];
  readonly path: string;
  readonly expected: (variant: Variant, stack: Stack) => number;
  readonly comparisons: (stack: Stack) => readonly Comparison[];
}

/** Every stack's servers, checked, measured in alternating rounds and compared; emits both tables. */
async function measureFrameworks(label: string, { stacks, variants, path, expected, comparisons }: Measurement): Promise<string[]> {
  const rows: string[][] = [];
  const local: Verdict[] = [];
  const checks: string[] = [];
  for (const stack of stacks) {
    progress(`${label}: ${stack}`);
    const servers = await startServers(stack, variants, path);
    const answers = (variant: Variant): number => expected(variant, stack);
    try {
      checks.push(...(await check(servers, answers)).map((note) => `${stack} ${note}`));
      const samples = await alternate(servers, answers);
      rows.push(...variantRows(stack, samples));
      for (const comparison of comparisons(stack)) local.push(compare(stack, samples, comparison));
    } finally {
      await stopServers(servers);
    }
  }
  verdicts.push(...local);
  emit(table(VARIANT_HEADER, rows));
  emit();
  emit(table(RATIO_HEADER, verdictRows(local)));
  emit();
  return checks;
}

async function microSuite(): Promise<void> {
  emit('## 4. Micro: per call, against `JSON.stringify` of a same-sized object');
  emit();
  progress('micro');
  const child = startChild('micro.ts', [String(settings.microRounds), String(settings.microBudgetMs)], childOptions);
  let samples: readonly MicroSample[];
  let tables: readonly string[] = [];
  try {
    const reply = await child.next<Extract<ChildReply, { type: 'micro' }>>('micro', 120_000);
    samples = reply.results;
    tables = reply.tables ?? [];
  } finally {
    await child.stop();
  }
  const names = [...new Set(samples.map((sample) => sample.name))];
  const reference = samples.filter((sample) => sample.name === names[0]).map((sample) => sample.nsPerCall);
  const render = samples.filter((sample) => sample.name === 'renderProblem()').map((sample) => sample.nsPerCall);
  if (render.length > 0) renderRatio = spread(ratios(render, reference)).median;
  emit(
    table(
      ['function', 'ns per call', `× ${names[0]}`],
      names.map((name) => {
        const own = samples.filter((sample) => sample.name === name).map((sample) => sample.nsPerCall);
        return [name, show(spread(own)), show(spread(ratios(own, reference)), 2)];
      }),
    ),
  );
  emit();
  // Tables the child made itself (the masking cost per KB at 1 KB … 1 MB).
  for (const markdown of tables) {
    emit(markdown);
    emit();
  }
}

async function memorySuite(): Promise<void> {
  const amount = settings.memoryAmount.toLocaleString('en-US');
  emit(`## 5. Memory: ${amount} error responses through one server`);
  emit();
  type MemoryReading = Extract<ChildReply, { type: 'memory' }>;
  const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
  const signed = (bytes: number): string => `${bytes >= 0 ? '+' : '−'}${mib(Math.abs(bytes))}`;
  const rows: string[][] = [];
  // The proxy stacks answer real refusals: every response is a connection to the closed upstream port.
  for (const framework of [...frameworks, ...proxyStacks]) {
    progress(`memory: ${framework}`);
    const [server] = await startServers(framework, ['ge'], ERROR_PATH);
    try {
      await hit({ url: server!.url, connections: settings.connections, amount: settings.memoryWarmup });
      const before = await server!.child.request<MemoryReading>('memory');
      const load = await hit({ url: server!.url, connections: settings.connections, amount: settings.memoryAmount });
      const after = await server!.child.request<MemoryReading>('memory');
      const answered = load.statuses['502'] ?? 0;
      rows.push([
        STACK_NAMES[framework],
        answered.toLocaleString('en-US'),
        `${mib(before.heapUsed)} → ${mib(after.heapUsed)}`,
        signed(after.heapUsed - before.heapUsed),
        `${after.heapUsed >= before.heapUsed ? '+' : '−'}${(Math.abs(after.heapUsed - before.heapUsed) / answered).toFixed(2)}`,
        `${mib(before.rss)} → ${mib(after.rss)}`,
        signed(after.rss - before.rss),
      ]);
    } finally {
      await stopServers(server === undefined ? [] : [server]);
    }
  }
  emit(
    table(['framework (gateway-errors, default logging)', '502s answered', 'heap MiB', 'heap Δ MiB', 'heap Δ bytes/response', 'RSS MiB', 'RSS Δ MiB'], rows),
  );
  emit();
}

// ---------------------------------------------------------------------------------------------
// The report

function machine(): string[] {
  const model = (() => {
    try {
      const lscpu = execFileSync('lscpu', { encoding: 'utf8' });
      return /^Model name:\s*(.+)$/m.exec(lscpu)?.[1]?.trim();
    } catch {
      return undefined;
    }
  })();
  return [
    `- CPU: ${model ?? cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores visible, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `- Node.js ${process.version} on ${process.platform} ${process.arch}`,
    canPin
      ? `- Pinning: servers on core ${SERVER_CORE}, autocannon (this process) on core ${LOAD_CORE}, with taskset`
      : '- Pinning: unavailable (no taskset): servers and load generator share the cores',
    `- Load average at the start: ${loadavg().map((n) => n.toFixed(2)).join(', ')}`,
  ];
}

/** `renderProblem()` per call over `JSON.stringify` of its body, from the micro suite: lower is better. */
let renderRatio: number | undefined;
const RENDER_TARGET = 1.5;

/** The table of the targets, one row per target and a column per framework: this run's median ratios, met or missed. */
function glance(): string[] {
  const rows: Array<{ label: string; a: Variant; b: Variant; target: number }> = [
    { label: 'error path, logging off ÷ hand-written static 502 floor', a: 'ge-quiet', b: 'floor', target: 0.95 },
    { label: 'error path, default logging ÷ framework default (a logged bare 500)', a: 'ge', b: 'default', target: 1 },
    { label: 'happy path with `requestId()` ÷ bare', a: 'request-id', b: 'bare', target: 0.97 },
  ];
  const cell = (value: number, met: boolean): string => (met ? `${value.toFixed(2)} met` : `${value.toFixed(2)} **missed**`);
  const body = rows.map(({ label, a, b, target }) => [
    label,
    ...FRAMEWORKS.map((framework) => {
      const verdict = verdicts.find((v) => v.framework === framework && v.comparison.a === a && v.comparison.b === b);
      if (verdict?.met === undefined) return '';
      return cell(verdict.decidedBy === 'req/s' ? verdict.throughput.median : verdict.cpu.median, verdict.met);
    }),
    `≥ ${target.toFixed(2)}`,
  ]);
  body.push([
    '`renderProblem()` ÷ `JSON.stringify` of the same body (per call)',
    renderRatio === undefined ? '' : cell(renderRatio, renderRatio <= RENDER_TARGET),
    ...FRAMEWORKS.slice(1).map(() => ''),
    `≤ ${RENDER_TARGET.toFixed(2)}`,
  ]);
  if (body.every((row) => row.slice(1, -1).every((value) => value === ''))) return [];
  return [
    '## At a glance',
    '',
    'Each cell: the median of the per-round ratios of this run (req/s where the server was saturated, else CPU per request; see the Method).',
    '',
    table(['', ...FRAMEWORKS.map((framework) => STACK_NAMES[framework]), 'target'], body),
  ];
}

function summary(): string[] {
  const lines: string[] = [];
  const missed = verdicts
    .filter((verdict) => verdict.met === false)
    .map((v) => `${STACK_NAMES[v.framework]} ${variantName(v.framework, v.comparison.a)} / ${variantName(v.framework, v.comparison.b)}`);
  let targets = verdicts.filter((verdict) => verdict.met !== undefined).length;
  if (renderRatio !== undefined) {
    targets += 1;
    if (renderRatio > RENDER_TARGET) missed.push('renderProblem() / JSON.stringify');
  }
  lines.push(
    targets === 0
      ? 'The suites of this run have no targets.'
      : missed.length === 0
        ? `All ${targets} targets met in this run.`
        : `Missed in this run (${missed.length} of ${targets}): ${missed.join('; ')}.`,
  );
  return lines;
}

/** Waits, at most `seconds`, for the 1-minute load average to fall below {@link QUIET_LOAD}. */
async function quiet(seconds: number): Promise<void> {
  const until = Date.now() + seconds * 1000;
  if (loadavg()[0]! < QUIET_LOAD || seconds <= 0) return;
  progress(`waiting up to ${seconds} s for a quiet machine (load average ${loadavg()[0]!.toFixed(2)}, below ${QUIET_LOAD} wanted)`);
  while (loadavg()[0]! >= QUIET_LOAD && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 5_000));
}

async function main(): Promise<void> {
  // A whole run waits for the build before it to settle; a partial or quick one starts at once unless told.
  await quiet(Number(values['quiet-wait'] ?? (quick || positionals.length > 0 ? 0 : 300)));
  const started = Date.now();
  const pinned = pinSelf(LOAD_CORE);
  const command = `npx -y pnpm@10.34.8 bench${process.argv.slice(2).length > 0 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
  const header = [
    '# Benchmark results',
    '',
    `Produced by \`${command}\` (from the repository root; it builds the packages first) on ${new Date().toISOString().slice(0, 10)}.`,
    '',
    ...machine(),
    `- Settings: ${settings.rounds} alternating rounds of ${settings.duration} s per variant after a ${settings.warmup} s warm-up, ${settings.connections} connections, no pipelining`,
    ...(loadavg()[0]! >= QUIET_LOAD
      ? ['', `> The machine was not quiet at the start (load average ${QUIET_LOAD} or more): the load generator and the servers may have shared their cores with other work. Treat these numbers as indicative and re-run on a quiet machine.`]
      : ['', `> A quiet machine at the start (load average below ${QUIET_LOAD}): the targets below count.`]),
  ];
  for (const line of header) progress(line);
  if (!pinned) progress('(not pinned: results share cores with the load generator)');

  for (const suite of suites) {
    if (suite === 'error') await errorSuite();
    if (suite === 'proxy') await proxySuite();
    if (suite === 'happy') await happySuite();
    if (suite === 'micro') await microSuite();
    if (suite === 'memory') await memorySuite();
  }
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  // The table of the targets heads RESULTS.md; on the console it closes the run.
  console.log([...glance(), ''].join('\n'));
  const tail = [...summary(), '', `Whole run: ${minutes} min; load average at the end: ${loadavg().map((n) => n.toFixed(2)).join(', ')}.`];
  for (const line of tail) emit(line);

  const full =
    !quick && suites.length === SUITES.length && frameworks.length === FRAMEWORKS.length && proxyStacks.length === PROXY_STACKS.length;
  const target = values.out ?? (full ? `${benchDir}RESULTS.md` : undefined);
  if (target !== undefined) {
    writeFileSync(target, [...header, '', ...glance(), '', readMethod(), '', ...output, ''].join('\n'));
    progress(`wrote ${target}`);
  }
}

/** The method section of RESULTS.md, kept beside the code that implements it. */
function readMethod(): string {
  return METHOD;
}

const METHOD = `## Method

- **Pinning.** Each server runs in its own Node.js process pinned to core ${SERVER_CORE}; autocannon runs in the runner's
  process pinned to core ${LOAD_CORE} (\`taskset\`). Only one server is under load at any time.
- **Alternation.** A comparison's variants are all started, warmed up, then measured A B C … A B C … for every round,
  back to back, so machine drift hits them alike. Ratios are taken round by round (the A and B of the same round),
  then summarised as median (min–max). Every cell is median (min–max) over the rounds.
- **CPU per request.** The server reports \`process.cpuUsage()\` (user + system) before and after each round over IPC;
  CPU µs/req is that delta over the responses autocannon counted. *Server busy %* is that delta over wall time: at
  ${SATURATED * 100}% or more the server was the bottleneck and req/s decides a target; below, the load generator was,
  and CPU per request decides (a ratio B/A above 1 means A spends less CPU per request).
- **The failing upstream.** At start-up each server calls \`fetch\` once on a 127.0.0.1 port that was just closed and
  keeps the real \`TypeError: fetch failed\` (cause \`ECONNREFUSED\`). The route's upstream call rethrows that same
  error on every request, in every variant: the runs measure the error handling, not the kernel refusing a connection.
- **Variants of the error path.** *gateway-errors* installs the adapter's error handler only (Express
  \`gatewayErrors()\`, Fastify's bare \`errorHandler()\`, Hono \`app.onError(gatewayErrors())\`, Nest
  \`GatewayExceptionFilter\` as a global filter); the request-ID middleware is what the happy path measures.
  *Framework default* leaves the framework's own handling (a 500). *Ecosystem peer*: the route catches the failure
  and raises the peer's 502, which the peer's usual handler answers. *Floor*: a hand-written handler that writes a
  static 502 problem+json body with the same five headers (\`content-type\`, \`cache-control\`,
  \`x-content-type-options\`, a fresh \`x-request-id\` — Fastify's \`request.id\` there, as gateway-errors uses —
  and \`proxy-status\`), and no log line.
- **Like with like.** The floor and the peers write no log line, so gateway-errors is measured against them with its
  logging hook off (\`onError: false\`). Against the framework defaults, which log every unknown error (Express's
  finalhandler, Hono's \`console.error\`, Nest's \`ExceptionsHandler\` logger), gateway-errors runs with its
  default logging: one JSON line on stderr (Express, Hono), Nest's \`Logger\`, Fastify's \`request.log\`. Fastify
  runs with its default \`logger: false\` in every variant, so neither side writes there.
- **Proxy stacks.** Express 5 + http-proxy-middleware 3 (\`createProxyMiddleware({ target, changeOrigin: true })\` on
  \`/orders\`), Fastify 5 + @fastify/http-proxy 11 (prefix \`/orders\`) and Hono 4's \`proxy()\` from \`hono/proxy\`
  (on \`/orders/*\`) forward to one 127.0.0.1 port that the runner opened and closed before any server started:
  every request is a real refused connection through the proxy library, unlike the error path's stored error, so
  every response also pays for the connection attempt. *Stack default* is the proxy wired as its docs show and
  nothing else: http-proxy-middleware's error page (504, text naming the host and path; its default logger is a
  no-op), @fastify/reply-from's error through Fastify's default handler (500 JSON; \`logger: false\`, so no log),
  Hono's default onError (500 text, and \`console.error\` of each error). *gateway-errors* is each adapter's
  "Behind a proxy" recipe: Express \`...proxyProblems(conventions, { upstream: 'orders' })\` in the proxy's options
  and \`gatewayErrors(conventions)\`; Fastify \`genReqId(conventions)\`, the plugin and
  \`replyOptions: proxyReplyOptions(conventions, { upstream: 'orders' })\`; Hono
  \`proxyUpstream(c, url, { upstream: 'orders', raw: c.req.raw })\` and \`app.onError(gatewayErrors(conventions))\`;
  each with logging off (\`onError: false\`) and with its default logging. The like-for-like ratio carries
  "≥ 1.00" in the target column, for information only: logging off against the silent defaults of
  http-proxy-middleware and Fastify, default logging against Hono's, which logs.
- **The log sink.** Every server's stdout and stderr are /dev/null opened as a file: each log line costs the
  formatting and one synchronous \`write(2)\`, as with a file or journald, and nothing accumulates.
- **Happy path.** \`GET /ok\` answering \`{"ok":true}\`, bare vs with the request-ID middleware installed the way each
  README shows (Express and Hono \`app.use(requestId())\`, Fastify \`genReqId\` + the plugin, Nest
  \`GatewayErrorsModule.forRoot()\`). No incoming \`x-request-id\`: every request gets a new UUID. The
  like-for-like reference is a *hand-written request-ID middleware* in each framework's own idiom
  (\`res.setHeader\` in Express and a Nest middleware, an \`onRequest\` hook with \`genReqId\` in Fastify,
  \`c.header()\` in Hono) that sets a fresh \`randomUUID()\` and validates nothing: what any request ID costs there.
- **Micro.** In a child process on the server core: calls per measurement sized to ${settings.microBudgetMs} ms,
  rounds alternating the three functions; the reference is \`JSON.stringify\` of the problem body object itself.
- **Memory.** gateway-errors with default logging, on every framework and every proxy stack (there each response
  is a real refused connection); ${settings.memoryWarmup.toLocaleString('en-US')} warm-up responses, then heap and
  RSS after \`gc()\` (twice), ${settings.memoryAmount.toLocaleString('en-US')} more error responses, then heap and
  RSS after \`gc()\` again.
- **Never asserted.** The tests of the packages contain no timing; these numbers are printed, not checked.`;

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
