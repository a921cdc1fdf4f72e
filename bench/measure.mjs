// What the benchmarks share: the floor's DAG, CPU read from /proc, the dev server's process, a quiet bundler logger.
import { readFileSync, readdirSync } from 'node:fs';

// 8 tasks: a diamond (a → b, c → d) then a chain (d → e → f) and a side chain (a → g → h).
export const dag = [
  { id: 'a', dependsOn: [] }, { id: 'b', dependsOn: ['a'] }, { id: 'c', dependsOn: ['a'] }, { id: 'd', dependsOn: ['b', 'c'] },
  { id: 'e', dependsOn: ['d'] }, { id: 'f', dependsOn: ['e'] }, { id: 'g', dependsOn: ['a'] }, { id: 'h', dependsOn: ['g'] },
];

// CPU a process has used, in ms: utime + stime from /proc/<pid>/stat (clock ticks of 10 ms).
export const cpuMs = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

// The dev server the test environment started: the process whose command line names its port.
export const serverPid = (port) => readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).find((pid) => {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes('start-dev') && argv[argv.indexOf('--port') + 1] === port;
  } catch {
    return false;
  }
});

export function quiet() {
  return { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} };
}
