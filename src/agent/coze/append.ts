/**
 * `input_audio_buffer.append`, the one event sent 50 times a second, written directly:
 * the same JSON `encodeEvent` makes (a UUID and base64 need no escaping), without
 * building and stringifying an object per frame. As bytes (all ASCII), sent as a text
 * message: ws then masks it into one buffer with the frame header, one socket write
 * instead of two.
 */
import { randomUUID } from "node:crypto";
import { C } from "./protocol";

const HEAD = `","event_type":"${C.append}","data":{"delta":"`;

export function encodeAppend(payload: Buffer, id: string = randomUUID()): Buffer {
  return Buffer.from(`{"id":"${id}${HEAD}${payload.toString("base64")}"}}`, "latin1");
}
