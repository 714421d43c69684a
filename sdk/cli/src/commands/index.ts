import type { CommandSpec } from '../command.js';
import { runsCancel } from './runs-cancel.js';
import { runsEvents } from './runs-events.js';
import { runsGet } from './runs-get.js';
import { runsRetry } from './runs-retry.js';
import { start } from './start.js';
import { workflowsApply } from './workflows-apply.js';

/** Every command, in the order --help lists them. A new command: one file in this folder, one line here. */
export const COMMANDS: ReadonlyArray<CommandSpec<never>> = [
  workflowsApply,
  start,
  runsGet,
  runsEvents,
  runsCancel,
  runsRetry,
];
