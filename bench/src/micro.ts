/**
 * Micro benchmarks, run as a child process of `run.ts` on the server core: `classify()` and
 * `renderProblem()` per call against `JSON.stringify` of an object of the same size (the problem
 * body itself), in alternating rounds. argv[2]: rounds; argv[3]: milliseconds per measurement.
 */
import { classify, defineConventions, renderProblem } from '@gateway-errors/core';
import { refusedFetchError } from './apps/shared.js';
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

let sink = 0;
const subjects: ReadonlyArray<readonly [string, () => void]> = [
  ['JSON.stringify (reference)', () => void (sink += JSON.stringify(sameSized).length)],
  ['classify()', () => void (sink += classify(error).status)],
  ['renderProblem()', () => void (sink += renderProblem(error, request, conventions).status)],
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
process.send?.({ type: 'micro', results });
process.disconnect?.();
