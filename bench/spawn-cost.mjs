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
 * the spawn call blocked the event loop and the median round trip to the child's exit. Then,
 * from a process holding the Buffers: the same commands through one `sh` reading them on a pipe
 * (a bare spawner); `sh -c` started as crucible starts a command (a session of its own, its folder
 * and environment, two pipes), by Node; and the same through a spawner that does all of that,
 * in `sh` (with util-linux's `setsid`: dash has no job control without a terminal) and in `perl`
 * (POSIX::setsid, mkfifo and waitpid, no exec of their own). Cases are interleaved over three
 * rounds.
 *
 * Then what a fork costs afterwards (decisions 63): a fork marks every page of the forking process
 * copy-on-write, so each page it writes next takes a fault. A fresh process writes one byte in
 * each page of 40 MB it holds, with and without a spawn of /bin/true just before, and deflates a
 * small git blob the same two ways (zlib's state is fresh malloc'd memory).
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
if (kind === 'buffers' || kind.startsWith('spawner') || kind === 'crucible-like') for (let i = 0; i < mb; i++) hold.push(Buffer.alloc(1 << 20, 1));
if (kind === 'heap' || kind === 'crucible-like-heap') for (let i = 0; i < mb * 8000; i++) hold.push({ n: i, text: 'v' + i, list: [i] });
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
} else if (kind === 'spawner-full') {
  // What crucible would need of a spawner: each command in a session of its own (util-linux's
  // setsid: dash has no job control without a terminal), its folder and environment, its output
  // on two pipes of its own (FIFOs made beforehand and opened by this process), and its pid and
  // exit status back.
  const { mkdtempSync, openSync, closeSync, rmSync, constants } = await import('node:fs');
  const { execFileSync } = await import('node:child_process');
  const dir = mkdtempSync('/tmp/crucible-spawner-');
  const fifos = Array.from({ length: spawns * 2 }, (_, j) => dir + '/f' + j);
  execFileSync('mkfifo', ['-m', '600', ...fifos]);
  const sh = spawn('/bin/sh', ['-c', 'while IFS= read -r line; do eval "$line"; done'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let waiting = null;
  let said = '';
  sh.stdout.on('data', (chunk) => {
    said += chunk;
    if (said.split('\\n').length > 2) { said = ''; const done = waiting; waiting = null; done?.(); }
  });
  for (let i = 0; i < spawns; i++) {
    const start = performance.now();
    const fds = [openSync(fifos[2 * i], constants.O_RDWR | constants.O_NONBLOCK), openSync(fifos[2 * i + 1], constants.O_RDWR | constants.O_NONBLOCK)];
    await new Promise((resolve) => {
      waiting = resolve;
      sh.stdin.write("(cd /tmp && export CRUCIBLE_TRIAL=" + i + " && exec setsid /bin/sh -c 'true' </dev/null >" + fifos[2 * i] + " 2>" + fifos[2 * i + 1] + ") & echo $!; wait $!; echo $?\\n");
      blocked.push(performance.now() - start);
    });
    fds.forEach((fd) => closeSync(fd));
    trips.push(performance.now() - start);
  }
  sh.stdin.end();
  rmSync(dir, { recursive: true, force: true });
} else if (kind === 'spawner-perl') {
  // The same with perl as the spawner: setsid, the folder, the environment and the pipes with no
  // exec of their own, and the exit status as waitpid gives it (a signal told from an exit code).
  const { mkdtempSync, openSync, closeSync, rmSync, constants } = await import('node:fs');
  const dir = mkdtempSync('/tmp/crucible-spawner-');
  const script = 'use POSIX; $| = 1; while (my $line = <STDIN>) { chomp $line; my ($out, $err, $trial) = split / /, $line; ' +
    'for my $f ($out, $err) { POSIX::mkfifo($f, 0600) or die "mkfifo $f: $!"; } print "made\\\\n"; <STDIN>; ' +
    'my $pid = fork(); if ($pid == 0) { POSIX::setsid(); chdir("/tmp"); %ENV = (%ENV, CRUCIBLE_TRIAL => $trial); ' +
    'open(STDIN, "<", "/dev/null"); open(STDOUT, ">", $out); open(STDERR, ">", $err); exec("/bin/sh", "-c", "true"); POSIX::_exit(127); } ' +
    'print "$pid\\\\n"; waitpid($pid, 0); print "$?\\\\n"; }';
  const perl = spawn('perl', ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let waiting = null;
  let said = '';
  perl.stdout.on('data', (chunk) => {
    said += chunk;
    const lines = said.split('\\n');
    if (waiting !== null && lines.length > waiting.lines) { said = ''; const done = waiting.resolve; waiting = null; done(); }
  });
  const ask = (text, lines) => new Promise((resolve) => { waiting = { resolve, lines }; perl.stdin.write(text); });
  for (let i = 0; i < spawns; i++) {
    const start = performance.now();
    const out = dir + '/o' + i;
    const err = dir + '/e' + i;
    // Made by the spawner (no exec), opened here before the command starts writing.
    await ask(out + ' ' + err + ' ' + i + '\\n', 1);
    // What holds the event loop: opening the two pipes and writing the go.
    const opening = performance.now();
    const fds = [openSync(out, constants.O_RDWR | constants.O_NONBLOCK), openSync(err, constants.O_RDWR | constants.O_NONBLOCK)];
    const going = ask('go\\n', 2);
    blocked.push(performance.now() - opening);
    await going;
    fds.forEach((fd) => closeSync(fd));
    trips.push(performance.now() - start);
  }
  perl.stdin.end();
  rmSync(dir, { recursive: true, force: true });
} else if (kind.startsWith('crucible-like')) {
  // Node's own spawn as crucible makes it: sh -c, a session of its own, two pipes.
  for (let i = 0; i < spawns; i++) {
    const start = performance.now();
    const child = spawn('/bin/sh', ['-c', 'true'], { cwd: '/tmp', env: { ...process.env, CRUCIBLE_TRIAL: String(i) }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    blocked.push(performance.now() - start);
    child.stdout.resume();
    child.stderr.resume();
    await new Promise((resolve) => child.on('close', resolve));
    trips.push(performance.now() - start);
  }
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
  // The same comparison with what crucible's commands need (a group, folder, environment, two pipes each).
  { name: "crucible's spawn, fresh Node", kind: 'crucible-like', mb: 0 },
  { name: `crucible's spawn, ${options.mb} MB of heap objects`, kind: 'crucible-like-heap', mb: options.mb },
  { name: `crucible's spawn, ${options.mb} MB of Buffers`, kind: 'crucible-like', mb: options.mb },
  { name: `full spawner (sh + setsid), ${options.mb} MB of Buffers`, kind: 'spawner-full', mb: options.mb },
  { name: `full spawner (perl), ${options.mb} MB of Buffers`, kind: 'spawner-perl', mb: options.mb },
].filter((c) => c.kind !== 'spawner-perl' || hasPerl());

function hasPerl() {
  try {
    execFileSync('perl', ['-MPOSIX', '-e', '1'], { stdio: 'ignore' });
    return true;
  } catch {
    log('perl (with POSIX) is not here: its spawner is not measured');
    return false;
  }
}

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

// What a fork costs afterwards: the parent's writes to its own pages.
const AFTER_FORK = `
import { spawn } from 'node:child_process';
import { deflateSync } from 'node:zlib';
const pages = Buffer.alloc(40 << 20, 1);
const blob = Buffer.from('blob 147\\0' + 'DELTA = 64 # @tune 1..100000 int log\\n'.repeat(4));
const spawnTrue = () => new Promise((resolve) => spawn('/bin/true', { stdio: 'ignore' }).on('exit', resolve));
const faults = () => process.resourceUsage().minorPageFault;
const out = { write: { warm: [], forked: [] }, faults: [], deflate: { warm: [], forked: [] } };
for (let i = 0; i < 6; i++) {
  let start = performance.now();
  for (let at = 0; at < pages.length; at += 4096) pages[at]++;
  out.write.warm.push(performance.now() - start);
  await spawnTrue();
  const before = faults();
  start = performance.now();
  for (let at = 0; at < pages.length; at += 4096) pages[at]++;
  out.write.forked.push(performance.now() - start);
  out.faults.push(faults() - before);
}
for (let i = 0; i < 40; i++) {
  deflateSync(blob, { level: 1 });
  let start = performance.now();
  deflateSync(blob, { level: 1 });
  out.deflate.warm.push(performance.now() - start);
  await spawnTrue();
  start = performance.now();
  deflateSync(blob, { level: 1 });
  out.deflate.forked.push(performance.now() - start);
}
process.stdout.write(JSON.stringify({ pages: pages.length / 4096, ...out }));
`;
const forked = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', AFTER_FORK], { encoding: 'utf8' }));
const afterFork = {
  pages: forked.pages,
  faults_after_a_fork: median(forked.faults),
  us_per_page_written: round((median(forked.write.warm) * 1000) / forked.pages, 3),
  us_per_page_written_after_a_fork: round((median(forked.write.forked) * 1000) / forked.pages, 2),
  deflate_small_blob_us: round(median(forked.deflate.warm) * 1000, 1),
  deflate_small_blob_after_a_fork_us: round(median(forked.deflate.forked) * 1000, 1),
};
log(`\nwrites after a fork: ${afterFork.pages} pages, ${afterFork.faults_after_a_fork} faults; ${afterFork.us_per_page_written} µs a page without a fork, ${afterFork.us_per_page_written_after_a_fork} µs after one`);
log(`a 147-byte blob deflated: ${afterFork.deflate_small_blob_us} µs, ${afterFork.deflate_small_blob_after_a_fork_us} µs just after a fork`);
const out = { date: new Date().toISOString(), machine, load_average_1_5_15: { before: loadBefore, after: loadAverage() }, cpu_pressure: { before: pressureBefore, after: cpuPressure() }, spawns_per_case: options.spawns * 3, cases: rows, after_a_fork: afterFork };
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
