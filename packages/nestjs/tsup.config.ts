import { packageBuild } from '../../tsup.base.js';

// Injection uses explicit tokens (@Inject), so the build needs no decorator metadata.
// `swagger` is an entry of its own: only it loads @nestjs/swagger, an optional peer.
export default packageBuild({ index: 'src/index.ts', swagger: 'src/swagger.ts' }, 'node');
