import type { Logger } from "../../log/logger";

/**
 * Warns about bad input from a serial device a few times per connection, then
 * only at debug level: a device at the wrong baud rate sends nothing but
 * garbage, and one line about it is useful where a thousand are not.
 */
export class BadLineLog {
  private count = 0;

  constructor(
    private readonly log: Logger,
    private readonly prefix: string,
    private readonly hint: string,
    private readonly limit = 5,
  ) {}

  /** Starts counting again (a new connection). */
  reset(): void {
    this.count = 0;
  }

  report(problem: string, line?: string): void {
    this.count++;
    const shown = line === undefined ? "" : `: ${quote(line)}`;
    const text = `${this.prefix}: ${problem}${shown}; ignored`;
    if (this.count < this.limit) this.log.warn(`${text} (${this.hint})`);
    else if (this.count === this.limit) this.log.warn(`${text} (${this.hint}); further bad lines are logged at debug level`);
    else this.log.debug(text);
  }
}

/** A line as it can be shown in a log: bounded, control characters escaped. */
export function quote(line: string, max = 60): string {
  const cut = line.length > max ? `${line.slice(0, max)}…` : line;
  return JSON.stringify(cut);
}
