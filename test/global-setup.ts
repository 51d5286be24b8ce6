import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// The end-to-end tests run bin/flowdeck.js, which imports dist/. Build it once per test run, and
// only when a source file is newer than its compiled output (npm test has just built it).

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE_DIRS = ['src', 'commands', 'bench'];

function tsFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(path);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

function distIsStale(): boolean {
  for (const dir of SOURCE_DIRS) {
    for (const file of tsFiles(join(ROOT, dir))) {
      const out = join(ROOT, 'dist', relative(ROOT, file).replace(/\.tsx?$/, '.js'));
      if (mtime(out) < mtime(file)) return true;
    }
  }
  return false;
}

export default function setup(): void {
  if (!distIsStale()) return;
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { cwd: ROOT, stdio: 'pipe' });
  } catch (e) {
    // tsc still emits on type errors (noEmitOnError is off): type checking is `npm run typecheck`'s
    // job, so a type error elsewhere only warns here. A build that emitted nothing is fatal.
    const out = e as { stdout?: Buffer; stderr?: Buffer };
    const report = `${out.stdout?.toString() ?? ''}${out.stderr?.toString() ?? ''}`;
    if (mtime(join(ROOT, 'dist', 'commands', 'index.js')) < 0) throw new Error(`building dist/ for the end-to-end tests failed:\n${report}`);
    console.warn(`tsc reported errors while building dist/ for the end-to-end tests:\n${report}`);
  }
}
