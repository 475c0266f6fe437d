/**
 * The default logger's lines survive the end of the process: a normal exit, a `SIGTERM` and an
 * uncaught exception right after the last failure, with stderr a pipe and a file. Each case runs in a
 * child process with the core's sources bundled as the package ships them.
 */
import { execFile, spawn } from 'node:child_process';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCore } from './test-support/bundled-core.js';
import type { BundledCore } from './test-support/bundled-core.js';

const FAILURES = 2_000;
let core: BundledCore;
let dir: string;

beforeAll(async () => {
  core = await bundleCore('gateway-errors-exit-');
  dir = core.dir;
});

afterAll(async () => {
  await core.remove();
});

const ENDINGS = {
  'a normal exit': '',
  'process.exit()': 'process.exit(0);',
  'a SIGTERM without a handler': "process.kill(process.pid, 'SIGTERM');",
  'an uncaught exception': "throw new Error('crash');",
  'an unhandled rejection': "Promise.reject(new Error('crash'));",
} as const;

/** A child that answers `FAILURES` failures with the default logging, then ends as `ending` says. */
async function child(ending: string): Promise<string> {
  const file = join(dir, `child-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(
    file,
    `import * as core from './core.mjs';
const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:443'), { code: 'ECONNREFUSED' });
const conventions = core.defineConventions({});
for (let i = 0; i < ${FAILURES}; i++) {
  core.renderProblem(new TypeError('fetch failed', { cause: refused }), { method: 'GET', url: '/orders/' + i, id: 'line-' + i }, conventions);
}
${ending}
`,
  );
  return file;
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.startsWith('{"level":'));
}

function expectEveryLine(found: string[]): void {
  expect(found).toHaveLength(FAILURES);
  expect(found.map((line) => (JSON.parse(line) as { requestId: string }).requestId)).toEqual(Array.from({ length: FAILURES }, (_, i) => `line-${i}`));
}

describe('the default logger loses no line when the process ends', () => {
  for (const [name, ending] of Object.entries(ENDINGS)) {
    it(`to a pipe, on ${name}`, async () => {
      const file = await child(ending);
      const stderr = await new Promise<string>((resolve) => {
        execFile(process.execPath, [file], { cwd: dir, timeout: 20_000, maxBuffer: 64 * 1024 * 1024 }, (_error, _stdout, text) => resolve(text));
      });
      expectEveryLine(lines(stderr));
    });

    it(`to a file, on ${name}`, async () => {
      const file = await child(ending);
      const out = join(dir, `stderr-${Math.random().toString(36).slice(2)}.log`);
      const handle = await open(out, 'w');
      try {
        await new Promise<void>((resolve, reject) => {
          const running = spawn(process.execPath, [file], { cwd: dir, stdio: ['ignore', 'ignore', handle.fd], timeout: 20_000 });
          running.once('error', reject);
          running.once('exit', () => resolve());
        });
      } finally {
        await handle.close();
      }
      expectEveryLine(lines(await readFile(out, 'utf8')));
    });
  }
});
