/**
 * The device's agent profiles as the app uses them: `agent:` is `default`, then each of
 * `agents:` in the config's order. Only names, what people see, and the effective section.
 */
import type { BackendDescriptor } from "../../agent/descriptor";
import { backendNamed } from "../../agent/registry";
import { DEFAULT_PROFILE } from "../../config/agent-profiles";
import type { AgentConfig, Config } from "../../config/schema";
import type { Rgb } from "../../hardware/leds/patterns";

export interface AgentProfile {
  /** The config's name (`default` for `agent:`). */
  name: string;
  /** For people: display_name, else the name. */
  title: string;
  /** Said when the profile takes over; none: nothing is said. */
  intro?: string;
  /** The colour of the LEDs while this agent speaks or announces. */
  color?: Rgb;
  /** The effective agent section (inherited keys filled in; a reload replaces the credentials). */
  agent: AgentConfig;
  descriptor: BackendDescriptor<unknown>;
}

export function profilesOf(config: Config): AgentProfile[] {
  const all: Array<[string, AgentConfig]> = [[DEFAULT_PROFILE, config.agent], ...Object.entries(config.agents)];
  return all.map(([name, agent]) => {
    const descriptor = backendNamed(agent.backend);
    // The config schema only takes registered names: this is a programming error.
    if (!descriptor) throw new Error(`no backend named ${agent.backend} is registered`);
    return {
      name,
      title: agent.display_name ?? name,
      ...(agent.intro !== undefined ? { intro: agent.intro } : {}),
      ...(agent.led_color !== undefined ? { color: agent.led_color } : {}),
      agent,
      descriptor,
    };
  });
}

/**
 * Where a profile's conversation books are kept: the default's under the backend's own scope
 * (as before there were profiles, so an upgrade continues them), the others' under `<name>/`.
 */
export function bookScope(profile: string, scope: string): string {
  return profile === DEFAULT_PROFILE ? scope : `${profile}/${scope}`;
}

/** Whether a saved book's scope is `profile`'s. */
export function ownsScope(profile: string): (scope: string) => boolean {
  return profile === DEFAULT_PROFILE ? (scope) => !scope.includes("/") : (scope) => scope.startsWith(`${profile}/`);
}
