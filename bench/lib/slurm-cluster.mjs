import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A real single-node Slurm (Debian's slurm-wlm and munge) kept entirely under one temporary
 * folder: its own munge key and socket, its own config (SLURM_CONF), ports and state, listening on
 * 127.0.0.1 only. See design/cluster-and-browser.md for why each setting is there. Used by the
 * Slurm tests (test/helpers/slurm-cluster.ts) and bench/slurm.mjs.
 */
const binaries = ['/usr/sbin/munged', '/usr/sbin/slurmctld', '/usr/sbin/slurmd', 'sbatch', 'squeue', 'scontrol', 'scancel', 'sinfo'];

function which(name) {
  if (name.startsWith('/')) return existsSync(name);
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Why the Slurm tests cannot run here, or null when they can. */
export function slurmUnavailable() {
  if (process.platform !== 'linux') return 'Slurm tests run on Linux only';
  const missing = binaries.filter((b) => !which(b));
  if (missing.length > 0) return `Slurm is not installed (missing ${missing.join(', ')}; apt-get install slurm-wlm munge)`;
  if (process.getuid?.() !== 0) return 'the test cluster needs root (slurmd runs jobs as their user)';
  return null;
}

function sleepMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readPid(file) {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** SIGTERM to each daemon by its pid file at once, then wait for each pid to vanish (SIGKILL after 8 s). */
function stopDaemons(pidFiles) {
  const pids = pidFiles.map(readPid).filter((pid) => pid !== null && pidAlive(pid));
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 8000;
  for (const pid of pids) {
    while (pidAlive(pid) && Date.now() < deadline) sleepMs(50);
    if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  }
}

/**
 * Starts a cluster (about 2–7 s). A daemon that cannot come up (its port taken by another cluster
 * or by a connection, once in CI) is tried again in a fresh folder on fresh ports, three times in
 * all; then it throws with the daemons' logs.
 */
export function startSlurmCluster(opts = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return startClusterOnce(opts);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof ClusterNotUp)) throw error;
    }
  }
}

class ClusterNotUp extends Error {}

function startClusterOnce(opts) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crucible-slurm-'));
  const d = (name) => path.join(dir, name);
  for (const sub of ['state', 'spool', 'log', 'run', 'munge']) mkdirSync(d(sub), { recursive: true, mode: 0o700 });
  writeFileSync(d('munge/munge.key'), randomBytes(1024), { mode: 0o600 });
  const socket = d('munge/munge.sock');
  execFileSync('/usr/sbin/munged', [
    '--force',
    `--socket=${socket}`,
    `--key-file=${d('munge/munge.key')}`,
    `--pid-file=${d('munge/munged.pid')}`,
    `--log-file=${d('log/munged.log')}`,
    `--seed-file=${d('munge/munged.seed')}`,
  ], { stdio: 'ignore' });

  // Ports apart from any other test cluster running at the same time (another file, another CI
  // job), and under Linux's ephemeral ports (32768 and up), which connections take.
  const base = 20000 + Math.floor(Math.random() * 12000);
  const cpus = opts.cpus ?? Math.max(4, os.cpus().length);
  const memory = Math.max(1024, Math.floor(os.totalmem() / 1024 / 1024 / 2));
  const conf = [
    'ClusterName=crucibletest',
    'SlurmctldHost=localhost(127.0.0.1)',
    `SlurmctldPort=${base}`,
    `SlurmdPort=${base + 1}`,
    'CommunicationParameters=NoCtldInAddrAny,NoInAddrAny',
    `AuthInfo=socket=${socket}`,
    'SlurmUser=root',
    'SlurmdUser=root',
    // The node offers the CPUs configured here, not the machine's: 4 jobs at once on a 2-core box.
    'SlurmdParameters=config_overrides',
    `StateSaveLocation=${d('state')}`,
    `SlurmdSpoolDir=${d('spool')}`,
    `SlurmctldPidFile=${d('run/slurmctld.pid')}`,
    `SlurmdPidFile=${d('run/slurmd.pid')}`,
    `SlurmctldLogFile=${d('log/slurmctld.log')}`,
    `SlurmdLogFile=${d('log/slurmd.log')}`,
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'SchedulerType=sched/backfill',
    'SchedulerParameters=batch_sched_delay=0,sched_min_interval=0',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_CPU',
    'AccountingStorageType=accounting_storage/none',
    'JobCompType=jobcomp/filetxt',
    `JobCompLoc=${d('log/jobcomp.txt')}`,
    'MailProg=/bin/true',
    'MpiDefault=none',
    'ReturnToService=2',
    'MinJobAge=300',
    'KillWait=2',
    'InactiveLimit=0',
    `NodeName=node1 NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${memory} State=UNKNOWN`,
    'PartitionName=debug Nodes=node1 Default=YES MaxTime=INFINITE State=UP',
    '',
  ].join('\n');
  writeFileSync(d('slurm.conf'), conf);
  const env = { ...process.env, SLURM_CONF: d('slurm.conf') };
  const cluster = {
    dir,
    env,
    stop() {
      stopDaemons([d('run/slurmd.pid'), d('run/slurmctld.pid'), d('munge/munged.pid')]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    execFileSync('/usr/sbin/slurmctld', ['-i'], { env, stdio: 'ignore' });
    execFileSync('/usr/sbin/slurmd', ['-N', 'node1'], { env, stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const state = spawnSync('sinfo', ['-h', '-N', '-o', '%T'], { env, encoding: 'utf8' }).stdout.trim();
      if (state === 'idle') break;
      // A daemon that has exited will not come up: no need to wait out the deadline.
      const exited = ['run/slurmctld.pid', 'run/slurmd.pid'].some((file) => {
        const pid = readPid(d(file));
        return pid !== null && !pidAlive(pid);
      });
      if (exited || Date.now() > deadline) {
        const log = (name) => (existsSync(d(`log/${name}`)) ? readFileSync(d(`log/${name}`), 'utf8').slice(-2000) : '');
        throw new ClusterNotUp(`the test Slurm cluster did not become idle (sinfo: ${state || 'nothing'})\n${log('slurmctld.log')}\n${log('slurmd.log')}`);
      }
      sleepMs(100);
    }
  } catch (error) {
    cluster.stop();
    throw error;
  }
  return cluster;
}
