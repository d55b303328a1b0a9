/**
 * Control-socket framing (seed 004): 4 bytes ASCII `ctrl`, a 4-byte big-endian
 * unsigned body length, then that many bytes of UTF-8 JSON. Used in both
 * directions: requests to the daemon and its replies.
 */
import { isUtf8 } from "node:buffer";

export const MAGIC = Buffer.from("ctrl", "ascii");
export const HEADER_BYTES = 8;
/** Commands and replies are small; anything bigger is a confused or hostile peer. */
export const MAX_FRAME_BYTES = 64 * 1024;

export type DecodeResult = { ok: true; value: unknown } | { ok: false; error: string; fatal: boolean };

export function encodeFrame(value: unknown): Buffer {
  const json = JSON.stringify(value);
  // JSON.stringify returns undefined for undefined, functions and symbols.
  if (json === undefined) throw new TypeError(`cannot encode ${typeof value} as a control frame; pass a JSON value`);
  const body = Buffer.from(json, "utf8");
  if (body.length > MAX_FRAME_BYTES) {
    throw new RangeError(`control frame body is ${body.length} bytes; the limit is ${MAX_FRAME_BYTES}`);
  }
  const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  MAGIC.copy(frame, 0);
  frame.writeUInt32BE(body.length, 4);
  body.copy(frame, HEADER_BYTES);
  return frame;
}

/**
 * Streaming decoder: feed it socket chunks as they arrive. Bytes are copied into
 * a fixed header buffer and a body buffer sized from the header, so memory stays
 * within MAX_FRAME_BYTES + 8 and a frame trickling in one byte at a time costs
 * linear, not quadratic, copying.
 *
 * A bad body (JSON, UTF-8) is a non-fatal error: the length told us where the next
 * frame starts. A bad header is fatal: there is no way to find the next frame, so
 * the decoder discards everything after it.
 */
export class FrameDecoder {
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerFill = 0;
  private body: Buffer | null = null;
  private bodyFill = 0;
  private failed = false;

  /** Bytes held of a frame not yet complete (non-zero at connection end means a truncated frame). */
  get pending(): number {
    return this.headerFill + this.bodyFill;
  }

  push(chunk: Buffer): DecodeResult[] {
    const results: DecodeResult[] = [];
    let offset = this.wholeFrames(chunk, results);
    while (!this.failed && offset < chunk.length) {
      if (this.body === null) {
        const take = Math.min(HEADER_BYTES - this.headerFill, chunk.length - offset);
        chunk.copy(this.header, this.headerFill, offset, offset + take);
        this.headerFill += take;
        offset += take;
        // Checked as soon as any magic byte arrives, so a peer speaking another
        // protocol (e.g. a line of text shorter than a header) gets an answer.
        const magicError = this.checkMagic();
        if (magicError) {
          results.push(this.fail(magicError));
          break;
        }
        if (this.headerFill < HEADER_BYTES) break;
        const length = this.header.readUInt32BE(4);
        if (length > MAX_FRAME_BYTES) {
          results.push(this.fail(`frame length ${length} exceeds the ${MAX_FRAME_BYTES}-byte limit`));
          break;
        }
        this.body = Buffer.allocUnsafe(length);
        this.bodyFill = 0;
      } else {
        const take = Math.min(this.body.length - this.bodyFill, chunk.length - offset);
        chunk.copy(this.body, this.bodyFill, offset, offset + take);
        this.bodyFill += take;
        offset += take;
      }
      if (this.body !== null && this.bodyFill === this.body.length) {
        results.push(decodeBody(this.body));
        this.body = null;
        this.bodyFill = 0;
        this.headerFill = 0;
      }
    }
    return results;
  }

  /**
   * The usual read (a button's press, a command): whole frames and nothing pending. They are
   * decoded where they lie, without the header and body copies: a press's frame is on the
   * barge-in's way, where every step runs cold after the event loop slept (tens of µs each
   * on a small board). Returns where the first frame that is not whole (or not valid) starts;
   * the general path takes it from there.
   */
  private wholeFrames(chunk: Buffer, results: DecodeResult[]): number {
    let offset = 0;
    while (!this.failed && this.headerFill === 0 && chunk.length - offset >= HEADER_BYTES) {
      if (chunk[offset] !== MAGIC[0] || chunk[offset + 1] !== MAGIC[1] || chunk[offset + 2] !== MAGIC[2] || chunk[offset + 3] !== MAGIC[3]) break;
      const length = chunk.readUInt32BE(offset + 4);
      const end = offset + HEADER_BYTES + length;
      if (length > MAX_FRAME_BYTES || end > chunk.length) break;
      results.push(decodeBody(chunk.subarray(offset + HEADER_BYTES, end)));
      offset = end;
    }
    return offset;
  }

  private checkMagic(): string | null {
    const n = Math.min(this.headerFill, MAGIC.length);
    if (this.header.compare(MAGIC, 0, n, 0, n) === 0) return null;
    return `bad frame magic 0x${this.header.subarray(0, n).toString("hex")}; expected "ctrl" (0x${MAGIC.toString("hex")}) followed by a 4-byte big-endian length`;
  }

  private fail(error: string): DecodeResult {
    this.failed = true;
    this.body = null;
    this.bodyFill = 0;
    this.headerFill = 0;
    return { ok: false, error, fatal: true };
  }
}

function decodeBody(body: Buffer): DecodeResult {
  if (body.length === 0) return { ok: false, error: "frame body is empty; expected a JSON object", fatal: false };
  if (!isUtf8(body)) return { ok: false, error: "frame body is not valid UTF-8", fatal: false };
  try {
    return { ok: true, value: JSON.parse(body.toString("utf8")) };
  } catch (err) {
    return { ok: false, error: `frame body is not valid JSON: ${(err as Error).message}`, fatal: false };
  }
}
