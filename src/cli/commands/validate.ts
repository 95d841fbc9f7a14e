import { ExitCode, ExitError } from '../../errors.js';
import { validateProject, type Check } from '../../project/validate-project.js';
import type { Output } from '../output.js';

export async function validateCommand(options: { projectDir: string; workers?: number | undefined; stabilityRuns?: number | undefined }, out: Output): Promise<void> {
  const label = (check: Check): string => {
    if (check.status === 'pass') return out.style.green('[PASS]');
    if (check.status === 'warn') return out.style.yellow('[WARN]');
    return out.style.red('[FAIL]');
  };
  const checks = await validateProject(options.projectDir, {
    onCheck: (check) => out.data(`  ${label(check)} ${check.name}: ${check.message}`),
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    ...(options.stabilityRuns === undefined ? {} : { stabilityRuns: options.stabilityRuns }),
  });
  if (checks.some((c) => c.status === 'fail')) {
    out.error('validation failed');
    throw new ExitError(ExitCode.failure);
  }
}
