// Types of the JavaScript example packages the Node.js tests drive (they carry JSDoc, not declarations).
declare module '@gateway-errors-examples/conventions' {
  import type { Conventions, ConventionsOptions } from '@gateway-errors/core';
  import type { Registry } from 'prom-client';

  export function conventionsWithMetrics(overrides?: Partial<ConventionsOptions>): { conventions: Conventions; registry: Registry };
}

declare module '@gateway-errors-examples/express-gateway' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  import type { Conventions } from '@gateway-errors/core';
  import type { Registry } from 'prom-client';

  export function createApp(options: { conventions: Conventions; registry: Registry; upstreams: Record<string, string>; timeoutMs?: number }): (req: IncomingMessage, res: ServerResponse) => void;
}
