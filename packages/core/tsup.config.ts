import { packageBuild } from '../../tsup.base.js';

// Runtime-neutral: a neutral platform keeps Node.js assumptions out of the bundle.
export default packageBuild({ index: 'src/index.ts', upstream: 'src/upstream.ts' }, 'neutral');
