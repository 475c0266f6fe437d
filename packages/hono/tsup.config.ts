import { packageBuild } from '../../tsup.base.js';

// Runs on Node.js, Bun, Deno and Workers: no Node.js assumptions in the bundle.
export default packageBuild({ index: 'src/index.ts' }, 'neutral');
