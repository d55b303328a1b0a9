/** `talkbox version`: what to quote in a bug report. */
import { packageVersion } from "../core/version";

export function versionText(): string {
  return `talkbox ${packageVersion()} (node ${process.version}, ${process.platform}/${process.arch})`;
}
