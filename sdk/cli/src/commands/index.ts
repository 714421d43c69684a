import type { CommandSpec } from '../command.js';
import { opsCancel } from './ops-cancel.js';
import { opsCreate } from './ops-create.js';
import { opsGet } from './ops-get.js';
import { opsList } from './ops-list.js';
import { runsCancel } from './runs-cancel.js';
import { runsCounts } from './runs-counts.js';
import { runsEvents } from './runs-events.js';
import { runsGet } from './runs-get.js';
import { runsList } from './runs-list.js';
import { runsPause } from './runs-pause.js';
import { runsRedrive } from './runs-redrive.js';
import { runsResume } from './runs-resume.js';
import { runsRetry } from './runs-retry.js';
import { schedulesApply } from './schedules-apply.js';
import { schedulesDelete } from './schedules-delete.js';
import { schedulesGet } from './schedules-get.js';
import { schedulesList } from './schedules-list.js';
import { schedulesPause } from './schedules-pause.js';
import { schedulesResume } from './schedules-resume.js';
import { schedulesTrigger } from './schedules-trigger.js';
import { signal } from './signal.js';
import { start } from './start.js';
import { workflowsApply } from './workflows-apply.js';
import { workflowsGet } from './workflows-get.js';
import { workflowsList } from './workflows-list.js';
import { workflowsPause } from './workflows-pause.js';
import { workflowsResume } from './workflows-resume.js';

/** Every command, in the order --help lists them. A new command: one file in this folder, one line here. */
export const COMMANDS: ReadonlyArray<CommandSpec<never>> = [
  workflowsList,
  workflowsGet,
  workflowsApply,
  workflowsPause,
  workflowsResume,
  start,
  runsList,
  runsCounts,
  runsGet,
  runsEvents,
  runsCancel,
  runsRetry,
  runsRedrive,
  runsPause,
  runsResume,
  signal,
  opsCreate,
  opsGet,
  opsList,
  opsCancel,
  schedulesList,
  schedulesGet,
  schedulesApply,
  schedulesPause,
  schedulesResume,
  schedulesTrigger,
  schedulesDelete,
];
