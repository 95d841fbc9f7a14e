import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { readConfigEssentials } from '../../config/read-essentials.js';
import { ProjectError } from '../../errors.js';
import { startDashboard } from '../../dashboard/server.js';
import type { Output } from '../output.js';

export interface DashboardCommandOptions {
  projectDir: string;
  port?: number | undefined;
  open: boolean;
  /** Resolves to stop the server (Ctrl+C by default). */
  until?: Promise<void>;
}

/** `crucible dashboard`: serves the project's runs until Ctrl+C. */
export async function dashboardCommand(options: DashboardCommandOptions, out: Output): Promise<void> {
  if (!existsSync(options.projectDir)) throw new ProjectError(`${options.projectDir} does not exist`);
  const projectDir = realpathSync(options.projectDir);
  const config = await readConfigEssentials(projectDir);
  const dashboard = await startDashboard({ projectDir, projectName: config.name, metric: config.metric, ...(options.port !== undefined ? { port: options.port } : {}) });
  // The URL is the data (a script can read it); the rest is for people.
  out.data(dashboard.url);
  out.info(out.style.dim('Read-only, on 127.0.0.1 only; the token in the URL is what lets a browser in. Ctrl+C stops it.'));
  if (options.open) openBrowser(dashboard.url, out);
  try {
    await (options.until ?? untilInterrupted());
  } finally {
    await dashboard.close();
  }
}

function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function openBrowser(url: string, out: Output): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => out.warn(`could not open a browser (${command}); open the URL above yourself`));
    child.unref();
  } catch {
    out.warn(`could not open a browser (${command}); open the URL above yourself`);
  }
}
