/**
 * The wire format of the supervisor ⇄ worker socket, without the contract:
 * newline-delimited JSON frames. protocol.ts re-exports all of it.
 */

export const PROTOCOL_VERSION = 1;

/** A frame larger than this is a bug or an attack; the connection is dropped. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

export function encodeFrame(frame: unknown): string {
  return JSON.stringify(frame) + '\n';
}

/**
 * Splits a byte stream into frames at '\n', across chunk boundaries. JSON.stringify
 * never emits a raw newline, so '\n' is an unambiguous delimiter. Each chunk is
 * scanned once: a frame split over many chunks is joined once, when its end arrives.
 */
export class FrameReader {
  private parts: string[] = [];
  private partsLength = 0;

  constructor(
    private readonly onFrame: (raw: unknown) => void,
    private readonly onTooLarge: () => void,
  ) {}

  push(chunk: string): void {
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf('\n', start)) !== -1) {
      let text = chunk.slice(start, nl);
      if (this.parts.length > 0) {
        this.parts.push(text);
        text = this.parts.join('');
        this.parts = [];
        this.partsLength = 0;
      }
      start = nl + 1;
      if (text.length === 0) continue;
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        raw = undefined; // reported to the handler as an unparseable frame
      }
      this.onFrame(raw);
    }
    if (start < chunk.length) {
      const rest = start === 0 ? chunk : chunk.slice(start);
      this.parts.push(rest);
      this.partsLength += rest.length;
    }
    if (this.partsLength > MAX_FRAME_BYTES) {
      this.parts = [];
      this.partsLength = 0;
      this.onTooLarge();
    }
  }
}
