/**
 * The agent backends the device knows, by `agent.backend`. A protocol is added with one
 * line in BUILT_IN (or registerBackend, for one that lives outside src/, e.g. in a test).
 */
import type { BackendDescriptor } from "../descriptor";
import { cozeBackend } from "../coze/descriptor";
import { realtimeBackend } from "../realtime/descriptor";
import { voiceApiBackend } from "../voiceapi/descriptor";

/** The first is the default backend. */
export const BUILT_IN = [cozeBackend, realtimeBackend, voiceApiBackend] as const;

const registered: BackendDescriptor<any>[] = [...BUILT_IN];

/** Every backend, the default first. */
export function backends(): readonly BackendDescriptor<any>[] {
  return registered;
}

export function backendNamed(name: string): BackendDescriptor<any> | undefined {
  return registered.find((d) => d.name === name);
}

/** Adds a backend; configs read after this may choose it. */
export function registerBackend(descriptor: BackendDescriptor<any>): void {
  if (!/^[a-z][a-z0-9_]*$/.test(descriptor.name)) throw new Error(`a backend name is a lower-case config key; got ${JSON.stringify(descriptor.name)}`);
  if (backendNamed(descriptor.name)) throw new Error(`a backend named ${descriptor.name} is registered already`);
  registered.push(descriptor);
}
