/** The daemon's CLI with the loopback backend registered: the one line a new protocol adds. */
import { registerBackend } from "../../src/agent/registry";
import { loopbackBackend } from "./loopback";

registerBackend(loopbackBackend);
require("../../src/cli");
