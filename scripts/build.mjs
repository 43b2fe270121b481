#!/usr/bin/env node
/**
 * `pnpm build`: compiles the packages and services to JavaScript in one `tsc -b` over their
 * project references (each `<project>/dist`), then copies what the compiled code reads at run
 * time from beside itself: every file under a project's `src/` that is not TypeScript (the Lua
 * scripts of redis-store, the tracker's assets) goes to the same place under `dist/`. The SQL
 * pack stays in `packages/warehouse/sql`, which `dist/` finds as it does `src/`.
 *
 * `ensureBuilt()` is what `pnpm cli` and `pnpm start` run first: a stat of every source file
 * against the stamp of the last build (a few milliseconds), building only when a `dist/` is
 * missing or a source changed since.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The CLI's project: building it builds every package and service it references. */
const TOP = 'packages/cli';
/** Dated when the last build began. */
const stampOf = (root = ROOT) => join(root, 'node_modules/.cache/rta-build/stamp');

/**
 * The project folders `TOP` depends on through tsconfig references, itself included.
 * @returns {string[]}
 */
export function projects(top = TOP, root = ROOT) {
  /** @type {Set<string>} */
  const seen = new Set();
  /** @param {string} dir */
  const visit = (dir) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const { references = [] } = JSON.parse(readFileSync(join(root, dir, 'tsconfig.json'), 'utf8'));
    for (const ref of references) visit(join(dir, ref.path));
  };
  visit(top);
  return [...seen];
}

/**
 * Newest modification time (ms) among a project's inputs: its sources and its manifests.
 * @param {string} dir
 * @param {string} root
 */
function newestInput(dir, root) {
  let newest = 0;
  /** @param {string} file */
  const consider = (file) => (newest = Math.max(newest, statSync(file).mtimeMs));
  for (const file of ['tsconfig.json', 'package.json']) consider(join(root, dir, file));
  for (const entry of readdirSync(join(root, dir, 'src'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) consider(join(entry.parentPath ?? entry.path, entry.name));
  }
  return newest;
}

/** Why the build is out of date, or undefined when it is current. */
export function staleReason(dirs = projects(), root = ROOT) {
  const stamp = stampOf(root);
  if (!existsSync(stamp)) return 'no build yet';
  const built = statSync(stamp).mtimeMs;
  if (statSync(join(root, 'tsconfig.base.json')).mtimeMs > built) return 'tsconfig.base.json changed';
  for (const dir of dirs) {
    if (!existsSync(join(root, dir, 'dist/index.js'))) return `${dir}/dist is missing`;
    if (newestInput(dir, root) > built) return `${dir} changed`;
  }
  return undefined;
}

/**
 * Records a build that began at `started` (ms): a source saved while tsc ran is newer, so the
 * next check builds again.
 * @param {number} started
 */
export function stampBuild(started, root = ROOT) {
  const stamp = stampOf(root);
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(stamp, '');
  utimesSync(stamp, new Date(started), new Date(started));
}

/** Compiles and copies the runtime files; throws with one line when TypeScript reports errors. */
export function build(dirs = projects()) {
  const started = Date.now();
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  // tsc prints its errors on stdout; they go to stderr so a command's own output stays clean.
  const result = spawnSync(process.execPath, [tsc, '-b', TOP], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) throw new Error(`the TypeScript build failed (errors above); fix them and rerun`);
  for (const dir of dirs) {
    const src = join(ROOT, dir, 'src');
    cpSync(src, join(ROOT, dir, 'dist'), {
      recursive: true,
      filter: (path) => !path.endsWith('.ts') || statSync(path).isDirectory(),
    });
  }
  stampBuild(started);
  return Date.now() - started;
}

/** Builds when the build is missing or older than a source, saying why on stderr. */
export function ensureBuilt() {
  const dirs = projects();
  const reason = staleReason(dirs);
  if (reason === undefined) return;
  process.stderr.write(`building (${reason}) …\n`);
  const ms = build(dirs);
  process.stderr.write(`built in ${(ms / 1_000).toFixed(1)} s\n`);
}

if (resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  try {
    const ms = build();
    process.stdout.write(`built ${projects().length} projects in ${(ms / 1_000).toFixed(1)} s\n`);
  } catch (error) {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
