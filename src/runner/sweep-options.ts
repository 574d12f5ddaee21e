/** The options a sweep takes, as its command and a study run as a sweep (the stability study) declare them: `grid` names the extra axis. */
export function sweepOptions(grid: 'sizes' | 'replicas'): string[] {
  return [
    'preset',
    'set',
    'results',
    'tasks',
    'seeds',
    grid,
    'index',
    'seeds-per-job',
    'list',
    'workers',
    'ood-lengths',
    'allow-id-lengths',
    'replace',
    'lock-stale',
  ];
}
