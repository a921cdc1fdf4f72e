// Runs the real `keel` command (bin/keel.js → dist/) as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const keelBin = path.resolve(__dirname, '../../bin/keel.js');

export interface CliOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
  /** From the last thing it printed to its exit: a command that lingers once it is done shows here. */
  exitAfterLastOutputMs: number;
}

export function runKeel(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [keelBin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let lastOutput = Date.now();
    child.stdout.on('data', (chunk) => ((stdout += chunk), (lastOutput = Date.now())));
    child.stderr.on('data', (chunk) => ((stderr += chunk), (lastOutput = Date.now())));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`keel ${args.join(' ')} did not finish in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, exitAfterLastOutputMs: Date.now() - lastOutput });
    });
  });
}

/** Starts a long-running `keel` command; `output()` has everything it printed so far. */
export function startKeel(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [keelBin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, output: () => output, exited };
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export { freeLoopbackPort as freePort } from '../../src/cli/ports';

/** A `keel worker` process for the duration of a describe block. */
export function useWorkerProcess(env: NodeJS.ProcessEnv): void {
  let worker: ReturnType<typeof startKeel>;
  beforeAll(async () => {
    worker = startKeel(['worker'], env);
    await waitFor(() => worker.output().includes('keel worker'), 'the worker to start');
  });
  afterAll(async () => {
    worker.child.kill('SIGINT');
    expect(await worker.exited).toBe(0);
  });
}
