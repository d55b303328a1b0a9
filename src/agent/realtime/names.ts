/** The names of the OpenAI-Realtime-compatible events (OpenAI's beta names, which the Volcengine gateway follows), both directions. */

/** Client → server event names. */
export const C = {
  sessionUpdate: "session.update",
  append: "input_audio_buffer.append",
  commit: "input_audio_buffer.commit",
  clear: "input_audio_buffer.clear",
  itemCreate: "conversation.item.create",
  itemTruncate: "conversation.item.truncate",
  responseCreate: "response.create",
  responseCancel: "response.cancel",
} as const;

/** Server → client event names. */
export const S = {
  sessionCreated: "session.created",
  sessionUpdated: "session.updated",
  bufferCommitted: "input_audio_buffer.committed",
  bufferCleared: "input_audio_buffer.cleared",
  speechStarted: "input_audio_buffer.speech_started",
  speechStopped: "input_audio_buffer.speech_stopped",
  itemCreated: "conversation.item.created",
  itemTruncated: "conversation.item.truncated",
  transcriptionDelta: "conversation.item.input_audio_transcription.delta",
  transcriptionCompleted: "conversation.item.input_audio_transcription.completed",
  transcriptionFailed: "conversation.item.input_audio_transcription.failed",
  responseCreated: "response.created",
  outputItemAdded: "response.output_item.added",
  outputItemDone: "response.output_item.done",
  contentPartAdded: "response.content_part.added",
  contentPartDone: "response.content_part.done",
  audioDelta: "response.audio.delta",
  audioDone: "response.audio.done",
  audioTranscriptDelta: "response.audio_transcript.delta",
  audioTranscriptDone: "response.audio_transcript.done",
  textDelta: "response.text.delta",
  textDone: "response.text.done",
  functionArgumentsDelta: "response.function_call_arguments.delta",
  functionArgumentsDone: "response.function_call_arguments.done",
  responseDone: "response.done",
  rateLimits: "rate_limits.updated",
  error: "error",
} as const;
