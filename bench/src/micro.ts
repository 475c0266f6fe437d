/**
 * Micro benchmarks, run as a child process of `run.ts` on the server core: `classify()`,
 * `renderProblem()`, `describeForLog()` (what the default loggers do on every 5xx) and
 * `maskSecrets()` per call against `JSON.stringify` of an object of the same size (the problem
 * body itself), in alternating rounds; then the table "masking cost per KB" (`masking.ts`).
 * argv[2]: rounds; argv[3]: milliseconds per measurement.
 */
import { classify, defineConventions, describeForLog, maskSecrets, renderProblem } from '@gateway-errors/core';
import { refusedFetchError } from './apps/shared.js';
import { maskingTable } from './masking.js';
import type { MicroSample } from './protocol.js';

const rounds = Number(process.argv[2] ?? 6);
const budgetMs = Number(process.argv[3] ?? 100);

const error = await refusedFetchError();
const conventions = defineConventions({ onError: false });
const request = {
  method: 'GET',
  url: '/orders/42?expand=items',
  headers: { host: '127.0.0.1:3000', accept: 'application/json', 'user-agent': 'autocannon', connection: 'keep-alive' },
};
const problem = renderProblem(error, request, conventions);
// The same members, the same strings: what the body costs to serialize, and nothing else.
const sameSized: unknown = JSON.parse(problem.body ?? '{}');

/** The common case: most texts a log view masks are stack lines like these, with nothing to mask. */
const PLAIN_LINE = 'at async OrdersService.findOne (/srv/app/dist/orders/orders.service.js:41:22)';
const PNPM_LINE = 'at async Promise.all (index 0) (/srv/app/node_modules/.pnpm/undici@7.1.0/node_modules/undici/lib/web/fetch/index.js:228:13)';
const SECRET_MESSAGE =
  'request to https://svc:hunter2@api.internal/v1/orders?id=42&token=abc123 failed, reason: connect ECONNREFUSED 10.0.0.7:443 (Authorization: Bearer eyJhbGciOi.x.y)';

let sink = 0;
const subjects: ReadonlyArray<readonly [string, () => void]> = [
  ['JSON.stringify (reference)', () => void (sink += JSON.stringify(sameSized).length)],
  ['classify()', () => void (sink += classify(error).status)],
  ['renderProblem()', () => void (sink += renderProblem(error, request, conventions).status)],
  ['describeForLog() (default log view)', () => void (sink += describeForLog(error).type.length)],
  ['maskSecrets(), stack line, no secret', () => void (sink += maskSecrets(PLAIN_LINE).length)],
  ['maskSecrets(), pnpm stack line (an @), no secret', () => void (sink += maskSecrets(PNPM_LINE).length)],
  ['maskSecrets(), message with secrets', () => void (sink += maskSecrets(SECRET_MESSAGE).length)],
];

function time(run: () => void, calls: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) run();
  return Number(process.hrtime.bigint() - start);
}

// Warm up, then size each measurement to the time budget.
const calls = new Map<string, number>();
for (const [name, run] of subjects) {
  time(run, 20_000);
  const ns = time(run, 20_000) / 20_000;
  calls.set(name, Math.max(1000, Math.round((budgetMs * 1e6) / ns)));
}

const results: MicroSample[] = [];
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of subjects) {
    const n = calls.get(name)!;
    results.push({ name, round, nsPerCall: time(run, n) / n });
  }
}
if (sink === 0) console.log('unreachable');

// Masking cost per KB, 1 KB to 1 MB: a twentieth of the budget per measurement (at least one
// call) keeps the table to about three seconds.
const masking = maskingTable(budgetMs / 20);
// `tables` is Markdown for the runner to print after its own table; run on its own
// (`tsx src/micro.ts`), this process prints everything itself.
if (process.send === undefined) {
  for (const { name, round, nsPerCall } of results) console.log(`${name}, round ${round}: ${nsPerCall.toFixed(0)} ns per call`);
  console.log(`\n${masking}\n`);
}
process.send?.({ type: 'micro', results, tables: [masking] });
process.disconnect?.();
