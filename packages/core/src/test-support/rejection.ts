/**
 * The rejection of `promise`: fails when it resolves, or when it has not settled within `guard`
 * milliseconds (a client that hangs fails its test instead of stalling the run).
 */
export async function rejection(promise: Promise<unknown>, guard = 4000): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    promise.then(
      (value) => ({ kind: 'resolved' as const, value }),
      (error: unknown) => ({ kind: 'rejected' as const, error }),
    ),
    new Promise<{ kind: 'hung' }>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'hung' }), guard);
    }),
  ]);
  clearTimeout(timer);
  if (outcome.kind === 'rejected') return outcome.error;
  if (outcome.kind === 'hung') throw new Error(`the call did not settle within ${guard} ms`);
  throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)?.slice(0, 200)}`);
}
