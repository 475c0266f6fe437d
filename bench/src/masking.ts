/**
 * Masking cost per KB: `maskSecrets()` on inputs shaped for each of its masks (URL user-info,
 * query parameters, key=value and JSON pairs, headers, auth schemes), benign and built to
 * backtrack a regular expression, at 1 KB, 10 KB, 100 KB and 1 MB. Linear time means the cost per
 * KB stays flat: the last column, 1 MB over 1 KB, stays near 1 (or below: fixed costs per call
 * weigh more at 1 KB). Run by `micro.ts`; measured, never asserted.
 */
import { maskSecrets } from '@gateway-errors/core';
import { table } from './stats.js';

const SIZES: ReadonlyArray<readonly [label: string, length: number]> = [
  ['1 KB', 1 << 10],
  ['10 KB', 10 << 10],
  ['100 KB', 100 << 10],
  ['1 MB', 1 << 20],
];

interface Shape {
  readonly form: string;
  readonly input: string;
  /** `prefix`, then `unit` repeated, then `suffix`: `length` characters in all. */
  readonly make: (length: number) => string;
}

/** A flat string of `length` characters: `prefix`, `unit` repeated and cut, `suffix`. */
function shaped(unit: string, prefix = '', suffix = ''): (length: number) => string {
  return (length) => {
    const body = length - prefix.length - suffix.length;
    const text = prefix + unit.repeat(Math.ceil(body / unit.length)).slice(0, body) + suffix;
    // `repeat` and `+` build ropes: flatten now, or the first call would pay for it.
    return Buffer.from(text, 'latin1').toString('latin1');
  };
}

const SHAPES: readonly Shape[] = [
  { form: 'URL user-info', input: 'benign: `GET https://svc:pw@api.internal/v1/orders/42 failed;`', make: shaped('GET https://svc:hunter2@api.internal/v1/orders/42 failed; ') },
  { form: 'URL user-info', input: 'attacker: `https://a.a.a.…@`', make: shaped('a.', 'https://', '@db') },
  { form: 'URL user-info', input: 'attacker: `a://@a://@…`', make: shaped('a://@') },
  { form: 'query', input: 'benign: `/search?q=shoes&page=2&access_token=abc123`', make: shaped('GET /search?q=shoes&page=2&access_token=abc123 ') },
  { form: 'query', input: 'attacker: `?tokentoken…`', make: shaped('token', '?') },
  { form: 'query', input: 'attacker: `&token=&token=…`', make: shaped('&token=') },
  { form: 'key=value pair', input: 'benign: `user=bob password=hunter2 retry=3`', make: shaped('login failed: user=bob password=hunter2 retry=3 ') },
  { form: 'key=value pair', input: 'attacker: `a-a-a-…key`', make: shaped('a-', '', 'key') },
  { form: 'key=value pair', input: 'attacker: `password=password=…`', make: shaped('password=') },
  { form: 'JSON pair', input: 'benign: `{"user":"bob","password":"correct horse"}`', make: shaped('{"user":"bob","password":"correct horse battery","id":42} ') },
  { form: 'JSON pair', input: 'attacker: `{"password":"\\"\\"\\"…`', make: shaped('\\"', '{"password":"') },
  { form: 'header', input: 'benign: `Authorization: Bearer …` and `Cookie: …` lines', make: shaped('Authorization: Bearer eyJhbGciOi.x.y\nCookie: sid=abc; theme=dark\n') },
  { form: 'header', input: 'attacker: `Cookie: Cookie: …`', make: shaped('Cookie: ') },
  { form: 'auth scheme', input: 'benign: `Bearer abc123 rejected; token expired`', make: shaped('upstream said: Bearer abc123 rejected; token expired. ') },
  { form: 'auth scheme', input: 'attacker: `token abc token abc …`', make: shaped('token abc ') },
  { form: 'whole maskSecrets', input: 'benign: stack lines, no secret', make: shaped('    at async OrdersService.findOne (/srv/app/dist/orders/orders.service.js:41:22)\n') },
  { form: 'whole maskSecrets', input: 'benign: log text with every form', make: shaped('GET https://u:p@h/x?token=t failed; password="a b", Authorization: Bearer z\n') },
  { form: 'whole maskSecrets', input: 'attacker: every shape above in turn', make: mixed() },
];

/** Every attacker shape above, a few KB of each in turn. */
function mixed(): (length: number) => string {
  const parts = [shaped('a.', 'https://', '@db '), shaped('a://@'), shaped('token', ' ?'), shaped('&token='), shaped('a-', ' ', 'key'), shaped('password='), shaped('\\"', ' {"password":"', '"}\n'), shaped('Cookie: ', '', '\n'), shaped('token abc ')];
  return (length) => {
    const piece = Math.max(64, Math.floor(length / 36));
    let text = '';
    while (text.length < length) for (const part of parts) text += part(piece);
    return Buffer.from(text.slice(0, length), 'latin1').toString('latin1');
  };
}

let sink = 0;

/**
 * CPU nanoseconds per call of `maskSecrets(text)`, calls repeated to at least `budgetMs` of CPU
 * time: CPU time, not wall time, so that a time slice given to another process is not counted.
 */
function nsPerCall(text: string, budgetMs: number): number {
  let calls = 0;
  const start = process.cpuUsage();
  let elapsed = 0;
  while (calls === 0 || elapsed < budgetMs * 1e6) {
    sink += maskSecrets(text).length;
    calls += 1;
    const { user, system } = process.cpuUsage(start);
    elapsed = (user + system) * 1000;
  }
  return elapsed / calls;
}

/**
 * The table "masking cost per KB": CPU µs per KB, the fastest of three measurements of `budgetMs` each
 * (at least one call), and the ratio of the cost per KB at 1 MB to that at 1 KB.
 */
export function maskingTable(budgetMs: number): string {
  // Every path of the scan compiled before the first measurement, so that no row pays for it.
  for (const { make } of SHAPES) {
    const text = make(16 << 10);
    for (let round = 0; round < 5; round += 1) sink += maskSecrets(text).length;
  }
  const rows: string[][] = [];
  for (const { form, input, make } of SHAPES) {
    const perKb = SIZES.map(([, length]) => {
      const text = make(length);
      // The fastest of three: what the scan costs, less what other work on the machine took from it.
      const ns = Math.min(...[0, 1, 2].map(() => nsPerCall(text, budgetMs)));
      return ns / 1000 / (length / 1024);
    });
    const format = (value: number): string => value.toLocaleString('en-US', { maximumFractionDigits: value < 10 ? 2 : 1 });
    rows.push([form, input, ...perKb.map(format), (perKb[perKb.length - 1]! / perKb[0]!).toFixed(2)]);
  }
  if (sink === 0) console.log('unreachable');
  return [
    '### Masking cost per KB: `maskSecrets()`, CPU µs per KB of input (fastest of three measurements)',
    '',
    table(['mask', 'input', ...SIZES.map(([label]) => label), '1 MB / 1 KB'], rows),
  ].join('\n');
}
