import { CUT_MARK } from '../../src/shared/sanitize';
import { LineSplitter, LineSplitterOptions } from '../../src/worker/lineSplitter';

const ESC = '\x1b';

function split(chunks: string[], opts: Partial<LineSplitterOptions> = {}): string[] {
  const out: string[] = [];
  const s = new LineSplitter({ terminal: true, maxLineChars: 1000, partialFlushMs: 0, ...opts }, (l) => out.push(l));
  for (const c of chunks) s.push(c);
  s.flush();
  s.dispose();
  return out;
}

describe('LineSplitter', () => {
  test('a line split across chunks is one line', () => {
    expect(split(['hel', 'lo wor', 'ld\nnext\n'])).toEqual(['hello world', 'next']);
  });

  test('"\\r\\n" and "\\n" both end a line', () => {
    expect(split(['a\r\nb\nc\r\n'])).toEqual(['a', 'b', 'c']);
  });

  test('a "\\r\\n" split between chunks is one line ending, not a rewrite', () => {
    expect(split(['first\r', '\nsecond\n'])).toEqual(['first', 'second']);
    expect(split(['first\r', '\nsecond\n'], { terminal: false })).toEqual(['first', 'second']);
  });

  test('carriage-return progress rewrites keep only the final text', () => {
    expect(split(['10%\r50%\r100%\n'])).toEqual(['100%']);
    expect(split(['10%\r50%\r100%\n'], { terminal: false })).toEqual(['100%']);
    expect(split(['10%\r', '50%\r', '100%\n'])).toEqual(['100%']);
    // A trailing "\r" before the newline must not blank the line.
    expect(split(['done\r\r\n'])).toEqual(['done']);
  });

  test('a rewrite that erases with an escape sequence keeps the final text', () => {
    expect(split([`progress 10%\r${ESC}[Kprogress 100%\n`])).toEqual(['progress 100%']);
  });

  test('empty lines are preserved', () => {
    expect(split(['\n\nx\n\n'])).toEqual(['', '', 'x', '']);
    expect(split(['a\r\n\r\nb\n'])).toEqual(['a', '', 'b']);
  });

  test('terminal: true strips colour, cursor and mode sequences', () => {
    expect(split([`${ESC}[1;31mred${ESC}[0m plain\n`])).toEqual(['red plain']);
    expect(split([`${ESC}[2K${ESC}[1Gbar${ESC}[?25l\n`])).toEqual(['bar']);
    expect(split([`${ESC}[38;5;208morange${ESC}[39m\n`])).toEqual(['orange']);
  });

  test('terminal: true strips OSC sequences (window title, hyperlinks)', () => {
    expect(split([`${ESC}]0;my title\x07hello\n`])).toEqual(['hello']);
    expect(split([`${ESC}]8;;https://example.com/a b${ESC}\\link${ESC}]8;;${ESC}\\\n`])).toEqual(['link']);
  });

  test('terminal: true drops leftover control characters but keeps tabs', () => {
    expect(split(['a\tb\x07c\x00d\x7fe\n'])).toEqual(['a\tbcde']);
  });

  test('an escape sequence split across chunks is still stripped', () => {
    expect(split([`${ESC}`, '[31mred', `${ESC}[0`, 'm\n'])).toEqual(['red']);
    expect(split([`${ESC}[3`, `1mred${ESC}[0m\n`])).toEqual(['red']);
  });

  test('terminal: false keeps escape sequences and control characters verbatim', () => {
    const line = `${ESC}[31mred${ESC}[0m ${ESC}]0;t\x07x\x07`;
    expect(split([line + '\n'], { terminal: false })).toEqual([line]);
  });

  // Five characters of text per piece, plus the mark that says the line goes on.
  const MAX = CUT_MARK.length + 5;
  const TAIL = 'z'.repeat(MAX - 4);

  test('lines longer than maxLineChars are cut into marked pieces', () => {
    expect(split([`abcdefghij${TAIL}\n`], { maxLineChars: MAX })).toEqual([`abcde${CUT_MARK}`, `fghij${CUT_MARK}`, TAIL]);
    expect(split([`abcdefghij${TAIL}\n`], { maxLineChars: MAX, terminal: false })).toEqual([`abcde${CUT_MARK}`, `fghij${CUT_MARK}`, TAIL]);
  });

  test('a long partial line is cut while pending, and the rest joins the next chunk', () => {
    const out: string[] = [];
    const s = new LineSplitter({ terminal: false, maxLineChars: MAX, partialFlushMs: 0 }, (l) => out.push(l));
    s.push('abcde');
    s.push(`fghij${TAIL}`);
    // Held text never grows past maxLineChars.
    expect(out).toEqual([`abcde${CUT_MARK}`, `fghij${CUT_MARK}`]);
    s.push('mn\n');
    expect(out).toEqual([`abcde${CUT_MARK}`, `fghij${CUT_MARK}`, `${TAIL}mn`]);
    s.dispose();
  });

  test('a line of exactly maxLineChars is one piece', () => {
    expect(split(['abcde\n'], { maxLineChars: 5 })).toEqual(['abcde']);
    expect(split(['abc', 'de\n'], { maxLineChars: 5 })).toEqual(['abcde']);
  });

  test('DCS, APC, PM and SOS strings leave no leftovers (terminal: true)', () => {
    expect(split([`a${ESC}P+q544e${ESC}\\b ${ESC}_APC${ESC}\\c ${ESC}^pm${ESC}\\d ${ESC}Xsos${ESC}\\e\n`])).toEqual(['ab c d e']);
    expect(split([`${ESC}]52;c;cHduZWQ=\x07${ESC}c${ESC}[2Jx\x00y\n`])).toEqual(['xy']);
  });

  test('linear: a 128 MB line without a newline, in 64 KB chunks, is one quick pass', () => {
    const chunk = 'x'.repeat(64 * 1024);
    let pieces = 0;
    let chars = 0;
    const s = new LineSplitter({ terminal: false, maxLineChars: 16 * 1024 * 1024, partialFlushMs: 0 }, (l) => {
      pieces++;
      chars += l.length;
    });
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 2048; i++) s.push(chunk);
    s.flush();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    s.dispose();
    expect(pieces).toBe(9);
    expect(chars).toBe(128 * 1024 * 1024 + 8 * CUT_MARK.length);
    // Rescanning the held line per chunk (the old splitter) took tens of seconds here.
    expect(ms).toBeLessThan(5_000);
  });

  test('flush() emits the pending partial line, and only once', () => {
    const out: string[] = [];
    const s = new LineSplitter({ terminal: true, maxLineChars: 100, partialFlushMs: 0 }, (l) => out.push(l));
    s.push('complete\nprompt> ');
    expect(out).toEqual(['complete']);
    s.flush();
    expect(out).toEqual(['complete', 'prompt> ']);
    s.flush();
    expect(out).toEqual(['complete', 'prompt> ']);
    s.dispose();
  });

  test('flush() with nothing pending emits nothing', () => {
    expect(split(['a\n'])).toEqual(['a']);
    expect(split([])).toEqual([]);
  });

  // The flush is a timer: the clock is Jest's, so each check happens at an exact moment, however slow the machine.
  describe('on a fake clock', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    test('partialFlushMs publishes a pending partial line after quiet', () => {
      const out: string[] = [];
      const s = new LineSplitter({ terminal: true, maxLineChars: 100, partialFlushMs: 30 }, (l) => out.push(l));
      try {
        s.push('Continue? [y/N] ');
        jest.advanceTimersByTime(29);
        expect(out).toEqual([]);
        jest.advanceTimersByTime(1);
        expect(out).toEqual(['Continue? [y/N] ']);
        // What follows starts a new line rather than re-emitting the published text.
        s.push('y\n');
        expect(out).toEqual(['Continue? [y/N] ', 'y']);
      } finally {
        s.dispose();
      }
    });

    test('partialFlushMs is reset by new data, so a line still arriving is not cut', () => {
      const out: string[] = [];
      const s = new LineSplitter({ terminal: false, maxLineChars: 100, partialFlushMs: 60 }, (l) => out.push(l));
      try {
        s.push('abc');
        jest.advanceTimersByTime(40);
        s.push('def');
        jest.advanceTimersByTime(40); // past the first timer's 60 ms, before the reset one
        expect(out).toEqual([]);
        jest.advanceTimersByTime(20); // the reset one's 60 ms
        expect(out).toEqual(['abcdef']);
      } finally {
        s.dispose();
      }
    });

    test('dispose() cancels a scheduled partial flush', () => {
      const out: string[] = [];
      const s = new LineSplitter({ terminal: false, maxLineChars: 100, partialFlushMs: 20 }, (l) => out.push(l));
      s.push('pending');
      s.dispose();
      expect(jest.getTimerCount()).toBe(0);
      jest.runAllTimers();
      expect(out).toEqual([]);
    });
  });
});
