/**
 * The application's mappers (`ErrorMapper`): run guarded, their answers validated and capped like a
 * built-in result, then either taking the decision over or refining the built-in one.
 */
import { finish } from './classification.js';
import type { Classification, ClassificationOverride, ClassifyOptions, ClassifyRequest, Context, ErrorMapper } from './classification.js';
import { CODE_INFO, codeForStatus, isProxyErrorType } from './codes.js';
import { field } from './own.js';
import { parseRetryAfter } from './retry-after.js';
import { fieldErrors, upstreamName, validUpstream } from './shapes/own-errors.js';
import { isErrorStatus, isHttpStatus, truncate } from './signals.js';

const MAX_TITLE = 200;
/** A problem code: what a mapper may name, beside the built-in ones. */
const CODE = /^[A-Za-z][A-Za-z0-9_.:-]{0,99}$/;

/**
 * @internal Runs a mapper and keeps only what it may say, validated and capped like a built-in result:
 * each field of its answer is read once, as an own property, and dropped when it has the wrong type.
 */
export function runMapper(mapper: ErrorMapper, node: unknown, request: ClassifyRequest | undefined): ClassificationOverride | undefined {
  try {
    const result = mapper(node, request);
    return typeof result === 'object' && result !== null ? validOverride(result) : undefined;
  } catch {
    return undefined;
  }
}

/** @internal Whether a mapper's answer takes the decision over: it names a status or a known code. */
export function decisive(override: ClassificationOverride): boolean {
  return override.status !== undefined || (override.code !== undefined && CODE_INFO[override.code] !== undefined);
}

function validOverride(result: object): ClassificationOverride | undefined {
  // Null-prototype: a member the mapper did not set reads as undefined, whatever Object.prototype holds.
  const override = Object.create(null) as ClassificationOverride;
  const status = field(result, 'status');
  if (isErrorStatus(status)) override.status = status;
  const code = field(result, 'code');
  if (typeof code === 'string' && CODE.test(code)) override.code = code;
  const title = field(result, 'title');
  if (typeof title === 'string' && title.length > 0) override.title = truncate(title, MAX_TITLE);
  const retryable = field(result, 'retryable');
  if (typeof retryable === 'boolean') override.retryable = retryable;
  const retryAfter = field(result, 'retryAfter');
  if (typeof retryAfter === 'number' || typeof retryAfter === 'string' || retryAfter instanceof Date) override.retryAfter = retryAfter as number;
  const upstream = validUpstream(field(result, 'upstream'));
  if (upstream !== undefined) override.upstream = upstream;
  const expose = field(result, 'expose');
  if (typeof expose === 'boolean') override.expose = expose;
  const proxyError = field(result, 'proxyError');
  if (isProxyErrorType(proxyError)) override.proxyError = proxyError;
  const reached = field(result, 'reachedUpstream');
  if (typeof reached === 'boolean') override.reachedUpstream = reached;
  const upstreamStatus = field(result, 'upstreamStatus');
  if (isHttpStatus(upstreamStatus)) override.upstreamStatus = upstreamStatus;
  const detail = field(result, 'detail');
  if (typeof detail === 'string' && detail.length > 0) override.detail = truncate(detail);
  const errors = field(result, 'errors');
  if (Array.isArray(errors)) override.errors = fieldErrors(errors);
  return override;
}

/** @internal A mapper's decision: the status and code it chose, every other field refined within the same bounds as a built-in one. */
export function fromOverride(override: ClassificationOverride, nodes: readonly unknown[], context: Context): Classification {
  const code = override.code ?? codeForStatus(override.status!);
  const status = override.status ?? CODE_INFO[code]!.status;
  let upstream = override.upstream;
  for (let i = 0; upstream === undefined && i < nodes.length; i++) upstream = upstreamName(nodes[i]);
  const base = finish(
    {
      status,
      code,
      reached: override.reachedUpstream,
      proxyError: override.proxyError,
      retryAfter: override.retryAfter,
      upstreamStatus: override.upstreamStatus,
      expose: override.expose ?? status < 500,
      detail: override.detail,
      errors: override.errors === undefined ? undefined : [...override.errors],
    },
    { ...context, upstream },
  );
  return {
    ...base,
    title: override.title ?? base.title,
    retryable: override.retryable ?? base.retryable,
  };
}

/** @internal A mapper's refinement never changes the decided status, and its Retry-After is validated like any other. */
export function refine(result: Classification, refinement: ClassificationOverride, options: ClassifyOptions | undefined): Classification {
  const { status: _status, retryAfter, ...rest } = refinement;
  const refined = { ...result, ...rest };
  if (retryAfter === undefined) return refined;
  return { ...refined, retryAfter: parseRetryAfter(retryAfter, { max: options?.maxRetryAfter ?? 120 }) ?? result.retryAfter };
}
