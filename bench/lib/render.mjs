import { formatTable, mean } from './stats.mjs';

/** The bench's console tables; the same figures go to bench/results/latest.json. */

export function tally(calls) {
  const counts = {};
  for (const call of calls) counts[call] = (counts[call] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1]));
}

export function countOutcomes(trials) {
  return tally(trials.map((t) => t.outcome));
}

export function renderOverhead(o, timed) {
  const row = (label, s) => [label, s.n, s.mean.toFixed(2), s.median.toFixed(2), s.p95.toFixed(2)];
  const n = o.total.n;
  const lines = [
    formatTable(
      ['overhead per trial (ms)', 'trials', 'mean', 'median', 'p95'],
      [row(`trials 1-${o.first.n}`, o.first), row(`trials 1-${n}`, o.total), row(`trials ${n - o.last.n + 1}-${n}`, o.last), row('  keep', o.keep), row('  discard', o.discard)],
    ),
    `growth, last 100 / first 100: ${o.growth} (means), ${o.growthMedian} (medians)`,
    `mean per block of 100 trials: ${o.byHundred.map((m) => m.toFixed(1)).join(' ')}`,
    `outcomes: ${Object.entries(countOutcomes(timed.trials)).map(([k, v]) => `${k} ${v}`).join(', ')}; stopped by: ${timed.reason}`,
    `per trial, means: agent ${mean(timed.trials.map((t) => t.agentMs)).toFixed(2)} ms, experiment ${mean(timed.trials.map((t) => t.runMs)).toFixed(2)} ms, wall ${mean(timed.trials.map((t) => t.wallMs)).toFixed(2)} ms; whole run ${(timed.wallMs / 1000).toFixed(1)} s`,
  ];
  return lines.join('\n');
}

export function renderStatus(s, trials) {
  return formatTable(
    ['command (median of 10)', 'ms', 'min', 'max'],
    [
      ['node -e ""', s.bare_node_ms.median, s.bare_node_ms.min, s.bare_node_ms.max],
      [`crucible status (${trials} trials)`, s.status_ms.median, s.status_ms.min, s.status_ms.max],
      ['crucible status --json', s.status_json_ms.median, s.status_json_ms.min, s.status_json_ms.max],
    ],
  ) + `\nstatus / bare node = ${s.ratio}`;
}

export function renderSpawns(s) {
  const rows = Object.entries(s.per_outcome).map(([outcome, c]) => [outcome, c.trials, c.mean, `${c.min}-${c.max}`, Object.entries(c.commands).map(([k, v]) => `${k}×${v}`).join(' ')]);
  return formatTable(['outcome', 'trials', 'git/trial', 'range', 'commands (last such trial)'], rows) + `\ngit calls outside trials (open, baseline, close): ${s.outside_trials}`;
}
