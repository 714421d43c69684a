/** NOTIFY channels. Payloads are delivered at commit, to every listening connection (any API or engine instance). */

/** new outbox work is due now: engines claim at once (payload empty) */
export const OUTBOX_CHANNEL = 'sagaflow_outbox';

/** runs gained history events: payload = their ids, comma-separated (long polls and event streams wake up) */
export const EVENTS_CHANNEL = 'sagaflow_run_events';

/** a bulk operation was created: engines look for operation work at once (payload empty) */
export const OPERATIONS_CHANNEL = 'sagaflow_operations';
/** a schedule was created, changed or resumed: engines re-read the earliest fire time (payload = schedule id) */
export const SCHEDULES_CHANNEL = 'sagaflow_schedules';
