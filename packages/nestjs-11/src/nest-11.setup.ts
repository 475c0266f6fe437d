import { afterAll, expect } from 'vitest';
import { loadedNestPackages } from './loaded-nest.js';

const major11 = [expect.stringMatching(/^11\./)];
/** NestJS packages with a version line of their own, loaded by one that has NestJS's (@nestjs/swagger): one copy each. */
const OWN_VERSION_LINE = new Set(['@nestjs/mapped-types']);

// The aliases decide which copy the tests import, but a dependency could still require its own:
// after each file, exactly one copy of each NestJS package was loaded, and it was NestJS 11.
afterAll(() => {
  const loaded = loadedNestPackages();
  expect(loaded).toMatchObject({
    '@nestjs/common': major11,
    '@nestjs/core': major11,
    '@nestjs/platform-express': major11,
    '@nestjs/platform-fastify': major11,
  });
  for (const [name, versions] of Object.entries(loaded)) expect(versions, name).toEqual(OWN_VERSION_LINE.has(name) ? [expect.any(String)] : major11);
});
