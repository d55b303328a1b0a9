/**
 * What must survive a restart (conversation ids, the volume), as a port: the file-backed
 * store is src/state/store.ts; backends and tools see only this.
 */
export type StateValue = string | number | boolean | null;

export interface StateStore {
  get(key: string): StateValue | undefined;
  set(key: string, value: StateValue | undefined): void;
  /** Every key held. */
  keys(): string[];
}
