/**
 * The `data` of each Coze server event, as far as talkbox reads it: the type and
 * size of every field the translator and the session setup use. decodeEvent checks
 * every event against its entry before anything reads it; an event type not listed
 * here carries nothing talkbox reads.
 */
import { z } from "zod";
import { base64, code, fields, id, text } from "../wire/fields";
import { S } from "./names";

const nothing = fields({});

const toolCall = fields({
  id: id().optional(),
  function: fields({
    name: id().optional(),
    // JSON text by the documentation; some servers send the object itself. Not bounded here: the
    // tool runner answers arguments too long or too deep with an error, which the agent must hear.
    arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  }).optional(),
});

const audioSettings = fields({
  codec: z.string().max(16).optional(),
  sample_rate: z.number().optional(),
});

export const SERVER_EVENT_DATA: Record<string, z.ZodType> = {
  [S.chatCreated]: nothing,
  [S.chatUpdated]: fields({
    input_audio: audioSettings.optional(),
    output_audio: fields({
      codec: z.string().max(16).optional(),
      pcm_config: fields({ sample_rate: z.number().optional() }).optional(),
      opus_config: fields({ sample_rate: z.number().optional() }).optional(),
    }).optional(),
  }),
  [S.bufferCompleted]: nothing,
  [S.bufferCleared]: nothing,
  [S.speechStarted]: nothing,
  [S.speechStopped]: nothing,
  [S.transcriptUpdate]: fields({ content: text() }),
  [S.transcriptCompleted]: fields({ content: text() }),
  [S.chatCreatedConv]: fields({ id: id(), conversation_id: id().optional() }),
  [S.chatInProgress]: nothing,
  [S.chatCompleted]: fields({ id: id().optional() }),
  [S.chatFailed]: fields({ id: id().optional(), last_error: fields({ code: code().optional(), msg: text().optional() }).optional() }),
  [S.chatRequiresAction]: fields({
    id: id().optional(),
    required_action: fields({ submit_tool_outputs: fields({ tool_calls: z.array(toolCall).max(64) }) }),
  }),
  [S.chatCanceled]: nothing,
  [S.messageDelta]: fields({ type: id().optional(), content_type: id().optional(), content: text().optional(), chat_id: id().optional() }),
  [S.messageCompleted]: fields({ type: id().optional(), content_type: id().optional(), content: text().optional(), chat_id: id().optional() }),
  [S.sentenceStart]: nothing,
  [S.audioDelta]: fields({ content: base64(), chat_id: id().optional() }),
  [S.audioCompleted]: nothing,
  [S.conversationCleared]: nothing,
  [S.error]: fields({ code: code().optional(), msg: text().optional() }),
};
