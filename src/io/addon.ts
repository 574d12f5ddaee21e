/**
 * The project's native addon (native/gcg_native.c, built by scripts/build-native.js during
 * `npm ci`): where it lives, and loading it.
 */
import * as path from 'node:path';
import { projectRoot } from './project-root';

/** build/gcg_native.node at the project root (from src/ or dist/src/). */
export function addonPath(): string {
  return path.join(projectRoot(), 'build', 'gcg_native.node');
}

let loaded: unknown = null;

/** The addon's exports; throws if it cannot load. */
export function requireAddon(): unknown {
  if (loaded) return loaded;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded = require(addonPath());
  return loaded;
}
