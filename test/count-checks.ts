/**
 * `node -r dist/test/count-checks.js dist/src/cli.js ...`: prints, when the command exits, the whole
 * checks it made of a configuration, an analysis section, a task's fit and measure names
 * (settings/validate.ts validationCounts). Used by test/config.test.ts to prove that one run is
 * validated once.
 */
import * as path from 'node:path';

process.on('exit', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const v = require(path.join(__dirname, '..', 'src', 'settings', 'validate.js'));
  process.stderr.write(`checks ${JSON.stringify(v.validationCounts())}\n`);
});
