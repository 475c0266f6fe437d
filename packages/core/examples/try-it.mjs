// Real failures from a real upstream on 127.0.0.1, through the core, printed as a table.
// Run with `pnpm demo` from the repository root (it builds the core first).
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { defineConventions, renderProblem } from '@gateway-errors/core';
import { fetchUpstream } from '@gateway-errors/core/upstream';

const upstream = createServer((req, res) => {
  const route = new URL(req.url ?? '/', 'http://x').pathname;
  if (route === '/hang') return;
  if (route === '/reset') return req.socket.resetAndDestroy();
  if (route === '/500') return res.writeHead(500).end('db password=hunter2 leaked in a stack');
  if (route === '/503') return res.writeHead(503, { 'retry-after': '7' }).end();
  if (route === '/429') return res.writeHead(429, { 'retry-after': '30' }).end();
  if (route === '/504') return res.writeHead(504).end();
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
});
const garbage = createTcpServer((socket) => socket.end('THIS IS NOT HTTP\r\n\r\n'));
await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
await new Promise((resolve) => garbage.listen(0, '127.0.0.1', resolve));
const refused = createTcpServer();
await new Promise((resolve) => refused.listen(0, '127.0.0.1', resolve));
const refusedPort = refused.address().port;
await new Promise((resolve) => refused.close(resolve));

const base = `http://127.0.0.1:${upstream.address().port}`;
const scenarios = [
  ['refused', 'GET', `http://127.0.0.1:${refusedPort}/`, 502],
  ['reset', 'POST', `${base}/reset`, 502],
  ['garbage', 'GET', `http://127.0.0.1:${garbage.address().port}/`, 502],
  ['upstream 500', 'GET', `${base}/500`, 502],
  ['upstream 503', 'GET', `${base}/503`, 503],
  ['upstream 429', 'POST', `${base}/429`, 503],
  ['upstream 504', 'GET', `${base}/504`, 504],
  ['hang (300 ms deadline)', 'POST', `${base}/hang`, 504],
];

const production = defineConventions({ mode: 'production', onError: false });
const development = defineConventions({ mode: 'development', onError: false });
const rows = [];
let failures = 0;
let sample;
for (const [name, method, url, expected] of scenarios) {
  const started = performance.now();
  let error;
  try {
    const response = await fetchUpstream('inventory', url, { method, timeoutMs: 300 });
    await response.body?.cancel();
  } catch (caught) {
    error = caught;
  }
  const request = { method, url: '/orders/42', headers: { 'x-request-id': `demo-${rows.length + 1}` } };
  const problem = renderProblem(error, request, production);
  sample ??= name === 'upstream 500' ? { error, request } : undefined;
  const ok = problem.status === expected;
  if (!ok) failures++;
  rows.push({
    scenario: name,
    method,
    status: problem.status,
    code: problem.classification.code,
    retryable: problem.classification.retryable,
    'retry-after': problem.headers['retry-after'] ?? '',
    'proxy-status': problem.headers['proxy-status'] ?? '',
    ms: Math.round(performance.now() - started),
    ok: ok ? 'yes' : `NO (expected ${expected})`,
  });
}
console.table(rows);
console.log('\nThe same upstream 500, production body:');
console.log(JSON.stringify(JSON.parse(renderProblem(sample.error, sample.request, production).body), null, 2));
console.log('\nDevelopment body (secrets still masked):');
console.log(JSON.stringify(JSON.parse(renderProblem(sample.error, sample.request, development).body), null, 2));

upstream.closeAllConnections();
upstream.close();
garbage.close();
if (failures > 0) {
  console.error(`\n${failures} scenario(s) did not get the expected status.`);
  process.exitCode = 1;
}
