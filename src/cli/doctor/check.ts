/**
 * What a doctor check reports, and the helpers every check module builds it with.
 */

export type Status = 'OK' | 'WARN' | 'FAIL';

export interface Check {
  check: string;
  status: Status;
  message: string;
  fix?: string;
}

export const ok = (check: string, message: string): Check => ({ check, status: 'OK', message });
export const warn = (check: string, message: string, fix: string): Check => ({ check, status: 'WARN', message, fix });
export const fail = (check: string, message: string, fix: string): Check => ({ check, status: 'FAIL', message, fix });
export const mode = (m: number) => '0' + (m & 0o777).toString(8);
export const firstLine = (s: string) =>
  (
    s
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? ''
  ).slice(0, 120);
