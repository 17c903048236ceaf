import type { TarEntryMeta } from './tar-entry';

const TYPE_FLAGS: Record<TarEntryMeta['type'], number> = { File: 0x30, Link: 0x31, SymbolicLink: 0x32, Directory: 0x35, FIFO: 0x36 };
const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Encodes the common entry (short ASCII names, numbers that fit ustar's octal fields) straight into a
 * zeroed 512-byte block, byte for byte as node-tar's Header would (a unit test holds them equal). Returns
 * false, writing nothing, for anything else: the caller then uses node-tar, which adds pax headers.
 * Why: node-tar's Header builds an object and re-validates every field; for volumes of many small files
 * that was ~15% of the packing worker's CPU (BENCHMARKS.md).
 */
export function encodeUstarHeader(block: Buffer, meta: TarEntryMeta, path: string): boolean {
  const seconds = Math.floor(meta.mtime.getTime() / 1000);
  const fits =
    path.length < 100 &&
    PRINTABLE_ASCII.test(path) &&
    (meta.linkpath === undefined || (meta.linkpath.length <= 100 && PRINTABLE_ASCII.test(meta.linkpath))) &&
    meta.uid >= 0 &&
    meta.uid <= MAX_OCTAL_8 &&
    meta.gid >= 0 &&
    meta.gid <= MAX_OCTAL_8 &&
    meta.size <= MAX_OCTAL_12 &&
    seconds >= 0 &&
    seconds <= MAX_OCTAL_12;
  if (!fits) return false;
  block.write(path, 0, 100, 'latin1');
  octal(block, 100, 8, meta.mode & 0o7777);
  octal(block, 108, 8, meta.uid);
  octal(block, 116, 8, meta.gid);
  octal(block, 124, 12, meta.size);
  octal(block, 136, 12, seconds);
  block[156] = TYPE_FLAGS[meta.type];
  if (meta.linkpath !== undefined) block.write(meta.linkpath, 157, 100, 'latin1');
  block.write('ustar\u000000', 257, 8, 'latin1');
  // devmajor / devminor: node-tar writes zeros in octal rather than leaving them empty.
  octal(block, 329, 8, 0);
  octal(block, 337, 8, 0);
  let sum = 8 * 0x20;
  for (let index = 0; index < 148; index++) sum += block[index];
  for (let index = 156; index < 512; index++) sum += block[index];
  octal(block, 148, 8, sum);
  return true;
}

/** node-tar's layout: zero-padded octal, then ' ' and NUL ("000644 \0"), or digits and NUL when full. */
function octal(block: Buffer, offset: number, size: number, value: number): void {
  const digits = value.toString(8);
  const text = digits.length === size - 1 ? `${digits}\0` : `${digits.padStart(size - 2, '0')} \0`;
  block.write(text, offset, size, 'latin1');
}
