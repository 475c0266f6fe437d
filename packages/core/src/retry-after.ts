/**
 * Parses a `Retry-After` value (delay-seconds or an HTTP-date, RFC 9110 §10.2.3)
 * and returns whole seconds from `now`, capped at `max`. Garbage, negative
 * values and dates in the past give `undefined`.
 *
 * @example
 * ```ts
 * parseRetryAfter('120', { max: 60 }); // 60
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT'); // undefined (in the past)
 * ```
 */
export function parseRetryAfter(
  value: unknown,
  { max = 3600, now = Date.now() }: { max?: number; now?: number } = {},
): number | undefined {
  let seconds: number | undefined;
  if (typeof value === 'number') {
    seconds = Number.isFinite(value) && value >= 0 ? Math.ceil(value) : undefined;
  } else if (value instanceof Date) {
    seconds = fromDate(value.getTime(), now);
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (/^\d{1,10}$/.test(text)) seconds = Number(text);
    else if (text.length >= 20 && text.length <= 40 && /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) {
      seconds = fromDate(Date.parse(text), now);
    }
  }
  if (seconds === undefined) return undefined;
  return Math.min(seconds, max);
}

function fromDate(time: number, now: number): number | undefined {
  if (!Number.isFinite(time)) return undefined;
  const delta = Math.ceil((time - now) / 1000);
  return delta > 0 ? delta : undefined;
}
