/**
 * Picks Codex's last answer out of its `exec` transcript. Codex prints a header
 * line per block ("user", "codex", "exec", "thinking", "tokens used"); the
 * agent's message is the text under the last "codex" header.
 */
const BLOCK_HEADERS = new Set(['user', 'codex', 'exec', 'thinking', 'tokens used', 'mcp', 'file update', 'apply_patch']);

export class CodexAnswerTracker {
  private capturing = false;
  private current: string[] = [];
  private last: string | null = null;

  /** Takes one transcript line; true when it was a block header (a block before it has ended). */
  line(text: string): boolean {
    const trimmed = text.trim();
    if (BLOCK_HEADERS.has(trimmed)) {
      this.close();
      this.capturing = trimmed === 'codex';
      return true;
    }
    if (this.capturing) this.current.push(text);
    return false;
  }

  get answer(): string | null {
    if (this.capturing && this.current.length) return this.current.join('\n').trim() || this.last;
    return this.last;
  }

  private close(): void {
    if (this.capturing && this.current.length) {
      const text = this.current.join('\n').trim();
      if (text) this.last = text;
    }
    this.capturing = false;
    this.current = [];
  }
}
