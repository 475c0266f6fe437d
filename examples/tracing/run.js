// Starts the inventory service and the gateway as two processes on 127.0.0.1, asks the gateway for stock
// the inventory fails to give, and follows the failure by its trace ID: the problem body, the gateway's
// SERVER span and the inventory's SERVER span.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * @typedef {{ service: string, name: string, kind: number, traceId: string, spanId: string, parentSpanId?: string, status: number, attributes: Record<string, unknown> }} Span
 * @typedef {{ url: string, spans: Span[], stop(): Promise<void> }} Service
 */

const STARTUP_MS = 10_000;

/**
 * Runs `file` as a service, collecting the spans it prints.
 * @param {string} file
 * @param {Record<string, string>} env
 * @returns {Promise<Service>}
 */
function startService(file, env) {
  const child = spawn(process.execPath, [fileURLToPath(new URL(file, import.meta.url))], {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  /** @type {Span[]} */
  const spans = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${file} did not start within ${STARTUP_MS} ms: ${stderr}`));
    }, STARTUP_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code}: ${stderr}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      /** @type {{ listening?: string, span?: Span }} */
      let record;
      try {
        record = JSON.parse(line);
      } catch {
        return;
      }
      if (record.span !== undefined) spans.push(record.span);
      if (record.listening !== undefined) {
        clearTimeout(timer);
        resolve({
          url: record.listening,
          spans,
          async stop() {
            child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
  });
}

/**
 * Waits until `service` printed a span that `match` accepts, for at most 5 s.
 * @param {Service} service
 * @param {(span: Span) => boolean} match
 */
async function spanOf(service, match) {
  for (let tries = 0; tries < 100; tries++) {
    const span = service.spans.find(match);
    if (span !== undefined) return span;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the span was not printed within 5 s');
}

/**
 * One failure followed across both services.
 * @returns {Promise<{ status: number, body: Record<string, unknown>, gateway: Span, inventory: Span }>}
 */
export async function traceOneFailure() {
  const inventory = await startService('./inventory.js', {});
  try {
    const gateway = await startService('./gateway.js', { INVENTORY_URL: inventory.url });
    try {
      const response = await fetch(`${gateway.url}/stock/broken`, { headers: { 'x-request-id': 'trace-example-1' } });
      const body = /** @type {Record<string, unknown>} */ (await response.json());
      const server = (/** @type {Span} */ span) => span.kind === 1;
      return {
        status: response.status,
        body,
        gateway: await spanOf(gateway, (span) => server(span) && span.attributes['gateway_errors.request_id'] === 'trace-example-1'),
        inventory: await spanOf(inventory, server),
      };
    } finally {
      await gateway.stop();
    }
  } finally {
    await inventory.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { status, body, gateway, inventory } = await traceOneFailure();
  console.log(`GET /stock/broken → ${status} ${body.code}, problem traceId ${body.traceId}\n`);
  for (const span of [gateway, inventory]) {
    const ours = Object.entries(span.attributes).filter(([key]) => key.startsWith('gateway_errors.') || key === 'error.type' || key === 'http.response.status_code');
    console.log(`${span.service.padEnd(9)} ${span.name.padEnd(16)} trace ${span.traceId}  span ${span.spanId}  parent ${span.parentSpanId ?? '-'}  status ${['UNSET', 'OK', 'ERROR'][span.status]}`);
    for (const [key, value] of ours) console.log(`${' '.repeat(10)}${key} = ${JSON.stringify(value)}`);
  }
  const one = body.traceId === gateway.traceId && gateway.traceId === inventory.traceId;
  console.log(`\n${one ? 'One trace ID' : 'Different trace IDs'} from the inventory's span to the gateway's span and the problem body.`);
  process.exitCode = one ? 0 : 1;
}
