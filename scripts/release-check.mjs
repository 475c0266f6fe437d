// What a release does, rehearsed on a copy of the repository's last commit: `changeset version`, the
// build, `pnpm -r publish --dry-run`; and every public package packed as it would be published, none
// of whose manifests may keep a `workspace:` range. Nothing is published; the working tree is untouched.
// Run: node scripts/release-check.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PNPM = ['-y', 'pnpm@10.34.8'];
const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'gateway-errors-release-'));

/** Runs a command; its output is shown only when it fails. */
function run(command, args, cwd) {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    process.stderr.write(`release check: \`${command} ${args.join(' ')}\` failed\n${error.stdout ?? ''}${error.stderr ?? ''}\n`);
    throw error;
  }
}

function step(name, action) {
  const started = performance.now();
  const result = action();
  console.log(`release check: ${name} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}

try {
  const repo = join(work, 'repo');
  step('a copy of the last commit', () => run('git', ['clone', '--quiet', '--no-hardlinks', root, repo]));
  step('install', () => run('npx', [...PNPM, 'install', '--frozen-lockfile', '--prefer-offline', '--reporter=silent'], repo));
  step('changeset version', () => run('npx', [...PNPM, 'exec', 'changeset', 'version'], repo));
  const left = readdirSync(join(repo, '.changeset')).filter((file) => file.endsWith('.md') && file !== 'README.md');
  if (left.length > 0) throw new Error(`changeset version left ${left.join(', ')}`);

  const packages = readdirSync(join(repo, 'packages'))
    .map((dir) => ({ dir: join(repo, 'packages', dir), manifest: JSON.parse(readFileSync(join(repo, 'packages', dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => manifest.private !== true);
  step('build', () => run('npx', [...PNPM, 'run', 'build'], repo));

  const published = step('pnpm -r publish --dry-run', () =>
    run('npx', [...PNPM, '-r', '--filter', './packages/**', 'publish', '--dry-run', '--no-git-checks'], repo),
  );
  for (const { manifest } of packages) {
    if (!published.includes(`${manifest.name}@${manifest.version}`)) throw new Error(`publish --dry-run did not publish ${manifest.name}@${manifest.version}`);
  }

  const packs = join(work, 'packs');
  step('pack every public package', () => {
    for (const { dir } of packages) run('npx', [...PNPM, 'pack', '--pack-destination', packs], dir);
  });
  for (const tarball of readdirSync(packs)) {
    const manifest = run('tar', ['-xOzf', join(packs, tarball), 'package/package.json'], packs);
    if (manifest.includes('workspace:')) throw new Error(`${tarball}: the packed package.json keeps a workspace: range`);
    const files = run('tar', ['-tzf', join(packs, tarball)], packs).split('\n');
    for (const file of ['package/LICENSE', 'package/README.md', 'package/package.json']) {
      if (!files.includes(file)) throw new Error(`${tarball}: ${file} is not in the package`);
    }
  }
  for (const { manifest } of packages) console.log(`release check: ${manifest.name}@${manifest.version} ready`);
} catch (error) {
  console.error(`release check: FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
