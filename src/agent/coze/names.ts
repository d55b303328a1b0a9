/** The names of Coze's `/v1/chat` events, both directions. */

/** Client → server event names. */
export const C = {
  chatUpdate: "chat.update",
  append: "input_audio_buffer.append",
  complete: "input_audio_buffer.complete",
  clear: "input_audio_buffer.clear",
  cancel: "conversation.chat.cancel",
  messageCreate: "conversation.message.create",
  submitToolOutputs: "conversation.chat.submit_tool_outputs",
  conversationClear: "conversation.clear",
} as const;

/** Server → client event names. */
export const S = {
  chatCreated: "chat.created",
  chatUpdated: "chat.updated",
  bufferCompleted: "input_audio_buffer.completed",
  bufferCleared: "input_audio_buffer.cleared",
  speechStarted: "input_audio_buffer.speech_started",
  speechStopped: "input_audio_buffer.speech_stopped",
  transcriptUpdate: "conversation.audio_transcript.update",
  transcriptCompleted: "conversation.audio_transcript.completed",
  chatCreatedConv: "conversation.chat.created",
  chatInProgress: "conversation.chat.in_progress",
  chatCompleted: "conversation.chat.completed",
  chatFailed: "conversation.chat.failed",
  chatRequiresAction: "conversation.chat.requires_action",
  chatCanceled: "conversation.chat.canceled",
  messageDelta: "conversation.message.delta",
  messageCompleted: "conversation.message.completed",
  sentenceStart: "conversation.audio.sentence_start",
  audioDelta: "conversation.audio.delta",
  audioCompleted: "conversation.audio.completed",
  conversationCleared: "conversation.cleared",
  error: "error",
} as const;
