/**
 * The daemon's side of a systemd Type=notify service: READY=1 once it serves, a STATUS= line
 * per device state, STOPPING=1 at shutdown, and watchdog pets. Outside systemd it all does nothing.
 */
import type { Clock } from "../core/clock";
import type { Logger } from "../log/logger";
import { openNotifier, type Notifier } from "./notify";
import { Watchdog, watchdogSetting } from "./watchdog";

export interface SystemdOptions {
  /** Read, then stripped of systemd's variables so that child processes do not inherit them. */
  env?: NodeJS.ProcessEnv;
  log: Logger;
  clock?: Clock;
  pid?: number;
}

export class SystemdService {
  private constructor(
    private readonly notifier: Notifier,
    private readonly watchdog: Watchdog | null,
  ) {}

  /** Opens $NOTIFY_SOCKET and starts petting the watchdog when systemd asked for one. */
  static start(opts: SystemdOptions): SystemdService {
    const env = opts.env ?? process.env;
    const socket = env.NOTIFY_SOCKET;
    const setting = watchdogSetting(env, opts.pid);
    // sd_notify(3)'s unset_environment: a child (aplay, a worker) must not speak for the service.
    delete env.NOTIFY_SOCKET;
    delete env.WATCHDOG_USEC;
    delete env.WATCHDOG_PID;

    const notifier = openNotifier(socket, opts.log);
    if ("problem" in setting && setting.problem) opts.log.warn(setting.problem);
    let watchdog: Watchdog | null = null;
    if (notifier.enabled && setting.intervalMs !== null) {
      watchdog = new Watchdog(setting.intervalMs, () => notifier.notify({ WATCHDOG: "1" }), opts.clock);
      watchdog.start();
      opts.log.info({ intervalMs: setting.intervalMs }, "systemd watchdog on");
    } else if (setting.intervalMs !== null) {
      opts.log.warn("WATCHDOG_USEC is set but NOTIFY_SOCKET is not usable; systemd will see no watchdog pets");
    }
    return new SystemdService(notifier, watchdog);
  }

  get enabled(): boolean {
    return this.notifier.enabled;
  }

  /** The daemon serves: audio open, control socket listening. */
  ready(status: string): void {
    this.notifier.notify({ READY: "1", STATUS: status });
  }

  /** A one-line description `systemctl status talkbox` shows. */
  status(status: string): void {
    this.notifier.notify({ STATUS: status });
  }

  stopping(): void {
    this.notifier.notify({ STOPPING: "1", STATUS: "stopping" });
  }

  close(): void {
    this.watchdog?.stop();
    this.notifier.close();
  }
}
