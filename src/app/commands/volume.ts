/** `Volume`: without Percent or Delta, the current volume; with one, sets or changes it. */
import { z } from "zod";
import { defineCommand } from "./command";

export const volumeCommand = defineCommand({
  schema: z
    .object({
      Command: z.literal("Volume"),
      Percent: z.int({ error: "Percent must be a whole number from 0 to 100" }).min(0, { error: "Percent must be at least 0" }).max(100, { error: "Percent must be at most 100" }).optional(),
      Delta: z.int({ error: "Delta must be a whole number from -100 to 100" }).min(-100, { error: "Delta must be at least -100" }).max(100, { error: "Delta must be at most 100" }).optional(),
    })
    .refine((c) => c.Percent === undefined || c.Delta === undefined, { error: "give Percent or Delta, not both" }),
  async run(cmd, { volume }) {
    // A failed change throws with the fix (e.g. a missing mixer control); the level stays.
    if (cmd.Percent !== undefined) await volume.set(cmd.Percent);
    else if (cmd.Delta !== undefined) await volume.change(cmd.Delta);
    return { Volume: volume.percent };
  },
});
