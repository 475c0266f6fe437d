import { packageBuild } from '../../tsup.base.js';

// Browsers, Node.js, Bun, Deno and Workers: Web APIs only.
export default packageBuild({ index: 'src/index.ts' }, 'neutral');
