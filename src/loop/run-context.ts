import type { AgentBackend } from '../agents/types.js';
import type { Config } from '../config/schema.js';
import type { Executor } from '../runner/types.js';
import type { Ledger } from '../store/ledger.js';
import type { CheckpointWriter } from '../store/checkpoint-writer.js';
import type { ResultsFile } from '../store/results-file.js';
import type { RunPaths } from '../store/run-paths.js';
import type { AccessPolicy } from '../workspace/access-policy.js';
import type { HiddenTextRedactor } from '../workspace/hidden-text.js';
import type { Git } from '../workspace/git.js';
import type { RunBranchWatch } from '../workspace/run-branch-watch.js';
import type { TagUpdate } from '../workspace/run-branch.js';
import type { LoopReporter, TrialSummary } from './events.js';
import type { ExperimentSlot } from './experiment-slot.js';
import type { ProtectedFiles } from './protected-files.js';
import type { Strategy } from './strategy.js';

/** Everything a trial works with, fixed for the whole run. */
export interface RunContext {
  /** Real path of the project folder. */
  projectDir: string;
  config: Config;
  tag: string;
  branch: string;
  git: Git;
  policy: AccessPolicy;
  agent: AgentBackend;
  results: ResultsFile;
  ledger: Ledger;
  paths: RunPaths;
  executor: Executor;
  reporter: LoopReporter;
  /** program.md, or null. */
  instructions: string | null;
  systemPrompt: string;
  /** The experiments' environment: secrets removed, .venv active. */
  experimentEnv: NodeJS.ProcessEnv;
  agentTimeoutMs: number;
  /** Removes hidden files' text from what agents are shown (prompts, history). */
  hiddenText: HiddenTextRedactor;
  /** The hidden and read-only files, checked after every experiment. */
  protectedFiles: ProtectedFiles;
  /** Between SIGTERM and SIGKILL when an experiment times out. */
  killGraceMs: number;
  now: () => number;
  /** Which node each proposal starts from, and when the search is over. */
  strategy: Strategy;
  /** The project folder as an experiment slot (slot 0): where the baseline and, with one worker, every experiment runs. */
  projectSlot: ExperimentSlot;
  /** Protected files the unmodified experiment rewrites itself: not checked for tampering. */
  volatile: Set<string>;
  /** Lets the run-branch guard skip git while HEAD, the branch and the index are as git last found them. */
  branchWatch: RunBranchWatch;
  /** Puts back deleted or changed records (see OpenRun.restoreRecords). */
  restoreRecords: () => string[];
  /** Writes the read commands' checkpoint as the ledger grows; absent in tests that build a context by hand. */
  checkpoint?: CheckpointWriter;
}

/** What changes from trial to trial. */
export interface RunState {
  /** Every trial of this run so far, oldest first, the baseline included. */
  history: TrialSummary[];
  /** The incumbent's metric. */
  best: number | null;
  /** The best measured commit of the chain, which proposals start from (greedy). */
  incumbent: string;
  /**
   * Full sha of the run branch's head, where crucible left it: the incumbent, except while an
   * experiment runs in the project folder (then the commit under test).
   */
  head: string;
  /** Paths the user had staged when the session started: they must stay staged (see run-branch.ts). */
  staged: readonly string[];
  /** Experiments running in the project folder (0 or 1): the protected-files check after an agent turn waits for them. */
  projectBusy: boolean;
  /**
   * A trial not kept whose commit the project folder still holds (`head`): its way back to `to`
   * waits for the next move there, or for crucible to have nothing else to do (decisions 71). Its
   * tags (`failed/`, `node/`) are set in that move's ref transaction, after the flush that
   * announces it (decisions 85).
   */
  pendingReturn?: { trial: number; to: string; files: readonly string[]; tags: readonly TagUpdate[] } | null;
}
