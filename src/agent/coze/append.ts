/**
 * `input_audio_buffer.append`, the one event sent 50 times a second, written as text
 * directly: the same JSON `encodeEvent` makes (a UUID and base64 need no escaping),
 * without building and stringifying an object per frame.
 */
import { randomUUID } from "node:crypto";
import { C } from "./protocol";

const HEAD = `","event_type":"${C.append}","data":{"delta":"`;

export function encodeAppend(payload: Buffer, id: string = randomUUID()): string {
  return `{"id":"${id}${HEAD}${payload.toString("base64")}"}}`;
}
