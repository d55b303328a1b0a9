/**
 * What was opened, closed in reverse: the daemon and the hardware push a disposer as each
 * part comes up, and shutdown (or a failed start) runs them last-first. One that fails is
 * reported and the rest still run: a speaker that will not close must not keep the
 * control socket's file behind.
 */
export type Disposer = () => void | Promise<void>;

export class DisposerStack {
  private readonly stack: Disposer[] = [];
  private running: Promise<void> | null = null;

  constructor(private readonly onError: (err: Error) => void) {}

  push(dispose: Disposer): void {
    this.stack.push(dispose);
  }

  /** Runs every disposer once, last pushed first; later calls wait for the same run. */
  disposeAll(): Promise<void> {
    return (this.running ??= this.run());
  }

  private async run(): Promise<void> {
    while (this.stack.length > 0) {
      const dispose = this.stack.pop()!;
      try {
        await dispose();
      } catch (err) {
        this.onError(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }
}
