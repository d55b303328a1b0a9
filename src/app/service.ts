/**
 * `talkbox run`: the daemon as a service. Loads the config, starts the daemon, tells systemd
 * what it is doing (READY=1, STATUS= per device state, STOPPING=1), stops on SIGINT/SIGTERM
 * and the quit key, and takes re-read credentials on SIGHUP (`systemctl reload talkbox`).
 * Resolves with the exit code once everything is closed.
 */
import { describeSource, loadConfig } from "../config/load";
import type { StateChange } from "../device/state-machine";
import { addLogSecrets, createLogger } from "../log/logger";
import { SystemdService } from "../system/systemd";
import { EXIT_OK } from "../cli/exit-codes";
import { startDaemon } from "./daemon";

/** The CLI's crash guard: it learns the secrets to scrub and the log to report crashes in. */
export interface SecretGuard {
  addSecrets(secrets: ReadonlyArray<string | undefined>): void;
  useLogger(log: ReturnType<typeof createLogger>): void;
}

export async function runService(configPath: string | undefined, guard: SecretGuard): Promise<number> {
  const loaded = loadConfig(configPath ? { path: configPath } : {});
  guard.addSecrets(loaded.secrets);
  const log = createLogger({ level: loaded.config.log.level, format: loaded.config.log.format, secrets: loaded.secrets });
  guard.useLogger(log);
  for (const warning of loaded.warnings) log.warn(warning);
  const tokenSource = loaded.secretSources["agent.token"];
  if (tokenSource) log.info(`agent.token from ${describeSource(tokenSource)}`);
  const systemd = SystemdService.start({ log });

  let stopping = false;
  let resolveDone: (code: number) => void = () => {};
  const done = new Promise<number>((r) => (resolveDone = r));
  const shutdown = (why: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping (${why})`);
    systemd.stopping();
    // A quit key pressed while the daemon still starts stops it once it has started (a failed start throws from runService).
    void starting.then((d) => d.stop(), () => {}).then(() => {
      systemd.close();
      resolveDone(EXIT_OK);
    });
  };
  const starting = startDaemon({ loaded, log, onQuit: () => shutdown("quit key") });
  const daemon = await starting;
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  // systemctl reload talkbox: a fixed token (config file, credential, environment) without a restart.
  process.on("SIGHUP", () => {
    try {
      const next = loadConfig(configPath ? { path: configPath } : {});
      guard.addSecrets(next.secrets);
      addLogSecrets(log, next.secrets);
      daemon.reload(next);
    } catch (err) {
      // A config broken while the daemon runs: keep running on the old one, and say what is wrong.
      log.error(`reload: the config was not taken, talkbox keeps running on the previous one: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  // systemd's view of the service: STATUS= per device state; started means serving (the audio is open, the control socket listens).
  daemon.conversation.on("state", (c: StateChange) => systemd.status(c.to));
  systemd.ready(daemon.conversation.state);
  return done;
}
