/**
 * `npm run bench:spawn`: how long starting one command blocks a Node process, by what that
 * process holds in memory, and what a spawner process would cost instead (docs/decisions.md 51).
 *
 *   node bench/spawn-cost.mjs [--spawns 40] [--mb 100]
 *
 * Node spawns with fork(), which copies the page tables of the memory in use: crucible pays it
 * for every command (agent, run, eval), inside what the loop bench counts as agent and
 * experiment time. Each case runs in a fresh Node process holding --mb of one kind of memory
 * (none; Buffers; heap objects), spawns /bin/true --spawns times and reports the median time
 * the spawn call blocked the event loop and the median round trip to the child's exit. The last
 * case sends the same commands through one `sh` reading them on a pipe (a spawner), from a
 * process holding the Buffers. Cases are interleaved over three rounds.
 *
 * Prints a table and writes bench/results/spawn-cost.json. Never run as a timed test.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuPressure, describeMachine, loadAverage } from './lib/machine.mjs';
import { median, round } from './lib/stats.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const options = parseOptions(process.argv.slice(2));

// Runs inside each child: fills its memory, then times its spawns. Prints JSON.
const CHILD = `
import { spawn } from 'node:child_process';
const [kind, mb, spawns] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const hold = [];
if (kind === 'buffers' || kind === 'spawner') for (let i = 0; i < mb; i++) hold.push(Buffer.alloc(1 << 20, 1));
if (kind === 'heap') for (let i = 0; i < mb * 8000; i++) hold.push({ n: i, text: 'v' + i, list: [i] });
const blocked = [];
const trips = [];
if (kind === 'spawner') {
  const sh = spawn('/bin/sh', [], { stdio: ['pipe', 'pipe', 'inherit'] });
  let waiting = null;
  sh.stdout.on('data', () => { const done = waiting; waiting = null; done?.(); });
  for (let i = 0; i < spawns; i++) {
    const start = performance.now();
    await new Promise((resolve) => {
      waiting = resolve;
      sh.stdin.write('/bin/true </dev/null >/dev/null 2>&1 & wait $!; echo $?\\n');
      blocked.push(performance.now() - start);
    });
    trips.push(performance.now() - start);
  }
  sh.stdin.end();
} else {
  for (let i = 0; i < spawns; i++) {
    const start = performance.now();
    const child = spawn('/bin/true', { stdio: 'ignore' });
    blocked.push(performance.now() - start);
    await new Promise((resolve) => child.on('exit', resolve));
    trips.push(performance.now() - start);
  }
}
const memory = process.memoryUsage();
process.stdout.write(JSON.stringify({ blocked, trips, rssMb: memory.rss / 2 ** 20, heapMb: memory.heapUsed / 2 ** 20 }));
`;

const CASES = [
  { name: 'fresh Node', kind: 'none', mb: 0 },
  { name: `${options.mb} MB of Buffers`, kind: 'buffers', mb: options.mb },
  { name: `${options.mb} MB of heap objects`, kind: 'heap', mb: options.mb },
  { name: `spawner (sh), ${options.mb} MB of Buffers`, kind: 'spawner', mb: options.mb },
];

const machine = describeMachine();
log(`spawn cost: ${machine.node}, ${machine.platform}, ${machine.cpus} CPUs (${machine.cpuModel}); ${options.spawns} spawns a case, 3 rounds interleaved`);
const loadBefore = loadAverage();
const pressureBefore = cpuPressure();
const samples = CASES.map(() => ({ blocked: [], trips: [], rssMb: [], heapMb: [] }));
for (let round = 0; round < 3; round++) {
  CASES.forEach((c, i) => {
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', CHILD, c.kind, String(c.mb), String(options.spawns)], { encoding: 'utf8', maxBuffer: 1 << 24 }));
    samples[i].blocked.push(...out.blocked);
    samples[i].trips.push(...out.trips);
    samples[i].rssMb.push(out.rssMb);
    samples[i].heapMb.push(out.heapMb);
  });
}
const fresh = median(samples[0].trips);
const rows = CASES.map((c, i) => ({
  case: c.name,
  rss_mb: round(median(samples[i].rssMb)),
  heap_mb: round(median(samples[i].heapMb)),
  blocked_ms: round(median(samples[i].blocked)),
  round_trip_ms: round(median(samples[i].trips)),
  round_trip_vs_fresh_node: round(median(samples[i].trips) / fresh, 3),
}));
log('');
log(`${'case'.padEnd(40)}${'RSS MB'.padStart(8)}${'heap MB'.padStart(9)}${'blocked ms'.padStart(12)}${'round trip ms'.padStart(15)}${'× fresh'.padStart(9)}`);
for (const r of rows) log(`${r.case.padEnd(40)}${String(r.rss_mb).padStart(8)}${String(r.heap_mb).padStart(9)}${String(r.blocked_ms).padStart(12)}${String(r.round_trip_ms).padStart(15)}${String(r.round_trip_vs_fresh_node).padStart(9)}`);
log('\n"blocked" is the spawn call itself (the event loop waits); for the spawner, writing the command to its pipe.');
const out = { date: new Date().toISOString(), machine, load_average_1_5_15: { before: loadBefore, after: loadAverage() }, cpu_pressure: { before: pressureBefore, after: cpuPressure() }, spawns_per_case: options.spawns * 3, cases: rows };
mkdirSync(path.join(repoRoot, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(repoRoot, 'bench', 'results', 'spawn-cost.json'), `${JSON.stringify(out, null, 2)}\n`);
log('\nwrote bench/results/spawn-cost.json');

function log(line) {
  process.stdout.write(`${line}\n`);
}

function parseOptions(args) {
  const parsed = { spawns: 40, mb: 100 };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--spawns') parsed.spawns = Number(args[++i]);
    else if (args[i] === '--mb') parsed.mb = Number(args[++i]);
    else {
      process.stderr.write(`unknown option ${args[i]}\nusage: node bench/spawn-cost.mjs [--spawns 40] [--mb 100]\n`);
      process.exit(2);
    }
  }
  for (const key of ['spawns', 'mb']) {
    if (!Number.isInteger(parsed[key]) || parsed[key] < 1) {
      process.stderr.write(`--${key} must be a whole number of 1 or more\n`);
      process.exit(2);
    }
  }
  return parsed;
}
