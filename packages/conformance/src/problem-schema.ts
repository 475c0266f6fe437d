/**
 * The problem body's contract, as every adapter's answers are checked against it: the core's
 * PROBLEM_SCHEMA, compiled by a real JSON Schema 2020-12 validator with its formats.
 */
import { PROBLEM_SCHEMA } from '@gateway-errors/core';
import ajv2020 from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';

// CommonJS modules whose `default` is the module itself: `.default` is right in every module system.
const validate = ajvFormats.default(new ajv2020.default({ strict: true, allErrors: true })).compile(PROBLEM_SCHEMA);

/** Why `body` is not a problem the suite may send, or `undefined` when it is one. */
export function problemSchemaErrors(body: unknown): string | undefined {
  if (validate(body)) return undefined;
  return (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`).join('; ');
}
