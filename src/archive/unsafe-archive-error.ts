/** An archive refused before anything of it reached the volume: the message says which entry and why. */
export class UnsafeArchiveError extends Error {
  readonly code = 'UNSAFE_ARCHIVE';
}
