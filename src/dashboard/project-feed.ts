import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Direction } from '../core/objective.js';
import { buildRunModel, type RunModel, type TrialModel } from '../report/html/run-model.js';
import { runningProcess } from '../report/load-run.js';
import { foldRun } from '../store/fold-run.js';
import { listRunTags, RUNS_DIR, runPaths } from '../store/run-paths.js';
import { LedgerFollower, type LedgerChange } from './ledger-follower.js';

/** What the page is told when a run changes: the trials that changed, or "read it again". */
export type RunUpdate =
  | { tag: string; reset: true }
  | { tag: string; reset: false; summary: RunModel['summary']; incumbent: number | null; live: boolean; trials: TrialModel[] };

export interface RunListing {
  tag: string;
  trials: number;
  live: boolean;
}

interface RunState {
  follower: LedgerFollower;
  model: RunModel;
  json: string | null;
  gzip: Buffer | null;
  inFlight: Set<number>;
  watcher: FSWatcher | null;
  timer: NodeJS.Timeout | null;
}

// A run writes a few events per trial step in a burst: one update for the burst.
const SETTLE_MS = 25;
// fs.watch can miss events (network file systems, a folder replaced): a look at each ledger's
// size this often keeps the page within a second of the ledger anyway.
const SWEEP_MS = 1000;

/**
 * Every run of a project, kept current from its ledger: a file watch on each run's folder (and
 * on the runs folder, for new runs) reads only what was appended and tells the listeners which
 * trials changed. Read-only: nothing here writes to the project.
 */
export class ProjectFeed {
  private readonly runs = new Map<string, RunState>();
  private readonly listeners = new Set<(update: RunUpdate) => void>();
  private runsWatcher: FSWatcher | null = null;
  private sweep: NodeJS.Timeout | null = null;
  private readonly runsDir: string;

  constructor(
    readonly projectDir: string,
    readonly metric: { name: string; direction: Direction },
  ) {
    this.runsDir = path.join(projectDir, RUNS_DIR);
  }

  async start(): Promise<void> {
    await this.scan();
    this.sweep = setInterval(() => void this.scanAndRefresh(), SWEEP_MS);
    this.sweep.unref();
  }

  stop(): void {
    if (this.sweep) clearInterval(this.sweep);
    this.runsWatcher?.close();
    for (const run of this.runs.values()) {
      run.watcher?.close();
      if (run.timer) clearTimeout(run.timer);
    }
    this.listeners.clear();
  }

  onUpdate(listener: (update: RunUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  listRuns(): RunListing[] {
    return [...this.runs.entries()].filter(([, run]) => run.model.trials.length > 0).map(([tag, run]) => ({ tag, trials: run.model.trials.length, live: run.model.live }));
  }

  /** The run as JSON, serialised once per change however many pages ask. */
  runJson(tag: string): string | null {
    const run = this.runs.get(tag);
    if (run === undefined) return null;
    return (run.json ??= JSON.stringify(run.model));
  }

  /** The same, gzipped (a 10,000-trial run is 2.4 MB of JSON, 10 times less gzipped). */
  runGzip(tag: string): Buffer | null {
    const json = this.runJson(tag);
    const run = this.runs.get(tag);
    if (json === null || run === undefined) return null;
    return (run.gzip ??= gzipSync(json, { level: 1 }));
  }

  private async scanAndRefresh(): Promise<void> {
    await this.scan();
    for (const tag of this.runs.keys()) this.refresh(tag);
  }

  private async scan(): Promise<void> {
    let tags: string[];
    try {
      tags = await listRunTags(this.projectDir);
    } catch {
      return;
    }
    this.watchRunsDir();
    for (const tag of tags) if (!this.runs.has(tag)) this.add(tag);
  }

  private watchRunsDir(): void {
    if (this.runsWatcher !== null) return;
    try {
      this.runsWatcher = watch(this.runsDir, () => void this.scan());
      this.runsWatcher.on('error', () => {
        this.runsWatcher?.close();
        this.runsWatcher = null;
      });
    } catch {
      // No runs folder yet: the sweep looks again.
    }
  }

  private add(tag: string): void {
    const paths = runPaths(this.projectDir, tag);
    const follower = new LedgerFollower(paths.ledger);
    try {
      follower.refresh();
    } catch {
      // Read on the next look.
    }
    const model = this.fold(tag, follower);
    const run: RunState = { follower, model, json: null, gzip: null, inFlight: inFlightOf(model), watcher: null, timer: null };
    this.runs.set(tag, run);
    try {
      run.watcher = watch(paths.runDir, (_event, file) => {
        if (file === null || file === 'ledger.jsonl' || file === 'lock') this.schedule(tag);
      });
      run.watcher.on('error', () => {
        run.watcher?.close();
        run.watcher = null;
      });
    } catch {
      // The sweep covers a run whose folder cannot be watched.
    }
    if (model.trials.length > 0) this.emit({ tag, reset: true });
  }

  private schedule(tag: string): void {
    const run = this.runs.get(tag);
    if (run === undefined || run.timer !== null) return;
    run.timer = setTimeout(() => {
      run.timer = null;
      this.refresh(tag);
    }, SETTLE_MS);
  }

  private refresh(tag: string): void {
    const run = this.runs.get(tag);
    if (run === undefined) return;
    let change: LedgerChange;
    try {
      change = run.follower.refresh();
    } catch {
      // A ledger that cannot be read right now (replaced mid-read, permissions): the next look tries again.
      return;
    }
    const live = runningProcess(this.projectDir, tag) !== null;
    if (change.kind === 'none' && live === run.model.live) return;
    const model = this.fold(tag, run.follower, live);
    const changed = change.kind === 'appended' ? new Set([...change.trials, ...run.inFlight]) : run.inFlight;
    run.model = model;
    run.json = null;
    run.gzip = null;
    run.inFlight = inFlightOf(model);
    if (change.kind === 'reset') {
      this.emit({ tag, reset: true });
      return;
    }
    this.emit({ tag, reset: false, summary: model.summary, incumbent: model.incumbent, live: model.live, trials: model.trials.filter((trial) => changed.has(trial.n)) });
  }

  private fold(tag: string, follower: LedgerFollower, live = runningProcess(this.projectDir, tag) !== null): RunModel {
    const view = foldRun(follower.events, { direction: this.metric.direction });
    return buildRunModel(tag, view, this.metric, live);
  }

  private emit(update: RunUpdate): void {
    for (const listener of this.listeners) listener(update);
  }
}

function inFlightOf(model: RunModel): Set<number> {
  return new Set(model.trials.filter((trial) => trial.o === null).map((trial) => trial.n));
}
