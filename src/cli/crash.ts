/**
 * The CLI's last word on an error nobody handled: a message on stderr, or the daemon's log
 * once it has one — with every known secret scrubbed, since a token can hide in any
 * error text (a URL, a server's echo of our request, a path).
 */
import { scrubber, type Logger } from "../log/logger";

export class CrashGuard {
  private readonly secrets = new Set<string>();
  private scrubLine: (line: string) => string = (line) => line;
  private log: Logger | null = null;

  addSecrets(secrets: ReadonlyArray<string | undefined>): void {
    for (const s of secrets) if (s) this.secrets.add(s);
    this.scrubLine = scrubber([...this.secrets]);
  }

  /** Crashes are logged from now on; the logger must scrub the same secrets. */
  useLogger(log: Logger): void {
    this.log = log;
  }

  scrub(text: string): string {
    return this.scrubLine(text);
  }

  /** Replaces Node's default report (which prints the raw error) for exceptions and rejections. */
  install(): void {
    process.on("uncaughtException", (err) => {
      if (this.log) {
        this.log.fatal({ err }, "talkbox crashed; systemd will restart it");
        this.log.flush();
      } else {
        process.stderr.write(this.scrub(`talkbox crashed: ${err.stack ?? String(err)}\n`));
      }
      process.exit(1);
    });
    process.on("unhandledRejection", (reason) => {
      if (this.log) this.log.error({ err: reason }, "unhandled promise rejection");
      else process.stderr.write(this.scrub(`talkbox: unhandled promise rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}\n`));
    });
  }
}
