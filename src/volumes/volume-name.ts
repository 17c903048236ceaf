/**
 * The engine's own rule for volume names, which also keeps a name to one path component: it cannot be
 * empty, `.`, `..` or contain a slash, so it cannot escape the data directory.
 */
const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;

export function assertValidVolumeName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !VOLUME_NAME.test(name)) {
    throw new Error(
      `invalid volume name ${JSON.stringify(name)}: use 1-255 characters from [A-Za-z0-9_.-], starting with a letter or digit`,
    );
  }
}
