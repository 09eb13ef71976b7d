import { CUT_MARK, inlineField, sanitize, storedLines, terminalJson, terminalText } from '../../src/shared/sanitize';

const ESC = '\x1b';

describe('sanitize', () => {
  test('plain text, tabs and non-ASCII pass unchanged', () => {
    for (const s of ['', 'hello world', 'a\tb', 'ünïcödé ☃ 🚀 中文', '[tool] Bash command=ls -la']) expect(sanitize(s)).toBe(s);
  });

  test('OSC sequences go whole, whatever ends them (clipboard write, title, hyperlink)', () => {
    expect(sanitize(`a${ESC}]52;c;cHduZWQ=\x07b`)).toBe('ab');
    expect(sanitize(`a${ESC}]0;title${ESC}\\b`)).toBe('ab');
    expect(sanitize(`${ESC}]8;;https://example.com/a b${ESC}\\link${ESC}]8;;${ESC}\\`)).toBe('link');
    expect(sanitize(`a\x9d0;title\x9cb`)).toBe('ab');
  });

  test('DCS, APC, PM and SOS strings leave nothing behind', () => {
    expect(sanitize(`dcs ${ESC}P+q544e${ESC}\\end`)).toBe('dcs end');
    expect(sanitize(`apc ${ESC}_APC${ESC}\\end`)).toBe('apc end');
    expect(sanitize(`pm ${ESC}^PM${ESC}\\end`)).toBe('pm end');
    expect(sanitize(`sos ${ESC}XSOS${ESC}\\end`)).toBe('sos end');
    expect(sanitize(`8-bit \x90+q\x9cend \x9fapc\x9c.`)).toBe('8-bit end .');
  });

  test('an unterminated control string runs to the end of the text', () => {
    expect(sanitize(`shown ${ESC}]52;c;cHduZWQ=`)).toBe('shown ');
    expect(sanitize(`shown ${ESC}Phidden`)).toBe('shown ');
  });

  test('CSI (7- and 8-bit), two-byte and nF escapes go', () => {
    expect(sanitize(`${ESC}[1;31mred${ESC}[0m ${ESC}[2J${ESC}[?25l${ESC}[38;5;208mx`)).toBe('red x');
    expect(sanitize(`\x9b31mred\x9b0m`)).toBe('red');
    expect(sanitize(`${ESC}creset ${ESC}7saved${ESC}8 ${ESC}(Bcharset ${ESC}#8`)).toBe('reset saved charset ');
    expect(sanitize(`lone ${ESC}`)).toBe('lone ');
  });

  test('every C0 and C1 control but tab goes, and DEL', () => {
    let all = '';
    for (let c = 0; c < 0x20; c++) if (c !== 0x1b) all += String.fromCharCode(c);
    for (let c = 0x7f; c <= 0x9f; c++) if (![0x90, 0x98, 0x9b, 0x9d, 0x9e, 0x9f].includes(c)) all += String.fromCharCode(c);
    expect(sanitize(`a${all}b`)).toBe('a\tb');
    expect(sanitize('nul\x00del\x7fend')).toBe('nuldelend');
  });

  test('keepCr keeps carriage returns (for the line splitter) and nothing else', () => {
    expect(sanitize(`10%\r${ESC}[K100%\x00`, { keepCr: true })).toBe('10%\r100%');
  });

  test('linear: a megabyte of back-to-back escapes is one quick pass', () => {
    const hostile = `${ESC}[31m${ESC}]0;t\x07\x00`.repeat(100_000) + 'end';
    const t0 = process.hrtime.bigint();
    expect(sanitize(hostile)).toBe('end');
    // Generous for a loaded machine; a quadratic pass over 1.4 MB takes minutes.
    expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeLessThan(2_000);
  });
});

describe('inlineField', () => {
  test('line breaks and tabs become visible escapes; other controls go', () => {
    expect(inlineField('/ws/a\nb\r\nc\td')).toBe('/ws/a\\nb\\r\\nc\\td');
    expect(inlineField(`x${ESC}]0;t\x07y\x00`)).toBe('xy');
    expect(inlineField('plain')).toBe('plain');
  });
});

describe('storedLines', () => {
  test('a line holding line breaks becomes one stored line per break, sanitised', () => {
    expect(storedLines(`a\nb${ESC}[31m\r\nc`, 100)).toEqual(['a', 'b', 'c']);
  });

  test('a long line is cut into marked pieces within the bound', () => {
    const max = CUT_MARK.length + 4;
    const pieces = storedLines('abcdefgh' + 'y'.repeat(37), max);
    expect(pieces).toEqual([`abcd${CUT_MARK}`, `efgh${CUT_MARK}`, 'y'.repeat(37)]);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(max);
    expect(storedLines('x'.repeat(max), max)).toEqual(['x'.repeat(max)]);
  });

  test('a cut never splits a surrogate pair', () => {
    const max = CUT_MARK.length + 4;
    // "abc" then a 2-unit emoji across the 4-unit cut: the piece stops before it.
    const pieces = storedLines('abc🚀' + 'z'.repeat(max), max);
    expect(pieces[0]).toBe(`abc${CUT_MARK}`);
    expect(pieces.map((p) => (p.endsWith(CUT_MARK) ? p.slice(0, -CUT_MARK.length) : p)).join('')).toBe('abc🚀' + 'z'.repeat(max));
    for (const p of pieces) expect(p).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});

describe('terminalText and terminalJson', () => {
  test('terminalText keeps line breaks and sanitises each line', () => {
    expect(terminalText('a\nb')).toBe('a\nb');
    expect(terminalText(`a${ESC}[31m\nb\x00\r\n`)).toBe('a\nb\n');
  });

  test('terminalJson escapes DEL and C1 (JSON.stringify leaves them raw) and stays valid JSON', () => {
    const value = { line: `x\x7f\x9b31m${ESC}]0;t\x07\x00` };
    const text = terminalJson(value);
    expect(text).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});
