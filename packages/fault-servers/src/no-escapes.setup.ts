/**
 * A vitest setup file for every package of the workspace (`setupFiles` in
 * `vitest.shared.ts`): a test fails when an unhandled rejection or an
 * uncaught exception happened while it ran, as in h3's `test/_setup.ts`.
 * Vitest reports such errors for the run as a whole; this names the test.
 */
import { afterEach, beforeEach, expect } from 'vitest';

const escaped: unknown[] = [];
const onEscape = (error: unknown): void => void escaped.push(error);

beforeEach(() => {
  escaped.length = 0;
  process.on('unhandledRejection', onEscape);
  process.on('uncaughtException', onEscape);
});

afterEach(async () => {
  // A rejection left unhandled at the test's end is reported once the microtask queue drains: give it a turn.
  await new Promise<void>((resolve) => setImmediate(resolve));
  process.off('unhandledRejection', onEscape);
  process.off('uncaughtException', onEscape);
  expect(escaped.map(shown), 'errors that escaped during the test').toEqual([]);
});

/** The error's stack (or its string form): where it came from matters more than what it says. */
function shown(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  try {
    return String(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}
