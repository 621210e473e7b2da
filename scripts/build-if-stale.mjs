// `npm start`'s prestart: compiles src/ only when something the build reads is newer than the last build, so a
// start with nothing changed costs a directory walk instead of a full type-checked compile. When it does build,
// tsc runs incrementally (tsconfig.build.json keeps its state in dist/.tsbuildinfo) and recompiles what changed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The project root; an argument names another one (the test runs this on a scratch project).
const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
const stamp = path.join(root, 'dist', '.build-stamp');
const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'].map((p) => path.join(root, p));

/** Newest modification time under `target` (a directory's own time too: a deleted or renamed file moves it). */
function newestChange(target) {
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of fs.readdirSync(target)) newest = Math.max(newest, newestChange(path.join(target, entry)));
  return newest;
}

function whyBuild() {
  const built = fs.statSync(stamp, { throwIfNoEntry: false });
  if (!built || !fs.existsSync(path.join(root, 'dist', 'server.js'))) return 'no build yet';
  const changed = Math.max(...inputs.map(newestChange));
  return changed > built.mtimeMs ? 'sources changed since the last build' : undefined;
}

const reason = whyBuild();
if (!reason) {
  process.stdout.write('build: dist/ is up to date with src/, not rebuilding\n');
  process.exit(0);
}
process.stdout.write(`build: ${reason}, compiling (incremental)\n`);
// The stamp carries the time the build started: a file saved while tsc runs is newer, so the next start builds.
const startedAt = new Date();
const tsc = spawnSync(process.execPath, [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
fs.writeFileSync(stamp, `${startedAt.toISOString()}\n`);
fs.utimesSync(stamp, startedAt, startedAt);
