import { formatTable } from './stats.mjs';

/** The parallel bench's console tables; the same figures go to bench/results/parallel.json. */

export function renderBusy(busy, serial, pipelined) {
  const row = (label, run, b) => [label, run.counts.measured, (run.window_ms / 1000).toFixed(1), fixed(b.slot, 3), fixed(b.steady, 3), fixed(b.processes, 3), fixed(b.sleep, 3)];
  return [
    formatTable(
      ['N = 1', 'trials', 'window s', 'busy: run.start→run.done', 'steady', 'run+eval processes', 'sleep only'],
      [row('agents = 1', serial, busy.agents_1), row('agents = 2', pipelined, busy.agents_2)],
    ),
    'steady: over the slot\'s first run.start to its last run.done (no ramp-up or ramp-down); the others over the window',
    `serial figure E/(E+A+overhead) = ${busy.serial_theory} (overhead = cycle − E − A = ${busy.serial_overhead_ms} ms: crucible's and the eval's; E/(E+A) = ${busy.design_serial}); target with agents = 2: ≥ 0.95`,
  ].join('\n');
}

export function renderThroughput(runs, moreAgents) {
  const rows = [...runs, ...(moreAgents ? [moreAgents] : [])].map((r) => [
    r.workers,
    r.agents,
    r.counts.measured,
    Math.round(r.trials_per_hour.steady),
    r.ratio_to_n1.steady.toFixed(2),
    (0.9 * r.workers).toFixed(1),
    Math.round(r.trials_per_hour.window),
    r.ratio_to_n1.window.toFixed(2),
    r.busy.slot.toFixed(3),
    describeCounts(r.counts),
  ]);
  return (
    formatTable(['N', 'agents', 'measured', 'steady /h', 'ratio', 'target', 'window /h', 'ratio', 'busy', 'keep rule'], rows) +
    '\nsteady: each slot between its first and last experiment start; window: first proposal to last record' +
    (moreAgents ? `\nlast row: N = ${moreAgents.workers} again with ${moreAgents.agents} agents (is it the agents that keep slots waiting?)` : '')
  );
}

export function renderOverheadByN(runs) {
  const keys = ['slot_gap', 'settle', 'wait', 'dispatch', 'prepare', 'handoff', 'commit', 'spawn', 'checks', 'crucible_per_trial', 'eval'];
  const rows = runs.map((r) => [
    `N=${r.workers} agents=${r.agents}`,
    ...keys.map((k) => fixed(r.overhead_ms[k], 1)),
    fixed(r.cpu_ms_per_trial, 1),
    fixed(r.cpu_ms_per_trial_with_children, 0),
    fixed(r.scheduler_busy, 2),
  ]);
  return [
    formatTable(['ms per trial', ...keys.map((k) => k.replace('crucible_per_trial', 'crucible')), 'cpu', 'cpu all', 'sched busy'], rows),
    'slot_gap (run.done → the slot\'s next run.start) = settle + wait + dispatch.',
    'crucible = prepare + handoff + commit + dispatch + spawn + checks + settle: its own time on one trial, waits for the scheduler included;',
    'eval = the user\'s eval command (not crucible\'s); cpu = the crucible process\'s own CPU per trial; cpu all = with every process it started;',
    'sched busy = share of the window the scheduler was certainly busy (settling a proposal, starting or settling an experiment): near 1, trials wait for it.',
  ].join('\n');
}

export function renderBuilds(b) {
  const row = (f) => [f.name, f.dist, f.trials, f.overhead_median_ms.toFixed(2), f.wall_median_ms.toFixed(2), f.session_wall_per_trial_ms.toFixed(2)];
  const pairs = [...new Set([...Object.keys(b.this_build.step_medians_ms), ...Object.keys(b.baseline.step_medians_ms)])];
  const steps = pairs
    .map((pair) => {
      const now = b.this_build.step_medians_ms[pair]?.median ?? 0;
      const before = b.baseline.step_medians_ms[pair]?.median ?? 0;
      return [pair, fixed(now, 1), fixed(before, 1), (now - before >= 0 ? '+' : '') + (now - before).toFixed(1)];
    })
    .sort((x, y) => Math.abs(Number(y[3])) - Math.abs(Number(x[3])));
  return [
    formatTable(['tuner, trivial experiment', 'dist', 'trials', 'overhead median ms', 'wall median ms', 'session wall / trial ms'], [row(b.this_build), row(b.baseline)]),
    `this / baseline: overhead ${b.ratio_this_over_baseline.overhead_median}, wall ${b.ratio_this_over_baseline.wall_median}, session wall ${b.ratio_this_over_baseline.session_wall_per_trial} (${b.blocks} blocks, alternating order)`,
    '',
    formatTable(['step of a trial (ledger), median ms', 'this', 'baseline', 'difference'], steps),
  ].join('\n');
}

function fixed(value, digits) {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

function describeCounts(c) {
  const parts = Object.entries(c.outcomes).map(([k, v]) => `${k} ${v}`);
  parts.push(`rebased ${c.rebased}`, `stale (conflict) ${c.stale_conflict}`, `re-measured ${c.remeasured}`);
  return parts.join(', ');
}
