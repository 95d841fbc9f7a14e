/**
 * What a sandboxed command sees, and the bubblewrap arguments that make it so. Pure: every path
 * comes in as input (see view.ts for how a run computes them), so the mount order, which decides
 * what wins where paths overlap, is tested as a table.
 */
export interface SandboxView {
  /** Folders the command may write (each must exist); everything else is read-only. */
  writable: readonly string[];
  /** More folders it may write when they exist (the config's extra paths). */
  optionalWritable: readonly string[];
  /** Paths inside writable folders that stay read-only; missing ones are skipped. */
  readonly: readonly string[];
  /** Existing folders replaced by an empty one: the project's repository for an agent, credential folders. */
  hiddenFolders: readonly string[];
  /**
   * Folders bound read-only before the hidden and writable ones, so that they are seen even under
   * the replaced /tmp: the project, for an experiment in one of its slots.
   */
  readonlyFolders?: readonly string[];
  /** Existing files replaced by an empty one (credential files). */
  hiddenFiles: readonly string[];
  /** Files readable again inside a hidden folder (the agent's prompt). */
  readable: readonly string[];
  /** Device nodes passed through (GPUs); missing ones are skipped. */
  devices: readonly string[];
  /** Folders of /run kept (read-only) although /run is replaced: where /etc/resolv.conf points. */
  keptInRun: readonly string[];
  network: boolean;
}

const pair = (flag: string, paths: readonly string[]): string[] => paths.flatMap((p) => [flag, p, p]);

/**
 * Mounts apply in order, so later ones win: the machine read-only, then private /tmp and /run,
 * then what is hidden, then what is writable, then what stays read-only or readable inside it.
 */
export function bwrapArgs(view: SandboxView): string[] {
  return [
    '--ro-bind', '/', '/',
    '--dev', '/dev',
    ...pair('--dev-bind-try', view.devices),
    '--proc', '/proc',
    // As root (no user namespace) bubblewrap leaves these writable: sysctls and the kernel's triggers.
    ...pair('--ro-bind-try', ['/proc/sys', '/proc/sysrq-trigger', '/proc/irq', '/proc/bus']),
    '--tmpfs', '/tmp',
    // Sockets of daemons (docker, the session bus, ssh and gpg agents) live under /run; a socket
    // stays connectable on a read-only mount, so the folder is replaced. DNS is put back.
    '--tmpfs', '/run',
    ...pair('--ro-bind-try', view.keptInRun),
    // Before what is hidden: a project in the home folder must not bring ~/.ssh back.
    ...pair('--ro-bind', view.readonlyFolders ?? []),
    ...view.hiddenFolders.flatMap((p) => ['--tmpfs', p]),
    ...view.hiddenFiles.flatMap((p) => ['--ro-bind', '/dev/null', p]),
    ...pair('--bind', view.writable),
    ...pair('--bind-try', view.optionalWritable),
    ...pair('--ro-bind-try', view.readonly),
    ...pair('--ro-bind', view.readable),
    // Its own process namespace: no other process (crucible's /proc/<pid>/environ included) is
    // visible, and when its first process ends the kernel ends every other one inside.
    '--unshare-pid',
    ...(view.network ? [] : ['--unshare-net']),
    // Without this, a command run as root keeps CAP_SYS_ADMIN and can remount / read-write.
    '--cap-drop', 'ALL',
  ];
}
