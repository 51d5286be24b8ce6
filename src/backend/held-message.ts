// Kept apart from the retry service so a command can say it without loading the runtime.
/** Why a retry was refused: which job holds the records, and how to run or cancel it. */
export function heldByMessage(jobIds: readonly string[]): string {
  const first = jobIds[0] ?? '<id>';
  const which = jobIds.length <= 1 ? first : `${jobIds.slice(0, 3).join(', ')}${jobIds.length > 3 ? ` and ${jobIds.length - 3} more` : ''}`;
  return (
    `every selected record is already being retried by another job (${which}): ` +
    `run it with "flowdeck jobs wait ${first}" (or "flowdeck worker"), or cancel it with "flowdeck jobs cancel ${first}"`
  );
}
