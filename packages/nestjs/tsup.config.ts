import { packageBuild } from '../../tsup.base.js';

// Injection uses explicit tokens (@Inject), so the build needs no decorator metadata.
export default packageBuild({ index: 'src/index.ts' }, 'node');
