import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

// Runtime-neutral: a neutral platform keeps Node.js assumptions out of the bundle. The `node` entry
// alone may use Node.js modules (AsyncLocalStorage); it is built on its own so `clean` runs once.
const neutral = packageBuild({ index: 'src/index.ts', upstream: 'src/upstream.ts' }, 'neutral');
const node = packageBuild({ node: 'src/node.ts' }, 'node');

export default defineConfig([
  ...[neutral].flat().map((options) => ({ ...(options as object) })),
  ...[node].flat().map((options) => ({ ...(options as object), clean: false })),
]);
