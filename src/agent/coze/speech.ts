/**
 * Coze's speech synthesis WebSocket (`/v1/audio/speech`, on the host of `/v1/chat`, the same
 * token): the bot's voice for an announcement. One short connection per text:
 * speech.created → speech.update (PCM at the speaker's rate, the bot's voice_id) →
 * speech.updated → input_text_buffer.append + complete → speech.audio.update deltas →
 * speech.audio.completed. Every server event is checked (type and size of what is read).
 */
import WebSocket from "ws";
import { z } from "zod";
import { decodeEvent, decodeBase64, encodeEvent } from "./protocol";
import { AGENT_SOCKET } from "../link/ws-link";
import { checkFields, code, primeChecks, text as textField } from "../wire/fields";

export const SPEECH = {
  update: "speech.update",
  append: "input_text_buffer.append",
  complete: "input_text_buffer.complete",
  created: "speech.created",
  updated: "speech.updated",
  completed: "input_text_buffer.completed",
  audio: "speech.audio.update",
  audioDone: "speech.audio.completed",
  error: "error",
} as const;

/** The PCM rates Coze's output_audio takes. */
export const SPEECH_PCM_RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000];

export interface CozeSpeechOptions {
  /** The chat URL (`wss://ws.coze.cn/v1/chat`): the speech endpoint is on its host. */
  chatUrl: string;
  token: string;
  voiceId?: string;
  speechRate?: number;
  /** How long the connection and each step may take. */
  timeoutMs: number;
}

const SERVER_DATA: Record<string, z.ZodType> = {
  [SPEECH.audio]: z.looseObject({ delta: z.string() }),
  [SPEECH.error]: z.looseObject({ code: code().optional(), msg: textField().optional() }),
};

/** Compiles the speech events' checks now, not at the first announcement (primeChecks). */
export function primeSpeechChecks(): void {
  primeChecks(SERVER_DATA);
}

/** Speech frames are at most a few seconds of audio: 4 MiB is far beyond any. */
const MAX_FRAME = 4 * 1024 * 1024;

export function speechUrl(chatUrl: string): string {
  const u = new URL(chatUrl);
  u.pathname = "/v1/audio/speech";
  u.search = "";
  return u.toString();
}

/**
 * `text` in the bot's voice as mono S16_LE PCM at `rate`, chunk by chunk. Throws with what
 * went wrong (refused, an error event, a timeout, a malformed event); stops when `signal` aborts.
 */
export async function* synthesizeSpeech(o: CozeSpeechOptions, text: string, rate: number, signal: AbortSignal): AsyncGenerator<Buffer> {
  if (!SPEECH_PCM_RATES.includes(rate)) throw new Error(`Coze speech has no ${rate} Hz PCM`);
  const ws = new WebSocket(speechUrl(o.chatUrl), { ...AGENT_SOCKET, headers: { Authorization: `Bearer ${o.token}` }, handshakeTimeout: o.timeoutMs, maxPayload: MAX_FRAME });
  const queue: Buffer[] = [];
  let failure: Error | null = null;
  let finished = false;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    wake?.();
    wake = null;
  };
  const fail = (err: Error): void => {
    failure ??= err;
    poke();
  };
  let timer: NodeJS.Timeout | undefined;
  /** Every step (open, created, updated, each delta) must come within timeoutMs. */
  const arm = (what: string): void => {
    clearTimeout(timer);
    timer = setTimeout(() => fail(new Error(`Coze speech: no ${what} within ${o.timeoutMs} ms`)), o.timeoutMs);
  };
  const send = (type: string, data?: unknown): void => ws.send(encodeEvent(type, data));
  const abort = (): void => {
    finished = true;
    poke();
  };
  signal.addEventListener("abort", abort, { once: true });
  arm("connection");
  ws.on("error", (err) => fail(new Error(`Coze speech: ${err.message}`)));
  ws.on("unexpected-response", (_req, res) => fail(new Error(`Coze speech refused the connection: HTTP ${res.statusCode}${res.statusCode === 401 || res.statusCode === 403 ? " (check agent.token)" : ""}`)));
  ws.on("close", (code) => {
    if (!finished) fail(new Error(`Coze speech closed the connection (${code}) before the audio was complete`));
  });
  ws.on("message", (raw: Buffer, isBinary: boolean) => {
    const d = decodeEvent(raw, isBinary);
    if (!d.ok) return fail(new Error(`Coze speech sent a malformed event: ${d.reason}`));
    const ev = d.event;
    const schema = SERVER_DATA[ev.event_type];
    if (schema) {
      const check = checkFields(schema, ev.data ?? {}, "data");
      if (!check.ok) return fail(new Error(`Coze speech: ${ev.event_type}: ${check.reason}`));
    }
    switch (ev.event_type) {
      case SPEECH.created:
        arm("speech.updated");
        return send(SPEECH.update, {
          output_audio: {
            codec: "pcm",
            pcm_config: { sample_rate: rate },
            ...(o.speechRate !== undefined ? { speech_rate: o.speechRate } : {}),
            ...(o.voiceId ? { voice_id: o.voiceId } : {}),
          },
        });
      case SPEECH.updated:
        arm("audio");
        send(SPEECH.append, { delta: text });
        return send(SPEECH.complete);
      case SPEECH.audio: {
        const pcm = decodeBase64(ev.data?.delta);
        if (!pcm) return fail(new Error("Coze speech: speech.audio.update data.delta is not valid base64"));
        arm("audio");
        queue.push(pcm.length % 2 ? pcm.subarray(0, pcm.length - 1) : pcm);
        return poke();
      }
      case SPEECH.audioDone:
        clearTimeout(timer);
        finished = true;
        return poke();
      case SPEECH.error: {
        const data = ev.data as { code?: unknown; msg?: unknown } | undefined;
        return fail(new Error(`Coze speech: error ${String(data?.code ?? "")} ${String(data?.msg ?? "")}`.trim()));
      }
    }
  });
  try {
    for (;;) {
      while (queue.length > 0) {
        if (signal.aborted) return;
        yield queue.shift()!;
      }
      if (failure) throw failure;
      if (finished || signal.aborted) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", abort);
    finished = true;
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
    else ws.terminate();
  }
}
