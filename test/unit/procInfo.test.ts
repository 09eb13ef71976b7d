import { spawn } from 'node:child_process';
import { isAlive, isSameProcess, processStartTime } from '../../src/shared/procInfo';

async function deadPid(): Promise<number> {
  const child = spawn('true', { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error('spawn of `true` failed');
  // 'close' comes after Node has reaped the child, so the pid no longer names a process (not even a zombie).
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', () => resolve());
  });
  return pid;
}

describe('procInfo', () => {
  test('processStartTime of this process is a stable numeric string', () => {
    const t = processStartTime(process.pid);
    expect(typeof t).toBe('string');
    expect(t).toMatch(/^\d+$/);
    expect(processStartTime(process.pid)).toBe(t);
  });

  test('processStartTime of an invalid pid is null', () => {
    expect(processStartTime(0)).toBeNull();
    expect(processStartTime(-5)).toBeNull();
    expect(processStartTime(1.5)).toBeNull();
  });

  test('isSameProcess is true for this pid with its recorded start time', () => {
    expect(isSameProcess(process.pid, processStartTime(process.pid))).toBe(true);
  });

  test('isSameProcess is false for this pid with a different start time', () => {
    const t = processStartTime(process.pid)!;
    expect(isSameProcess(process.pid, String(Number(t) + 1))).toBe(false);
  });

  test('isSameProcess refuses to vouch for a pid without a recorded start time', () => {
    expect(isSameProcess(process.pid, null)).toBe(false);
    expect(isSameProcess(null, processStartTime(process.pid))).toBe(false);
  });

  test('a process that has exited is not alive and not the same process', async () => {
    const pid = await deadPid();
    expect(isAlive(pid)).toBe(false);
    expect(processStartTime(pid)).toBeNull();
    expect(isSameProcess(pid, processStartTime(process.pid))).toBe(false);
    expect(isSameProcess(pid, '0')).toBe(false);
  });

  test('a child that is running is recognised while alive and not after', async () => {
    const child = spawn('sleep', ['5'], { stdio: 'ignore' });
    const pid = child.pid!;
    try {
      const t = processStartTime(pid);
      expect(t).not.toBeNull();
      expect(isSameProcess(pid, t)).toBe(true);
      const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
      child.kill('SIGKILL');
      await closed;
      expect(isSameProcess(pid, t)).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
