import type { Direction } from '../config/schema.js';
import { isBetter } from '../core/objective.js';
import { ProjectError } from '../errors.js';
import { summarizeRun, type RunSummary } from '../report/summary.js';
import { openProjectRuns } from '../store/project-runs.js';
import type { Git } from '../workspace/git.js';

export interface ForkCandidate {
  tag: string;
  summary: RunSummary;
  best: NonNullable<RunSummary['best']>;
}

/** Other runs of the project that kept at least one change, best first: what a new run may start from. */
export async function listForkCandidates(projectDir: string, direction: Direction, excludeTag: string): Promise<ForkCandidate[]> {
  const runs = await openProjectRuns(projectDir, { direction });
  const tags = (await runs.tagsWithTrials()).filter((tag) => tag !== '' && tag !== excludeTag);
  const candidates: ForkCandidate[] = [];
  for (const tag of tags) {
    const summary = summarizeRun(await runs.rows(tag), direction);
    if (summary.kept > 0 && summary.best) candidates.push({ tag, summary, best: summary.best });
  }
  return candidates.sort((a, b) => (isBetter(a.best.metric, b.best.metric, direction) ? -1 : isBetter(b.best.metric, a.best.metric, direction) ? 1 : 0));
}

/** The full sha of the best commit of run `tag`, checked to exist in the repository. */
export async function findForkPoint(projectDir: string, tag: string, direction: Direction, git: Git): Promise<{ tag: string; commit: string }> {
  const runRows = await (await openProjectRuns(projectDir, { direction })).rows(tag);
  if (runRows.length === 0) throw new ProjectError(`cannot fork from run "${tag}": no trials of it are recorded`);
  const best = summarizeRun(runRows, direction).best;
  if (!best || best.commit === '') throw new ProjectError(`cannot fork from run "${tag}": it has no measured commit`);
  const resolved = await git.run(['rev-parse', '--verify', '--quiet', `${best.commit}^{commit}`], { allowFail: true });
  if (resolved.exitCode !== 0) throw new ProjectError(`cannot fork from run "${tag}": its best commit ${best.commit} is not in this repository`);
  return { tag, commit: resolved.stdout.trim() };
}
