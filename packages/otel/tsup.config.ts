import { packageBuild } from '../../tsup.base.js';

// `index` touches nothing of Node.js (the OpenTelemetry API is read from its global slot); `prometheus` needs prom-client.
export default packageBuild({ index: 'src/index.ts', prometheus: 'src/prometheus.ts' }, 'neutral');
