/**
 * What every result file records about how it was produced: package versions, Node, backend,
 * machine, and the git commit of the code when it can be read.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { backendInfo } from '../kernels/backend';
import { tf } from '../kernels/tf';
import { stockCode } from '../kernels/native';
import { projectRoot } from '../io/project-root';
import type { Provenance } from './format';

export { projectRoot };

export function packageVersion(): string {
  return JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')).version;
}

function installedVersion(pkg: string): string | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(projectRoot(), 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

function gitCommit(): string | null {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: projectRoot(), stdio: ['ignore', 'pipe', 'ignore'] });
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: projectRoot(),
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.toString().trim() + (dirty.toString().trim() ? '-dirty' : '');
  } catch {
    return null;
  }
}

export function provenance(): Provenance {
  return {
    package: packageVersion(),
    node: process.version,
    backend: backendInfo().backend,
    kernels: backendInfo().kernels,
    versions: {
      'tfjs-core': tf.version_core,
      '@tensorflow/tfjs-backend-wasm': installedVersion('@tensorflow/tfjs-backend-wasm'),
      'tfjs-node-native': installedVersion('tfjs-node-native'),
      'danfojs-node': installedVersion('danfojs-node'),
      'simple-statistics': installedVersion('simple-statistics'),
    },
    gitCommit: gitCommit(),
    platform: `${os.platform()}-${os.arch()}`,
    cpu: os.cpus()[0]?.model?.trim() ?? 'unknown',
    stockCode: stockCode(),
    cpus: os.cpus().length,
    createdAt: new Date().toISOString(),
  };
}
