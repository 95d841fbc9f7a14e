import { formatTable, median } from './stats.mjs';

/** loop-overhead's tables beyond render.mjs's; the same figures go to bench/results/latest.json. */

export function renderComparison(c) {
  const row = (s) => [s.name, s.trials, s.overhead_median_ms.toFixed(2), s.overhead_mean_ms.toFixed(2), s.wall_median_ms.toFixed(2), s.own_cpu_mean_ms.toFixed(2), s.children_cpu_mean_ms ?? '?'];
  return (
    formatTable(['same trials, alternating blocks', 'trials', 'overhead median', 'mean', 'wall median', 'CPU: crucible', 'children'], [row(c.this_build), row(c.baseline)]) +
    `\nthis build / baseline: overhead ${c.ratio_overhead_median}, wall per trial ${c.ratio_wall_median} (medians); CPU per trial ${c.ratio_own_cpu} (crucible), ${c.ratio_children_cpu} (its children: git, agent, experiment)` +
    (c.wall_by_block_pair ? `\nwall per trial, block by block: ${c.wall_by_block_pair.median} (${c.wall_by_block_pair.min}–${c.wall_by_block_pair.max} over ${c.wall_by_block_pair.pairs} pairs)` : '') +
    (c.wall_same_build_split !== null && c.wall_same_build_split !== undefined ? `; the baseline against itself (alternate blocks): ${c.wall_same_build_split}, what noise alone gives` : '')
  );
}

export function renderModels(models) {
  const rows = Object.entries(models).map(([backend, m]) => [
    backend,
    m.trials,
    m.model_requests,
    m.agent_ms.median.toFixed(1),
    m.overhead_ms.median.toFixed(1),
    m.crucible_ms.median.toFixed(1),
    Object.entries(m.outcomes).map(([k, v]) => `${k} ${v}`).join(', '),
  ]);
  return (
    formatTable(['backend (model answers at once)', 'trials', 'requests', 'agent turn ms', 'overhead ms', 'total − experiment ms', 'outcomes'], rows) +
    '\nagent turn: the backend with an instant model (api: crucible alone; claude-code: mostly Claude Code\'s own start); medians'
  );
}

export function renderFloors(floors, paths) {
  const perGit = (ms) => (ms / floors.git_process_ms).toFixed(1);
  const lines = [
    formatTable(
      ['floor (median)', 'ms'],
      [
        ['node -e 0', floors.bare_node_ms],
        ['one git process (execFile)', floors.git_process_ms],
        ...(floors.spawn_blocks_ms === undefined ? [] : [['spawn() holding the event loop', floors.spawn_blocks_ms]]),
        ['one fdatasync', floors.fdatasync_ms],
        ...(floors.file_create_ms === undefined ? [] : [['one file created (O_EXCL)', floors.file_create_ms]]),
        ...(floors.experiment_alone_ms === undefined
          ? []
          : [
              ['the experiment alone (run + eval, sh -c each, no sandbox)', floors.experiment_alone_ms],
              ['the command agent alone (sh -c, no sandbox)', floors.command_agent_alone_ms],
            ]),
      ],
    ),
  ];
  for (const [agent, p] of Object.entries(paths)) {
    lines.push(`${agent}: overhead median ${p.overhead.total.median.toFixed(2)} ms = ${perGit(p.overhead.total.median)} git processes' worth`);
    const orchestration = orchestrationMs(floors, agent, p.timed.trials);
    if (orchestration !== null) {
      lines.push(`${agent}: wall per trial less the commands alone (the issue's measure) ${orchestration.toFixed(2)} ms (median wall ${median(p.timed.trials.map((t) => t.wallMs)).toFixed(2)} ms)`);
    }
  }
  return lines.join('\n');
}

/**
 * The measure of orchestration: the median wall time of a trial less what its commands
 * take alone (the experiment's, and the command agent's on that path; the tuner's turn is
 * crucible's own). null when the floors have no such figures.
 */
export function orchestrationMs(floors, agent, trials) {
  if (floors.experiment_alone_ms === undefined || trials.length === 0) return null;
  const alone = floors.experiment_alone_ms + (agent === 'command' ? floors.command_agent_alone_ms : 0);
  return median(trials.map((t) => t.wallMs)) - alone;
}

/** The reference's floor beside crucible, same blocks (lib/reference-floor.mjs). */
export function renderReferenceFloor(agent, f) {
  const byOutcome = Object.entries(f.reference_floor_by_outcome_ms).map(([o, ms]) => `${o} ${ms}`).join(', ');
  const outcomes = Object.entries(f.outcomes).map(([o, n]) => `${n} ${o}`).join(', ');
  return (
    `${agent}: the reference's floor (its git processes and shells alone, from Python; ${outcomes}) ${f.reference_floor_ms} ms (${byOutcome}), ` +
    `crucible ${f.crucible_ms} ms over the same blocks: ${f.crucible_over_reference_floor} × the floor, wall less the commands alone (target: 0.5 × the reference, whose overhead is above its floor)`
  );
}
