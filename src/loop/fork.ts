import type { Direction } from '../config/schema.js';
import { ProjectError } from '../errors.js';
import { summarizeRun, type RunSummary } from '../report/summary.js';
import { readResults } from '../store/results-file.js';
import type { Git } from '../workspace/git.js';

export interface ForkCandidate {
  tag: string;
  summary: RunSummary;
  best: NonNullable<RunSummary['best']>;
}

/** Other runs of the project that kept at least one change, best first: what a new run may start from. */
export async function listForkCandidates(projectDir: string, direction: Direction, excludeTag: string): Promise<ForkCandidate[]> {
  const { rows } = await readResults(projectDir);
  const tags = [...new Set(rows.map((r) => r.tag))].filter((tag) => tag !== '' && tag !== excludeTag);
  const candidates: ForkCandidate[] = [];
  for (const tag of tags) {
    const summary = summarizeRun(
      rows.filter((r) => r.tag === tag),
      direction,
    );
    if (summary.kept > 0 && summary.best) candidates.push({ tag, summary, best: summary.best });
  }
  const sign = direction === 'maximize' ? -1 : 1;
  return candidates.sort((a, b) => sign * (a.best.metric - b.best.metric));
}

/** The full sha of the best commit of run `tag`, checked to exist in the repository. */
export async function findForkPoint(projectDir: string, tag: string, direction: Direction, git: Git): Promise<{ tag: string; commit: string }> {
  const { rows } = await readResults(projectDir);
  const runRows = rows.filter((r) => r.tag === tag);
  if (runRows.length === 0) throw new ProjectError(`cannot fork from run "${tag}": results.tsv has no trials of it`);
  const best = summarizeRun(runRows, direction).best;
  if (!best || best.commit === '') throw new ProjectError(`cannot fork from run "${tag}": it has no measured commit`);
  const resolved = await git.run(['rev-parse', '--verify', '--quiet', `${best.commit}^{commit}`], { allowFail: true });
  if (resolved.exitCode !== 0) throw new ProjectError(`cannot fork from run "${tag}": its best commit ${best.commit} is not in this repository`);
  return { tag, commit: resolved.stdout.trim() };
}
