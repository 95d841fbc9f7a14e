/**
 * autocrucible as a library: the same loop the `crucible` command runs, with the reporter,
 * signals and executor in the caller's hands. This file is the whole public API.
 */
export { startRun, type StartRunOptions, type RunReport } from './loop/start-run.js';
export type { LoopReporter, TrialSummary, RunStartInfo } from './loop/events.js';
export type { StopReason } from './loop/stop-rules.js';
export { describeStop } from './loop/stop-rules.js';
export { decide, type Decision, type Measurement } from './loop/decide.js';
export type { Outcome } from './core/outcome.js';

export { loadConfig, parseConfigText, type ConfigLoadResult } from './config/load.js';
export { configSchema, type Config, type WrittenConfig, type Objective, type AgentType, type Direction } from './config/schema.js';
export { buildConfigJsonSchema } from './config/json-schema.js';

export { createAgentBackend, agentTypesAvailable } from './agents/registry.js';
export type { AgentBackend, ProposalRequest, Proposal, AgentUsage, TrialView, InFlightTrial, AgentWorkspace } from './agents/types.js';
export { createAccessPolicy, type AccessPolicy, type Access } from './workspace/access-policy.js';

export { runExperiment, type ExperimentResult, type ExperimentOptions } from './runner/run-experiment.js';
export { parseMetric, type MetricParse } from './runner/parse-metric.js';
export type { Executor, RunSpec, RunResult } from './runner/types.js';

export { readResults } from './store/results-file.js';
export type { ResultRow } from './store/result-row.js';
export { readLedger, type LedgerEvent } from './store/ledger.js';

export { summarizeRun, type RunSummary } from './report/summary.js';
export { analyzeRun, type Postmortem } from './report/postmortem.js';

export { listExamples } from './project/examples.js';
export { createFromExample, createScaffold } from './project/new-project.js';
export { validateProject, type Check } from './project/validate-project.js';

export { CrucibleError, ConfigError, ProjectError, LockedError, GitError, AgentError, UsageError, ExitCode } from './errors.js';
