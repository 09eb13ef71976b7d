/**
 * The one place agent text is made safe to show: every line an agent produces
 * (Claude's stream-json text, Codex's PTY, stderr) and every journal field the
 * CLI prints passes through here. An agent is untrusted; its bytes must not
 * write an operator's clipboard (OSC 52), retitle or reset their terminal, or
 * move the cursor over what they read. One linear pass, and a single regex test
 * for the common line that holds no control character at all.
 *
 * Removed: every escape sequence (CSI, OSC, DCS, SOS, PM, APC, and two-byte
 * ESC sequences such as `ESC c`), in 7-bit and 8-bit form, and then every
 * remaining C0 and C1 control and DEL. Tab is kept.
 */

// Anything the slow path would act on: C0 but tab, DEL, C1.
// eslint-disable-next-line no-control-regex
const HAS_CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;
// The same, but a carriage return may stay (the line splitter reads it as a rewrite).
// eslint-disable-next-line no-control-regex
const HAS_CONTROL_BUT_CR = /[\x00-\x08\x0a-\x0c\x0e-\x1f\x7f-\x9f]/;
// The same, but a line feed may stay (text of several lines for a terminal).
// eslint-disable-next-line no-control-regex
const HAS_CONTROL_BUT_LF = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

const ESC = 0x1b;
const BEL = 0x07;
const ST8 = 0x9c;
const CSI8 = 0x9b;
/** 8-bit introducers of control strings: DCS, SOS, OSC, PM, APC (each runs to ST or BEL). */
const STRING8 = new Set([0x90, 0x98, 0x9d, 0x9e, 0x9f]);
/** The second byte of their 7-bit forms: P, X, ], ^, _. */
const STRING7 = new Set([0x50, 0x58, 0x5d, 0x5e, 0x5f]);

export interface SanitizeOptions {
  /** Keep carriage returns: a PTY line's rewrites are resolved after escapes are gone. */
  keepCr?: boolean;
}

/** `text` without escape sequences and control characters (tab kept). Linear in its length. */
export function sanitize(text: string, options: SanitizeOptions = {}): string {
  if (!(options.keepCr ? HAS_CONTROL_BUT_CR : HAS_CONTROL).test(text)) return text;
  let out = '';
  let run = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (!isControl(c) || c === 0x09 || (c === 0x0d && options.keepCr)) {
      i++;
      continue;
    }
    out += text.slice(run, i);
    if (c === ESC) i = skipEscape(text, i);
    else if (c === CSI8) i = skipCsi(text, i + 1);
    else if (STRING8.has(c)) i = skipString(text, i + 1);
    else i++;
    run = i;
  }
  return out + text.slice(run);
}

function isControl(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/** Past the ESC sequence starting at `i` (a lone ESC is just itself). */
function skipEscape(text: string, i: number): number {
  const next = text.charCodeAt(i + 1); // NaN at the end: no match below
  if (next === 0x5b) return skipCsi(text, i + 2);
  if (STRING7.has(next)) return skipString(text, i + 2);
  let j = i + 1;
  // nF sequences (ESC ( B, ESC # 8 …): intermediates, then one final byte.
  while (j < text.length && text.charCodeAt(j) >= 0x20 && text.charCodeAt(j) <= 0x2f) j++;
  const f = text.charCodeAt(j);
  if (f >= 0x30 && f <= 0x7e) return j + 1; // ESC c (reset), ESC 7, ESC = …
  return j;
}

/** Past a CSI's parameter and intermediate bytes and its final byte; an aborted one ends where it broke. */
function skipCsi(text: string, i: number): number {
  let j = i;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c >= 0x20 && c <= 0x3f) j++;
    else if (c >= 0x40 && c <= 0x7e) return j + 1;
    else return j;
  }
  return j;
}

/**
 * Past a control string (OSC, DCS, SOS, PM, APC) and its terminator (BEL, ST, ESC \).
 * One never terminated runs to the end of the text: its payload is the terminal's, not the reader's.
 */
function skipString(text: string, i: number): number {
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === BEL || c === ST8) return j + 1;
    if (c === ESC) return text.charCodeAt(j + 1) === 0x5c ? j + 2 : j;
  }
  return text.length;
}

/**
 * A value set inside a formatted line (`[session] … cwd=<value>`): line breaks and
 * tabs become visible `\n`, `\r`, `\t`, so one formatted line is one stored line,
 * then the rest is sanitised.
 */
export function inlineField(value: string): string {
  const escaped = /[\n\r\t]/.test(value) ? value.replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t') : value;
  return sanitize(escaped);
}

/** Appended to each piece of a line cut for length, except the last. */
export const CUT_MARK = ' [agentvisor: line cut, continues]';

/**
 * One line of agent text as stored lines: sanitised, split at any line break it
 * still holds (so memory and disk count the same lines), and cut into pieces
 * of at most `maxChars`, each piece but the last ending with CUT_MARK.
 */
export function storedLines(line: string, maxChars: number): string[] {
  if (line.length <= maxChars && !HAS_CONTROL.test(line)) return [line]; // nearly every line
  const parts = line.includes('\n') ? line.split('\n') : [line];
  const out: string[] = [];
  for (const part of parts) {
    const clean = sanitize(part);
    out.push(clean.length <= maxChars ? clean : cutLong(clean, maxChars, (piece) => out.push(piece + CUT_MARK)));
  }
  return out;
}

/**
 * Cuts pieces off the front of `text` while it is longer than `maxChars`, leaving room in
 * each for CUT_MARK, which the caller adds; returns the rest (at most `maxChars`). A cut never
 * splits a surrogate pair: half a character would be U+FFFD on disk and itself in memory.
 */
export function cutLong(text: string, maxChars: number, onPiece: (piece: string) => void): string {
  const step = Math.max(1, maxChars - CUT_MARK.length);
  let i = 0;
  while (text.length - i > maxChars) {
    let end = i + step;
    const c = text.charCodeAt(end - 1);
    if (c >= 0xd800 && c <= 0xdbff && end - 1 > i) end--;
    onPiece(text.slice(i, end));
    i = end;
  }
  return i === 0 ? text : text.slice(i);
}

/** Text for a terminal: each line sanitised, line breaks kept. */
export function terminalText(text: string): string {
  if (!HAS_CONTROL_BUT_LF.test(text)) return text;
  return text
    .split('\n')
    .map((l) => sanitize(l))
    .join('\n');
}

// What JSON.stringify leaves raw that a terminal still obeys: DEL and the C1 controls (8-bit CSI, OSC…).
const JSON_RAW_CONTROL = /[\x7f-\x9f]/g;

/** JSON for a terminal: lossless (controls stay as \u escapes, still valid JSON), none written raw. */
export function terminalJson(value: unknown, indent?: number): string {
  return (JSON.stringify(value, null, indent) ?? 'null').replace(JSON_RAW_CONTROL, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}
