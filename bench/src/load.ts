// The load generator: autocannon in this process, with latencies kept at microsecond resolution.
import autocannon from 'autocannon';

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  /** Latency percentiles in milliseconds. */
  readonly p50: number;
  readonly p99: number;
  /** Responses per status code. */
  readonly statuses: Readonly<Record<string, number>>;
  readonly errors: number;
}

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  /** Seconds; ignored when `amount` is set. */
  readonly duration?: number | undefined;
  /** Stop after this many responses. */
  readonly amount?: number | undefined;
}

// autocannon's own latency histogram counts whole milliseconds: too coarse for sub-millisecond answers.
const BUCKETS = 1_000_000; // 1 µs each, up to one second
const counts = new Uint32Array(BUCKETS + 1);

function percentile(total: number, fraction: number): number {
  const rank = Math.ceil(total * fraction);
  let seen = 0;
  for (let micros = 0; micros <= BUCKETS; micros++) {
    seen += counts[micros]!;
    if (seen >= rank) return micros / 1000;
  }
  return BUCKETS / 1000;
}

export async function hit({ url, connections, duration, amount }: LoadOptions): Promise<LoadResult> {
  counts.fill(0);
  let responses = 0;
  const instance = autocannon({
    url,
    connections,
    pipelining: 1,
    timeout: 10,
    // autocannon checks its stop flag once per sample: at the default 1 s, a 1.5 s run would last 2 s.
    sampleInt: 250,
    ...(amount === undefined ? { duration: duration ?? 1 } : { amount }),
  });
  // autocannon emits (client, statusCode, bytes, milliseconds).
  instance.on('response', (...args: [unknown, number, number, number]) => {
    const micros = Math.round(args[3] * 1000);
    counts[micros < BUCKETS ? micros : BUCKETS]! += 1;
    responses += 1;
  });
  const result = await instance;
  const statuses: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statuses[code] = Number(count);
  return {
    requests: result.requests.total,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    p50: percentile(responses, 0.5),
    p99: percentile(responses, 0.99),
    statuses,
    errors: result.errors,
  };
}
