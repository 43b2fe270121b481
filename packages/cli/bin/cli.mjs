#!/usr/bin/env node
// `pnpm cli …` and `pnpm start`: the compiled CLI. In a source checkout it first builds what
// changed since the last build (scripts/build.mjs, a stat of the sources when nothing did); an
// installed copy (the Docker image) has no sources and runs as it is.
import { existsSync } from 'node:fs';

const build = new URL('../../../scripts/build.mjs', import.meta.url);
if (existsSync(new URL('../src', import.meta.url)) && existsSync(build)) {
  try {
    (await import(build.href)).ensureBuilt();
  } catch (error) {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
await import('../dist/main.js');
