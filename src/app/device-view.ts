/**
 * The device's state, mode and link as its activity reports them: the status source of the
 * agent's device-status tool. It exists before the conversation (the agent's tools are
 * opened first) and follows it once it runs, so nothing holds a reference to a conversation
 * that is not built yet.
 */
import type { DeviceActivity } from "../core/activity";
import type { ConversationMode, DeviceState } from "../core/device-state";
import type { DeviceSnapshot } from "./tools/device-status";
import type { DeviceStatus } from "../device/conversation";

interface Followed {
  status(): DeviceStatus;
  on(event: "activity", listener: (a: DeviceActivity) => void): unknown;
}

export class DeviceView {
  private state: DeviceState | "starting" = "starting";
  private link: string = "connecting";

  constructor(private mode: ConversationMode) {}

  /** From now on, what the conversation reports; first, where it is. */
  follow(conversation: Followed): void {
    const s = conversation.status();
    this.state = s.State;
    this.mode = s.Mode;
    this.link = s.Link.state;
    conversation.on("activity", (a) => this.observe(a));
  }

  private observe(a: DeviceActivity): void {
    if (a.kind === "state") {
      this.state = a.state;
      this.mode = a.mode;
    } else if (a.kind === "link") {
      this.link = a.state;
    }
  }

  snapshot(): DeviceSnapshot {
    return { state: this.state, mode: this.mode, link: this.link };
  }
}
