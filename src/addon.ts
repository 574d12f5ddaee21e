/** Where the project's native addon lives (built by scripts/build-native.js during `npm ci`). */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** build/gcg_native.node at the project root (from src/ or dist/src/). */
export function addonPath(): string {
  let dir = __dirname;
  for (let i = 0; i < 4 && !fs.existsSync(path.join(dir, 'package.json')); i++) dir = path.dirname(dir);
  return path.join(dir, 'build', 'gcg_native.node');
}
