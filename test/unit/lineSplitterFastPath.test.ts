/**
 * LineSplitter skips its cleaning for lines with nothing to clean; these tests
 * hold it to the full cleaning (the pre-fast-path code, copied here) on lines
 * with and without escapes, carriage returns and control characters.
 */
import stripAnsi from 'strip-ansi';
import { LineSplitter } from '../../src/worker/lineSplitter';

const CONTROL_CHARS = /[\x00-\x08\x0b-\x1f\x7f]/g;

function reference(raw: string, terminal: boolean): string {
  let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (terminal) line = stripAnsi(line.replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, ''));
  if (line.lastIndexOf('\r') !== -1) {
    const parts = line.split('\r').filter((p) => p.length > 0);
    line = parts.length ? parts[parts.length - 1] : '';
  }
  if (terminal) line = line.replace(CONTROL_CHARS, '');
  return line;
}

const samples = [
  'plain text',
  '',
  '\ttabbed\tline',
  'trailing cr\r',
  'progress 10%\rprogress 50%\rprogress 100%',
  '\x1b[32mgreen\x1b[0m text',
  '\x9b31mc1 csi\x9b0m',
  '\x1b]0;title\x07after osc',
  '\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\',
  'bell\x07 and del\x7f and nul\x00',
  'ünïcödé ✓ plain',
  'emoji 🎉 and \x1b[1mbold\x1b[22m',
  'back\bspace',
  '\r\r\r',
  'x'.repeat(50) + '\x1b[K',
];

describe.each([true, false])('terminal=%s', (terminal) => {
  test.each(samples.map((s) => [JSON.stringify(s), s]))('%s is cleaned as before', (_name, sample) => {
    const out: string[] = [];
    const splitter = new LineSplitter({ terminal, maxLineChars: 1000, partialFlushMs: 0 }, (l) => out.push(l));
    splitter.push(sample + '\n');
    expect(out).toEqual([reference(sample, terminal)]);
  });
});
