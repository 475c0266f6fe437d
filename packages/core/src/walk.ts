/**
 * The error graph, the one way the core walks it: the classifier (classify.ts) reads its nodes in
 * this order, and the log view (describe.ts) shows them in this order. Its edges are `cause`, the
 * network error a Stripe error keeps as `detail`, and the errors of an `AggregateError`. A new kind
 * of wrapper is taught here, and both readers follow it.
 */
import { BRAND } from './errors.js';
import { field, keep } from './own.js';

/** Nodes the classifier reads at most: the thrown value and what is behind it. */
export const MAX_NODES = 32;

/** Errors behind the thrown one that a description (a development body, a log line) shows at most. */
export const MAX_CAUSES = 8;

/**
 * @internal The thrown value, then breadth-first whatever is behind it: outermost first, each value
 * once (cycle-safe), at most `limit` values. Each edge is read once, as an own property; a node whose
 * getters or Proxy traps throw has no edges. Never throws.
 */
export function walk(error: unknown, limit: number): unknown[] {
  const nodes: unknown[] = [error];
  for (let i = 0; i < nodes.length && nodes.length < limit; i++) {
    const found = nodes[i];
    if (typeof found !== 'object' || found === null) continue;
    const node = found as Record<string, unknown>;
    try {
      const cause = keep(node, 'cause', node['cause']);
      if (cause !== undefined && cause !== null && !nodes.includes(cause)) nodes.push(cause);
      // Stripe's StripeConnectionError keeps the network error as `detail`. This library's errors keep
      // a public text there, read once, where they are inspected.
      const detail = keep(node, BRAND, (node as { [BRAND]?: unknown })[BRAND]) === true ? undefined : keep(node, 'detail', node['detail']);
      if (typeof detail === 'object' && detail !== null && typeof field(detail, 'message') === 'string' && !nodes.includes(detail)) {
        nodes.push(detail);
      }
      const errors = keep(node, 'errors', node['errors']);
      if (Array.isArray(errors) && (node instanceof AggregateError || keep(node, 'name', node['name']) === 'AggregateError')) {
        for (let j = 0; j < errors.length && nodes.length < limit; j++) {
          if (!nodes.includes(errors[j])) nodes.push(errors[j]);
        }
      }
    } catch {
      // A throwing getter or Proxy trap: this node has no readable edges.
    }
  }
  return nodes;
}
