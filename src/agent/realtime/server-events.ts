/**
 * Each Realtime server event as far as talkbox reads it: the type and size of
 * every top-level field the translator, the session check and the error handling
 * use. decodeServerEvent checks every event against its entry before anything
 * reads it; an event type not listed here carries nothing talkbox reads.
 */
import { z } from "zod";
import { base64, code, fields, id, text } from "../wire/fields";
import { S } from "./names";

const nothing = fields({});
const args = () => z.string();

const functionCallItem = fields({ type: id().optional(), call_id: id().optional(), name: id().optional(), arguments: args().optional() });

const withResponse = (shape: z.core.$ZodLooseShape) => fields({ response_id: id().optional(), item_id: id().optional(), ...shape });

export const SERVER_EVENTS: Record<string, z.ZodType> = {
  [S.sessionCreated]: fields({ session: fields({ id: id().optional() }).optional() }),
  [S.sessionUpdated]: fields({
    session: fields({
      id: id().optional(),
      // Any JSON: the session check says what it cannot use.
      input_audio_format: z.unknown(),
      output_audio_format: z.unknown(),
      turn_detection: fields({ type: id().optional() }).nullable().optional(),
      tools: z.array(z.unknown()).max(1024).optional(),
    }),
  }),
  [S.bufferCommitted]: nothing,
  [S.bufferCleared]: nothing,
  [S.speechStarted]: nothing,
  [S.speechStopped]: nothing,
  [S.itemCreated]: nothing,
  [S.itemTruncated]: nothing,
  [S.transcriptionDelta]: fields({ delta: text() }),
  [S.transcriptionCompleted]: fields({ transcript: text() }),
  [S.transcriptionFailed]: fields({ error: fields({ message: text().optional() }).optional() }),
  [S.responseCreated]: fields({ response: fields({ id: id() }) }),
  [S.outputItemAdded]: nothing,
  [S.outputItemDone]: fields({ item: functionCallItem }),
  [S.contentPartAdded]: nothing,
  [S.contentPartDone]: nothing,
  [S.audioDelta]: withResponse({ delta: base64() }),
  [S.audioDone]: nothing,
  [S.audioTranscriptDelta]: withResponse({ delta: text() }),
  [S.audioTranscriptDone]: withResponse({ transcript: text() }),
  [S.textDelta]: withResponse({ delta: text() }),
  [S.textDone]: withResponse({ text: text() }),
  [S.functionArgumentsDelta]: nothing,
  [S.functionArgumentsDone]: withResponse({ call_id: id(), name: id(), arguments: args() }),
  [S.responseDone]: fields({
    response: fields({
      id: id().optional(),
      status: id().optional(),
      status_details: fields({
        reason: id().optional(),
        error: fields({ code: code().optional(), type: id().optional(), message: text().optional() }).nullable().optional(),
      })
        .nullable()
        .optional(),
      output: z.array(functionCallItem).max(1024).optional(),
    }),
  }),
  [S.rateLimits]: nothing,
  [S.error]: fields({
    error: fields({ type: id().optional(), code: code().nullable().optional(), message: text().optional(), param: id().nullable().optional(), event_id: id().nullable().optional() }).optional(),
  }),
};
