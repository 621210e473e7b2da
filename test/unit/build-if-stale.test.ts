import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, utimesSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';

const script = path.resolve(__dirname, '../../scripts/build-if-stale.mjs');

function prestart(root: string) {
  const run = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

/** A scratch project with the same build layout as this one (tsconfig.build.json → dist/). */
function scratchProject(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'build-if-stale-'));
  mkdirSync(path.join(root, 'src'));
  writeFileSync(path.join(root, 'src/server.ts'), 'export const answer: number = 42;\n');
  writeFileSync(
    path.join(root, 'tsconfig.build.json'),
    JSON.stringify({
      compilerOptions: {
        rootDir: 'src',
        outDir: 'dist',
        module: 'commonjs',
        incremental: true,
        tsBuildInfoFile: 'dist/.tsbuildinfo',
        types: [],
      },
      include: ['src'],
    }),
  );
  return root;
}

describe('npm start’s prestart (scripts/build-if-stale.mjs)', () => {
  it('builds when there is no build, skips when nothing changed, and rebuilds after a source changes', () => {
    const root = scratchProject();
    const first = prestart(root);
    expect(first).toMatchObject({ status: 0, output: expect.stringContaining('build: no build yet, compiling') });
    expect(readFileSync(path.join(root, 'dist/server.js'), 'utf8')).toContain('answer = 42');

    expect(prestart(root)).toEqual({ status: 0, output: 'build: dist/ is up to date with src/, not rebuilding\n' });

    writeFileSync(path.join(root, 'src/server.ts'), 'export const answer: number = 43;\n');
    const later = new Date(Date.now() + 5000);
    utimesSync(path.join(root, 'src/server.ts'), later, later);
    expect(prestart(root).output).toContain('build: sources changed since the last build, compiling');
    expect(readFileSync(path.join(root, 'dist/server.js'), 'utf8')).toContain('answer = 43');
  }, 60_000);

  it('fails like tsc when the sources do not compile, and leaves no stamp that would skip the next build', () => {
    const root = scratchProject();
    writeFileSync(path.join(root, 'src/server.ts'), 'export const answer: number = "forty-two";\n');
    const run = prestart(root);
    expect(run.status).not.toBe(0);
    expect(run.output).toContain('TS2322');
    expect(existsSync(path.join(root, 'dist/.build-stamp'))).toBe(false);
  }, 60_000);
});
