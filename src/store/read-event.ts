import { isOutcome } from '../core/outcome.js';
import type { AgentUsage, TrialSummary } from '../core/trial-record.js';
import type { ExecutionHandle } from '../runner/types.js';
import type { LedgerEvent } from './ledger.js';
import type { CommitEvent, DecideEvent, GuardEvent, RunEvent, RunEventOf, RunEventType, RunDoneEvent, RunStartEvent, TrialEndEvent, TrialStartEvent } from './ledger-events.js';

/**
 * Reading ledger events back as the typed events of ledger-events.ts: a cheap check per type.
 * Missing optional fields get their defaults; an event whose required fields are unusable (no
 * trial number, say) reads as null, and the fold skips it. Never throws.
 */
type Raw = LedgerEvent;
const str = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : fallback);
const strOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);
// JSON has no NaN, but 1e999 parses as Infinity: a metric must be a finite number or nothing.
const finite = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const count = (value: unknown): number => finite(value) ?? 0;
const isString = (value: unknown): value is string => typeof value === 'string';
// The array as read when it is clean (almost always): a long ledger holds thousands.
const strings = (value: unknown): string[] => (!Array.isArray(value) ? [] : value.every(isString) ? value : value.filter(isString));
const isFinite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
// Raw metric values: only the finite ones are measurements (JSON writes a NaN as null).
const numbers = (value: unknown): number[] => (!Array.isArray(value) ? [] : value.every(isFinite) ? value : value.filter(isFinite));
const trialNumber = (value: unknown): number | null => (typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null);

export function readUsage(value: unknown): AgentUsage | null {
  if (typeof value !== 'object' || value === null) return null;
  const usage = value as Record<string, unknown>;
  if (typeof usage['inputTokens'] !== 'number') return null;
  return {
    inputTokens: count(usage['inputTokens']),
    outputTokens: count(usage['outputTokens']),
    cacheReadTokens: count(usage['cacheReadTokens']),
    cacheWriteTokens: count(usage['cacheWriteTokens']),
    costUsd: finite(usage['costUsd']),
  };
}

/** A `trial.end` summary as written, or null when it names no trial or no known outcome. */
export function readSummary(value: unknown, n: number | null): TrialSummary | null {
  if (typeof value !== 'object' || value === null) return null;
  const s = value as Record<string, unknown>;
  const trial = n ?? trialNumber(s['trial']);
  const outcome = s['outcome'];
  if (trial === null || !isOutcome(outcome)) return null;
  // A long run has ten thousand of these: one written by crucible is used as it is, not copied.
  if (isWellFormed(s, trial)) return s as unknown as TrialSummary;
  const summary: TrialSummary = {
    trial,
    outcome,
    metric: finite(s['metric']),
    description: str(s['description']),
    commit: str(s['commit']),
    files: strings(s['files']),
    best: finite(s['best']),
    agentMs: count(s['agentMs']),
    runMs: count(s['runMs']),
    totalMs: count(s['totalMs']),
    costUsd: finite(s['costUsd']),
  };
  if (typeof s['detail'] === 'string') summary.detail = s['detail'];
  if (typeof s['diff'] === 'string') summary.diff = s['diff'];
  const usage = readUsage(s['usage']);
  if (usage !== null) summary.usage = usage;
  if (typeof s['parent'] === 'string') summary.parent = s['parent'];
  if (typeof s['base'] === 'string') summary.base = s['base'];
  const slot = trialNumber(s['slot']);
  if (slot !== null) summary.slot = slot;
  const remeasureOf = trialNumber(s['remeasureOf']);
  if (remeasureOf !== null) summary.remeasureOf = remeasureOf;
  if (Array.isArray(s['samples'])) summary.samples = numbers(s['samples']);
  if (Array.isArray(s['incumbentSamples'])) summary.incumbentSamples = numbers(s['incumbentSamples']);
  if (isFinite(s['margin'])) summary.margin = s['margin'];
  if (isFinite(s['p'])) summary.p = s['p'];
  return summary;
}

const nullOrFinite = (value: unknown): boolean => value === null || (typeof value === 'number' && Number.isFinite(value));
const optionalString = (value: unknown): boolean => value === undefined || typeof value === 'string';
const optionalCount = (value: unknown): boolean => value === undefined || trialNumber(value) !== null;
const optionalFinite = (value: unknown): boolean => value === undefined || isFinite(value);
const optionalNumbers = (value: unknown): boolean => value === undefined || (Array.isArray(value) && value.every(isFinite));

function isWellFormed(s: Record<string, unknown>, trial: number): boolean {
  const files = s['files'];
  const usage = s['usage'];
  return (
    s['trial'] === trial &&
    nullOrFinite(s['metric']) &&
    typeof s['description'] === 'string' &&
    typeof s['commit'] === 'string' &&
    Array.isArray(files) &&
    files.every(isString) &&
    nullOrFinite(s['best']) &&
    Number.isFinite(s['agentMs']) &&
    Number.isFinite(s['runMs']) &&
    Number.isFinite(s['totalMs']) &&
    nullOrFinite(s['costUsd']) &&
    optionalString(s['detail']) &&
    optionalString(s['diff']) &&
    optionalString(s['parent']) &&
    optionalString(s['base']) &&
    optionalCount(s['slot']) &&
    optionalCount(s['remeasureOf']) &&
    optionalNumbers(s['samples']) &&
    optionalNumbers(s['incumbentSamples']) &&
    optionalFinite(s['margin']) &&
    optionalFinite(s['p']) &&
    (usage === undefined || (typeof usage === 'object' && usage !== null && isWellFormedUsage(usage as Record<string, unknown>)))
  );
}

function isWellFormedUsage(usage: Record<string, unknown>): boolean {
  return (
    Number.isFinite(usage['inputTokens']) &&
    Number.isFinite(usage['outputTokens']) &&
    Number.isFinite(usage['cacheReadTokens']) &&
    Number.isFinite(usage['cacheWriteTokens']) &&
    nullOrFinite(usage['costUsd'])
  );
}

// Object literals, not spreads: spreading into thousands of events makes slow objects (V8's
// dictionary mode) that cost more to build, read and collect than the rest of the fold.
const readers: { [T in RunEventType]: (e: Raw, ts: string) => RunEventOf<T> | null } = {
  'run.create': (e, ts) => ({ v: 1, ts, type: 'run.create', tag: str(e['tag']), branch: str(e['branch']), from: str(e['from']), forkedFrom: readFork(e['forkedFrom']) }),
  'session.start': (e, ts) => ({ v: 1, ts, type: 'session.start', pid: count(e['pid']), agent: str(e['agent']), head: str(e['head']) }),
  'session.end': (e, ts) => ({ v: 1, ts, type: 'session.end', reason: str(e['reason']), trials: count(e['trials']) }),
  'trial.start': (e, ts) => {
    const n = trialNumber(e.n);
    if (n === null) return null;
    const start: TrialStartEvent = { v: 1, ts, type: 'trial.start', n, parent: str(e['parent']) };
    if (e['baseline'] === true) start.baseline = true;
    const remeasureOf = trialNumber(e['remeasureOf']);
    if (remeasureOf !== null) start.remeasureOf = remeasureOf;
    return start;
  },
  'agent.done': (e, ts) => {
    const n = trialNumber(e.n);
    return n === null ? null : { v: 1, ts, type: 'agent.done', n, description: str(e['description']), files: strings(e['files']), usage: readUsage(e['usage']), ms: count(e['ms']) };
  },
  'agent.error': (e, ts) => {
    const n = trialNumber(e.n);
    return n === null ? null : { v: 1, ts, type: 'agent.error', n, kind: str(e['kind']), message: str(e['message']), ms: count(e['ms']) };
  },
  guard: (e, ts) => {
    const n = trialNumber(e.n);
    if (n === null) return null;
    const guard: GuardEvent = { v: 1, ts, type: 'guard', n, outcome: e['outcome'] === 'ok' || e['outcome'] === 'skip' ? e['outcome'] : 'violation' };
    if (typeof e['reason'] === 'string') guard.reason = e['reason'];
    if (Array.isArray(e['files'])) guard.files = strings(e['files']);
    return guard;
  },
  commit: (e, ts) => {
    const n = trialNumber(e.n);
    if (n === null) return null;
    const commit: CommitEvent = { v: 1, ts, type: 'commit', n, sha: str(e['sha']), parent: str(e['parent']) };
    if (typeof e['base'] === 'string') commit.base = e['base'];
    return commit;
  },
  rebase: (e, ts) => {
    const n = trialNumber(e.n);
    return n === null ? null : { v: 1, ts, type: 'rebase', n, onto: str(e['onto']), sha: str(e['sha']) };
  },
  queued: (e, ts) => {
    const n = trialNumber(e.n);
    return n === null ? null : { v: 1, ts, type: 'queued', n };
  },
  apply: (e, ts) => {
    const n = trialNumber(e.n);
    return n === null ? null : { v: 1, ts, type: 'apply', n, sha: str(e['sha']), files: strings(e['files']) };
  },
  'run.start': (e, ts) => {
    const n = trialNumber(e.n);
    if (n === null) return null;
    const start: RunStartEvent = { v: 1, ts, type: 'run.start', n, sha: str(e['sha']), handle: readHandle(e) };
    if (e['pgid'] !== undefined) start.pgid = finite(e['pgid']);
    if (typeof e['processTag'] === 'string') start.processTag = e['processTag'];
    const slot = trialNumber(e['slot']);
    if (slot !== null) start.slot = slot;
    if (e['role'] === 'incumbent') start.role = 'incumbent';
    return start;
  },
  'job.state': (e, ts) => {
    const n = trialNumber(e.n);
    return n === null || typeof e['jobId'] !== 'string' ? null : { v: 1, ts, type: 'job.state', n, jobId: e['jobId'], state: str(e['state']) };
  },
  'run.done': (e, ts) => {
    const n = trialNumber(e.n);
    if (n === null) return null;
    const done: RunDoneEvent = { v: 1, ts, type: 'run.done', n, exitCode: finite(e['exitCode']), signal: strOrNull(e['signal']), timedOut: e['timedOut'] === true, metric: finite(e['metric']), reason: strOrNull(e['reason']), ms: count(e['ms']) };
    if (Array.isArray(e['samples'])) done.samples = e['samples'].filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (e['role'] === 'incumbent') done.role = 'incumbent';
    return done;
  },
  decide: (e, ts) => {
    const n = trialNumber(e.n);
    const outcome = e['outcome'];
    if (n === null || !isOutcome(outcome)) return null;
    const decide: DecideEvent = { v: 1, ts, type: 'decide', n, outcome, metric: finite(e['metric']), best: finite(e['best']), reason: str(e['reason']) };
    if (typeof e['crashReport'] === 'string') decide.crashReport = e['crashReport'];
    return decide;
  },
  reset: (e, ts) => {
    const n = trialNumber(e.n);
    return n === null ? null : { v: 1, ts, type: 'reset', n, to: str(e['to']) };
  },
  'trial.end': (e, ts) => {
    const summary = readSummary(e['summary'], trialNumber(e.n));
    if (summary === null) return null;
    const end: TrialEndEvent = { v: 1, ts, type: 'trial.end', n: summary.trial, summary };
    if (typeof e['at'] === 'string') end.at = e['at'];
    return end;
  },
  tamper: (e, ts) => {
    const n = trialNumber(e.n);
    return n === null ? null : { v: 1, ts, type: 'tamper', n, files: strings(e['files']), unrestored: strings(e['unrestored']), during: str(e['during']) };
  },
  'protected.volatile': (e, ts) => {
    const n = trialNumber(e.n);
    return n === null ? null : { v: 1, ts, type: 'protected.volatile', n, files: strings(e['files']) };
  },
  'records.restored': (e, ts) => ({ v: 1, ts, type: 'records.restored', files: strings(e['files']), during: str(e['during']) }),
};

/**
 * The trial a `trial.end` event records, when it is one the fold counts (it has a summary with a
 * trial and a known outcome); null otherwise. Cheaper than reading the whole event.
 */
export function endedTrial(event: LedgerEvent): number | null {
  if (event.type !== 'trial.end') return null;
  const summary = event['summary'];
  if (typeof summary !== 'object' || summary === null || !isOutcome((summary as Record<string, unknown>)['outcome'])) return null;
  return trialNumber(event.n) ?? trialNumber((summary as Record<string, unknown>)['trial']);
}

/** The typed event, or null for a type this crucible does not know or an event it cannot use. */
export function readRunEvent(event: LedgerEvent): RunEvent | null {
  const reader = Object.hasOwn(readers, event.type) ? (readers as Record<string, (e: Raw, ts: string) => RunEvent | null>)[event.type] : undefined;
  return reader === undefined ? null : reader(event, event.ts);
}

/** The executor's handle of a `run.start`; a local one from `pgid` in a ledger written before handles. */
function readHandle(event: Raw): ExecutionHandle | null {
  const handle = event['handle'];
  if (typeof handle === 'object' && handle !== null) {
    const h = handle as Record<string, unknown>;
    // A kind of executor this crucible does not know (a newer one's) names nothing it can use.
    if (h['executor'] === 'local') return { executor: 'local', pgid: finite(h['pgid']), processTag: str(h['processTag']) };
    if (h['executor'] === 'slurm' && typeof h['jobId'] === 'string') return { executor: 'slurm', jobId: h['jobId'], name: str(h['name']), dir: str(h['dir']) };
    return null;
  }
  const pgid = finite(event['pgid']);
  const processTag = typeof event['processTag'] === 'string' ? event['processTag'] : null;
  return pgid === null && processTag === null ? null : { executor: 'local', pgid, processTag: processTag ?? '' };
}

function readFork(value: unknown): { tag: string; commit: string } | null {
  if (typeof value !== 'object' || value === null) return null;
  const fork = value as Record<string, unknown>;
  return typeof fork['tag'] === 'string' && typeof fork['commit'] === 'string' ? { tag: fork['tag'], commit: fork['commit'] } : null;
}
