/**
 * GNU tar's incremental format (`tar --listed-incremental`): every directory is stored as a dumpdir
 * entry (type 'D') whose content names what the directory holds, each name prefixed by a code. Extracting
 * with `tar --extract --incremental` deletes from the directory whatever its dumpdir does not name, which
 * is how an incremental archive carries deletions and renames. GNU tar reads dumpdirs only from headers of
 * its own format (magic "ustar  \0"), so these entries are written in it; the other entries stay ustar.
 */

/** Y: stored in this archive; N: unchanged since the archive this one applies on; D: a directory. */
export type DumpdirCode = 'Y' | 'N' | 'D';

export interface DumpdirHeader {
  /** Relative to the volume root, '.' for the root; stored with a trailing '/'. */
  path: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
}

const BLOCK = 512;
const NAME_BYTES = 100;
const GNU_MAGIC = 'ustar  \0';
const MAX_OCTAL_8 = 0o7777777;

/** The dumpdir's content: `Yname\0Nother\0Dsub\0` then a last `\0`, names in the order given. */
export function encodeDumpdir(names: ReadonlyArray<readonly [DumpdirCode, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [code, name] of names) parts.push(Buffer.from(`${code}${name}\0`, 'utf8'));
  parts.push(Buffer.alloc(1));
  return Buffer.concat(parts);
}

/** Name -> code; throws on content that is not a dumpdir. */
export function parseDumpdir(content: Buffer): Map<string, DumpdirCode> {
  const names = new Map<string, DumpdirCode>();
  let start = 0;
  while (start < content.length && content[start] !== 0) {
    const end = content.indexOf(0, start);
    if (end === -1) throw new Error('a dumpdir entry is not NUL-terminated');
    const code = String.fromCharCode(content[start]);
    // GNU tar also writes R/T/X records (renames, deletions since an older format); a Y/N/D name suffices.
    if (code === 'Y' || code === 'N' || code === 'D') names.set(content.toString('utf8', start + 1, end), code);
    start = end + 1;
  }
  return names;
}

/**
 * The blocks that store one dumpdir entry: a GNU long-name entry first when the path does not fit the
 * header, the header, then the content padded to whole blocks.
 */
export function dumpdirBlocks(header: DumpdirHeader, content: Buffer): Buffer {
  const path = header.path === '.' ? './' : `${header.path}/`;
  const name = Buffer.from(path, 'utf8');
  const parts: Buffer[] = [];
  if (name.length > NAME_BYTES) {
    const longName = Buffer.concat([name, Buffer.alloc(1)]);
    parts.push(gnuHeader({ name: Buffer.from('././@LongLink'), type: 'L', size: longName.length, mode: 0, uid: 0, gid: 0, mtime: 0 }), padded(longName));
  }
  const seconds = Math.max(0, Math.floor(header.mtime.getTime() / 1000));
  parts.push(
    gnuHeader({ name: name.subarray(0, NAME_BYTES), type: 'D', size: content.length, mode: header.mode & 0o7777, uid: header.uid, gid: header.gid, mtime: seconds }),
    padded(content),
  );
  return Buffer.concat(parts);
}

interface GnuFields {
  name: Buffer;
  type: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

function gnuHeader(fields: GnuFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  fields.name.copy(block, 0);
  octal(block, 100, 8, fields.mode);
  number8(block, 108, fields.uid);
  number8(block, 116, fields.gid);
  octal(block, 124, 12, fields.size);
  octal(block, 136, 12, fields.mtime);
  block.write(fields.type, 156, 1, 'latin1');
  block.write(GNU_MAGIC, 257, 8, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

function octal(block: Buffer, offset: number, size: number, value: number): void {
  block.write(`${value.toString(8).padStart(size - 1, '0')}\0`, offset, size, 'latin1');
}

/** Owners beyond what 7 octal digits hold are stored in base-256, as GNU tar does. */
function number8(block: Buffer, offset: number, value: number): void {
  if (value <= MAX_OCTAL_8) return octal(block, offset, 8, value);
  block[offset] = 0x80;
  block.writeUIntBE(value, offset + 2, 6);
}

function padded(content: Buffer): Buffer {
  const rest = content.length % BLOCK;
  return rest === 0 ? content : Buffer.concat([content, Buffer.alloc(BLOCK - rest)]);
}
