/**
 * A device tool as the agent sees it: declared once here, exposed by every backend
 * (Realtime `session.update.tools`, Coze client-side functions).
 */
export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

/** Runs a tool call; always resolves with the JSON text to send back (an error is `{"error": …}`). */
export interface ToolExecutor {
  run(name: string, argumentsText: string): Promise<string>;
}
