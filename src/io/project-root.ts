/** The project root (the folder holding package.json), from src/ or dist/src/: no other dependency. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function projectRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`package.json not found above ${__dirname}`);
}
