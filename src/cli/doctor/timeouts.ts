/**
 * Doctor's probes, bounded so that one hung program cannot hang `agentvisor doctor`.
 * Fixed, not configurable: doctor is run by hand and reports a slow probe as a finding.
 */
export const DoctorTimeouts = {
  /** `<agent> --version`: a real CLI answers in well under a second; a hung one (waiting on a network login) is reported. */
  versionMs: 10_000,
  /** A tiny program in a PTY: node-pty that loads but cannot run a program hangs rather than fails. */
  ptyMs: 5_000,
} as const;
