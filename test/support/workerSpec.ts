/** A launch spec as it is on the wire (spec.json), with only the fields an older release wrote: tests of readers start from it. */
export function wireSpec(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    protocolVersion: 1,
    sessionId: 'abc',
    agent: 'codex',
    agentBin: '/usr/bin/codex',
    cwd: '/tmp/ws',
    task: 'do it',
    model: null,
    mode: 'full',
    env: { PATH: '/usr/bin', HOME: '/root' },
    sessionDir: '/tmp/state/sessions/abc',
    socketPath: '/tmp/state/sock/abc.sock',
    secret: 's'.repeat(32),
    resume: null,
    idleTimeoutMs: 1000,
    killGraceMs: 1000,
    orphanTimeoutMs: 1000,
    exitAckMs: 1000,
    outputFlushMs: 25,
    partialLineFlushMs: 0,
    ringLines: 100,
    maxLineChars: 100,
    logLevel: 'info',
    ...over,
  };
}
