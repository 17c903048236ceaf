/** TRANSFER_STALL_TIMEOUT's default in ms (settings.ts), for targets made without the setting (tests, CLI). */
export const DEFAULT_STALL_MS = 60_000;
