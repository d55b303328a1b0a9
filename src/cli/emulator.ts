/** `talkbox emulator`: runs the built-in agent emulator (Coze /v1/chat and Realtime /v1/realtime) until SIGINT/SIGTERM. */
import type { Logger } from "../log/logger";
import { backends } from "../agent/registry";

export async function emulatorCommand(opts: { port: number; host?: string; token?: string; log: Logger }): Promise<void> {
  // Loaded only for this command: the daemon itself never carries the emulator.
  const { startEmulator } = await import("../emulator/server.js");
  const emulator = await startEmulator({ port: opts.port, host: opts.host, token: opts.token, log: opts.log, backends: backends() });
  opts.log.info(
    { url: emulator.url, realtimeUrl: emulator.realtimeUrl, auth: opts.token ? "Bearer token required" : "none" },
    `emulator listening: Coze on ${emulator.url}, Realtime on ${emulator.realtimeUrl}; point a daemon at one with agent.url ` +
      `(with agent.backend: realtime for the second; any agent.coze.bot_id works${opts.token ? "; agent.token must match the emulator's token" : ""})`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      opts.log.info({ signal }, "emulator: shutting down");
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await emulator.close();
}
