/**
 * Every frame kind and field name of the voice API (seed 002), in one place. The seed names
 * some exactly (its JSON examples); the rest come from a JSON schema the seed mentions but
 * does not include, so they are this table's reading of the seed's descriptions. When the
 * schema is at hand, this is the one file to correct. Each entry: the name, whether the seed
 * shows it literally, and the seed sentence it comes from.
 */

export interface Named {
  readonly name: string;
  /** The seed shows this name literally (in a JSON example). */
  readonly confirmed: boolean;
  readonly seed: string;
}

const n = (name: string, confirmed: boolean, seed: string): Named => ({ name, confirmed, seed });

/** Frame kinds (the `kind` field of every v2 frame). */
export const KIND = {
  // Client → server.
  open: n("open", true, '1 objeto marco abierto en 1 mensaje de texto WS: {"kind": "open", "api_key": "..."}'),
  close: n("close", false, "Cerrar marco de solicitud. Pedir al endpoint que cierre el streaming con elegancia."),
  sessionStart: n("user_session_start", false, "Trama de solicitud de inicio de sesión de usuario"),
  sessionAudio: n("user_session_audio", false, "Trama de solicitud de audio de la sesión de usuario"),
  sessionText: n("user_session_text", false, "Marco de solicitud de texto de sesión de usuario"),
  sessionContext: n("user_session_update_context", false, "Marco de solicitud de contexto de actualización de sesión de usuario"),
  sessionEnd: n("user_session_end", false, "Trama de solicitud de fin de sesión de usuario"),
  // Server → client.
  opened: n("opened", true, '3 marcos de respuesta en 1 mensaje de texto WS: [{"kind": "opened"}, {"kind": "error", ...}, {"kind": "closed"}]'),
  error: n("error", true, '{"kind": "error", "message": "some error description"}'),
  closed: n("closed", true, '[{"kind": "opened"}, {"kind": "error", "message": "..."}, {"kind": "closed"}]'),
  sessionStarted: n("user_session_started", false, "Confirma que la sesión de usuario se ha iniciado correctamente."),
  sessionEnded: n("user_session_ended", false, "Trama de respuesta de sesión de usuario finalizada"),
  botAudio: n("bot_session_audio", false, "Fotograma de respuesta de audio de la sesión de bot"),
  botAttachment: n("bot_session_attachment", false, "Marco de respuesta de adjunto de sesión de bot"),
} as const;

/** Field names. */
export const FIELD = {
  kind: n("kind", true, "cada marco tiene un campo de tipo para especificar la estructura adecuada de todo el marco"),
  apiKey: n("api_key", true, '{"kind": "open", "api_key": "..."}'),
  message: n("message", true, '{"kind": "error", "message": "some error description"}'),
  userId: n("user_id", false, "debe ... proporcionar el user_id adecuado en cada marco de sesión de usuario"),
  overrides: n("overrides", false, "También puede proporcionar información adicional ... (por ejemplo, anular la configuración de STT / bot de texto / TTS, véase la estructura de anulación más abajo)"),
  context: n("context", false, "puede enviar información contextual sobre el usuario. Ver contexto."),
  audio: n("audio", false, "Los datos de audio deben codificarse en formato de cadena lineal 16 base64."),
  text: n("text", false, "Este texto será reenviado al bot directamente, saltándose el sistema STT."),
  attachment: n("attachment", false, "El mensaje adjunto de un bot (ver adjunto para más información)."),
  triggerBot: n("trigger_bot", false, "desencadenar el escenario bot antes de que el usuario hable (la respuesta bot será la primera)"),
} as const;

/** Keys of the overrides object (the STT / TTS settings the seed says can be overridden). */
export const OVERRIDE = {
  stt: n("stt", false, "anular la configuración de la frecuencia de muestreo para STT y TTS en el marco abierto de conexión"),
  tts: n("tts", false, "anular la configuración de la frecuencia de muestreo para STT y TTS en el marco abierto de conexión"),
  sampleRate: n("sample_rate", false, "con valores de frecuencia de muestreo específicos para STT y TTS"),
  voice: n("voice", false, "anular el nombre de voz para TTS"),
} as const;

/** The endpoints (seed 002, literally). */
export const PATHS = {
  v1: "/api/voice/v1/user-stt-bot-tts/stream",
  v2: "/api/voice/v2/user-stt-bot-tts/stream",
  ping: "/api/voice/v1/user-stt-bot-tts/ping",
} as const;
