const SCHEDULE_FORMS = 'use a 5- or 6-field cron expression, @hourly, @daily, @weekly, @monthly or none';

/**
 * A schedule as backup-schedule, backup-drill and SWARM_EXPORT_SCHEDULE take it: null for none (or
 * nothing), otherwise the cron expression with its spaces made single. Throws saying what is wrong.
 */
export function parseCronSchedule(text: string): string | null {
  if (text === 'none' || text === '') return null;
  const macros = ['@hourly', '@daily', '@weekly', '@monthly'];
  if (text.startsWith('@') && !macros.includes(text)) throw new Error(SCHEDULE_FORMS);
  const result = loadNodeCron().validateDetailed(text);
  if (!result.valid) throw new Error(`${result.errors.map((error) => error.message).join('; ')}; ${SCHEDULE_FORMS}`);
  return text.replace(/\s+/g, ' ');
}

/** node-cron is read when a first schedule is checked or set: a plugin whose volumes have none never holds it. */
export function loadNodeCron(): typeof import('node-cron') {
  return require('node-cron') as typeof import('node-cron');
}
