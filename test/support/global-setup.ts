import { ensureBuilt } from '../../scripts/build.mjs';

/**
 * Tests import the TypeScript sources, but the processes they spawn (`spawnCli`, the deploy
 * test) run the compiled CLI as users do: build it once, before any test file starts, when a
 * source changed since the last build.
 */
export default function setup(): void {
  ensureBuilt();
}
