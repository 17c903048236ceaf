/**
 * The longest volume name whose every derived file name fits in one path component (255 bytes, the
 * NAME_MAX of ext4, xfs and btrfs). The longest of them is the local target's temporary manifest,
 * `VOLUME-YYYYMMDDTHHMMSSZ.tar.zst.age.json.tmp-PID-MILLIS-N` (atomic-file.ts): 34 characters after the
 * name for the manifest, at most 37 for the temporary suffix. 255 - 71 = 184, rounded down for headroom.
 * Longer names used to be accepted at create and then failed every backup with ENAMETOOLONG.
 */
export const MAX_VOLUME_NAME_LENGTH = 180;

/**
 * The engine's own rule for volume names, which also keeps a name to one path component: it cannot be
 * empty, `.`, `..` or contain a slash, so it cannot escape the data directory.
 */
const VOLUME_NAME = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,${MAX_VOLUME_NAME_LENGTH - 1}}$`);

export function assertValidVolumeName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !VOLUME_NAME.test(name)) {
    throw new Error(
      `invalid volume name ${JSON.stringify(typeof name === 'string' && name.length > 40 ? `${name.slice(0, 40)}...` : name)}` +
        (typeof name === 'string' && name.length > MAX_VOLUME_NAME_LENGTH ? ` (${name.length} characters)` : '') +
        `: use 1-${MAX_VOLUME_NAME_LENGTH} characters from [A-Za-z0-9_.-], starting with a letter or digit`,
    );
  }
}
