import fc from 'fast-check';

/**
 * Property tests run on a fixed seed so that every run of the suite checks the
 * same cases. `FC_SEED=random` explores new ones; `FC_SEED=<n>` replays a
 * reported failure.
 */
const seed = process.env['FC_SEED'];
if (seed !== 'random') fc.configureGlobal({ seed: seed === undefined ? 20_261_202 : Number(seed) });
