import { createInterface } from 'node:readline/promises';
import type { ForkCandidate } from '../loop/fork.js';
import { formatMetric } from '../report/format.js';
import type { Output } from './output.js';

/**
 * Offers to start a new run from another run's best commit. Only called when standard input is a
 * terminal; Enter (or anything unexpected) starts fresh.
 */
export async function chooseFork(candidates: readonly ForkCandidate[], metricName: string, out: Output): Promise<string | null> {
  out.info('');
  out.info('Earlier runs in this project:');
  candidates.forEach((c, i) => {
    out.info(`  ${i + 1}) ${c.tag}: best ${metricName} ${formatMetric(c.best.metric)} (commit ${c.best.commit}, ${c.summary.trials} trials, ${c.summary.kept} kept)`);
  });
  const fresh = candidates.length + 1;
  out.info(`  ${fresh}) start fresh from the current commit`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`Start from [${fresh}]: `)).trim();
    const choice = answer === '' ? fresh : Number(answer);
    const picked = Number.isInteger(choice) && choice >= 1 && choice <= candidates.length ? candidates[choice - 1] : undefined;
    if (picked) out.info(`Forking from ${picked.tag} (best ${formatMetric(picked.best.metric)} at ${picked.best.commit}).`);
    return picked?.tag ?? null;
  } finally {
    rl.close();
  }
}
