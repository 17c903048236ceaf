/** Thrown in the packing worker once the main thread asked it to stop; unwinding closes the open file. */
export class PackStopped extends Error {}
