import { Header } from 'tar/header';
import { Pax } from 'tar/pax';
import { name as typeNames, type EntryTypeCode } from 'tar/types';

const BLOCK = 512;
/** Extended headers (pax records, GNU long names) larger than this are refused, as node-tar does by default. */
const MAX_META_BYTES = 1024 * 1024;
/** Checksum field: summed as if it held spaces. */
const CHECKSUM_OFFSET = 148;
const CHECKSUM_SIZE = 8;

/** One entry as the archive describes it: node-tar's type names, extended headers already applied. */
export interface TarEntryHeader {
  /** As stored: not normalized, not checked (EntryGuard does that before anything is written). */
  path: string;
  type: string;
  /** Bytes of content that follow (0 for directories, whatever their header says, as node-tar reads them). */
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  /** Target of a link; undefined when the header has none. */
  linkpath?: string;
}

/** Told about each entry in archive order: its header, its content in pieces, its end. */
export interface TarEntryVisitor {
  entry(header: TarEntryHeader): void;
  /** A view of the next piece of the entry's content, valid during the call only. */
  content(chunk: Buffer): void;
  entryEnd(): void;
}

type Meta = 'pax' | 'globalPax' | 'longPath' | 'longLinkpath';
/** The headers that describe the next entry (or all later ones) rather than being one, by node-tar's type name. */
const META_TYPES: Partial<Record<string, Meta>> = {
  ExtendedHeader: 'pax',
  GlobalExtendedHeader: 'globalPax',
  NextFileHasLongPath: 'longPath',
  NextFileHasLongLinkpath: 'longLinkpath',
};

/** What extended headers say about the next entry (pax 'x', GNU 'L'/'K') or all later ones (pax 'g'). */
interface Overrides {
  path?: string;
  linkpath?: string;
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
}

const enum State {
  Header,
  Content,
  Meta,
  Skip,
  End,
}

/**
 * A tar stream parser that runs synchronously on whatever pieces it is given: ustar, GNU long names and
 * pax extended headers (decoded by node-tar's Pax), base-256 numbers (node-tar's Header). Every header's
 * checksum is checked; a stream that ends anywhere but after its end-of-archive block is truncated.
 * Content reaches the visitor as views of the pieces written, never copied; only a header split across
 * two pieces is copied, so a caller may reuse its buffer as soon as write() returns.
 *
 * Why not node-tar's Parser: each entry there is a stream of its own with events, and its Header decodes
 * every field through strings and regular expressions; for a volume of many small files that was ~0.45 s
 * of the extraction worker's CPU per 20,000 entries, more than writing them (BENCHMARKS.md, restore).
 */
export class TarReader {
  private state = State.Header;
  /** A header block split across pieces, and how much of it has arrived. */
  private readonly partial = Buffer.alloc(BLOCK);
  private partialBytes = 0;
  /** Bytes of content (Content), of an extended header (Meta) or of padding (Skip) still to come. */
  private remaining = 0;
  private padding = 0;
  private meta: { kind: Meta; bytes: Buffer; filled: number } | undefined;
  private next: Overrides = {};
  private readonly global: Overrides = {};
  /** Stream offset of the block being read, for error messages. */
  private offset = 0;

  constructor(private readonly visitor: TarEntryVisitor) {}

  /**
   * Throws when the bytes are not a tar stream (bad checksum, bad number; and whatever the visitor throws);
   * the reader is then unusable.
   */
  write(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const left = chunk.length - at;
      switch (this.state) {
        case State.Header:
          if (this.partialBytes === 0 && left >= BLOCK) {
            this.header(chunk, at);
            at += BLOCK;
          } else {
            const taken = Math.min(BLOCK - this.partialBytes, left);
            chunk.copy(this.partial, this.partialBytes, at, at + taken);
            this.partialBytes += taken;
            at += taken;
            if (this.partialBytes === BLOCK) {
              this.partialBytes = 0;
              this.header(this.partial, 0);
            }
          }
          break;
        case State.Content: {
          const taken = Math.min(this.remaining, left);
          this.visitor.content(chunk.subarray(at, at + taken));
          at += taken;
          this.offset += taken;
          this.remaining -= taken;
          if (this.remaining === 0) this.contentDone();
          break;
        }
        case State.Meta: {
          const meta = this.meta as NonNullable<TarReader['meta']>;
          const taken = Math.min(meta.bytes.length - meta.filled, left);
          chunk.copy(meta.bytes, meta.filled, at, at + taken);
          meta.filled += taken;
          at += taken;
          this.offset += taken;
          if (meta.filled === meta.bytes.length) this.metaDone(meta.kind, meta.bytes);
          break;
        }
        case State.Skip: {
          const taken = Math.min(this.padding, left);
          at += taken;
          this.padding -= taken;
          this.offset += taken;
          if (this.padding === 0) this.state = State.Header;
          break;
        }
        case State.End:
          // Only zeros may follow the end-of-archive block (GNU tar pads to its record size with them).
          for (; at < chunk.length; at++) {
            if (chunk[at] !== 0) throw new Error(`the archive has data after its end-of-archive block (byte ${this.offset})`);
            this.offset++;
          }
          break;
      }
    }
  }

  /** Call once the whole stream was written; throws when it stopped short. */
  end(): void {
    if (this.state === State.End) return;
    const inside = this.state !== State.Header || this.partialBytes > 0 || this.meta !== undefined;
    throw new Error(
      inside
        ? `the archive is truncated: it ends inside an entry (byte ${this.offset + this.partialBytes})`
        : `the archive is truncated: it ends without its end-of-archive block (byte ${this.offset})`,
    );
  }

  private header(block: Buffer, at: number): void {
    const position = this.offset;
    this.offset += BLOCK;
    let sum = 0;
    for (let index = at; index < at + BLOCK; index++) sum += block[index];
    if (sum === 0) {
      if (Object.keys(this.next).length > 0) throw new Error(`the archive ends after an extended header (byte ${position})`);
      this.state = State.End;
      return;
    }
    checkChecksum(block, at, sum, position);
    // node-tar's names for the type flags ('0' File, NUL OldFile, ...); a flag it does not know is Unsupported.
    const flag = block[at + 156] === 0 ? '' : String.fromCharCode(block[at + 156]);
    let type: string = typeNames.get(flag as EntryTypeCode) ?? 'Unsupported';
    const numbers = decodeNumbers(block, at, position);
    const metaKind = META_TYPES[type];
    if (metaKind !== undefined) return this.startMeta(metaKind, numbers.size, position);

    const next = this.next;
    const global = this.global;
    this.next = {};
    const name = field(block, at, 100);
    // POSIX ustar keeps the start of long paths in a prefix field; GNU's format has other data there.
    const prefix = isPosixUstar(block, at) ? field(block, at + 345, 155) : '';
    const path = next.path ?? (prefix ? `${prefix}/${name}` : name);
    // Old tars marked a directory as a file whose name ends with a slash.
    if (type === 'File' && path.endsWith('/')) type = 'Directory';
    const linkpath = next.linkpath ?? field(block, at + 157, 100);
    const size = type === 'Directory' ? 0 : (next.size ?? numbers.size);
    this.visitor.entry({
      path,
      type,
      size,
      mode: next.mode ?? global.mode ?? numbers.mode,
      uid: next.uid ?? global.uid ?? numbers.uid,
      gid: next.gid ?? global.gid ?? numbers.gid,
      mtime: next.mtime ?? global.mtime ?? new Date(numbers.mtime * 1000),
      linkpath: linkpath === '' ? undefined : linkpath,
    });
    this.remaining = size;
    this.padding = padTo(size);
    if (size > 0) this.state = State.Content;
    else this.contentDone();
  }

  private contentDone(): void {
    this.visitor.entryEnd();
    this.skipPadding();
  }

  private startMeta(kind: Meta, size: number, position: number): void {
    if (size > MAX_META_BYTES) throw new Error(`the archive has an extended header of ${size} bytes (byte ${position}); at most ${MAX_META_BYTES} are read`);
    this.padding = padTo(size);
    if (size === 0) return this.metaDone(kind, Buffer.alloc(0));
    this.meta = { kind, bytes: Buffer.allocUnsafe(size), filled: 0 };
    this.state = State.Meta;
  }

  private metaDone(kind: Meta, bytes: Buffer): void {
    this.meta = undefined;
    if (kind === 'longPath') this.next.path = untilNul(bytes.toString('utf8'));
    else if (kind === 'longLinkpath') this.next.linkpath = untilNul(bytes.toString('utf8'));
    else if (kind === 'pax') Object.assign(this.next, overridesOf(Pax.parse(bytes.toString('utf8'), undefined, false)));
    else Object.assign(this.global, globalOverridesOf(Pax.parse(bytes.toString('utf8'), undefined, true)));
    this.skipPadding();
  }

  private skipPadding(): void {
    this.state = this.padding > 0 ? State.Skip : State.Header;
  }
}

function overridesOf(pax: Pax): Overrides {
  const overrides: Overrides = {};
  if (pax.path !== undefined) overrides.path = pax.path;
  if (pax.linkpath !== undefined) overrides.linkpath = pax.linkpath;
  if (pax.size !== undefined) overrides.size = pax.size;
  if (pax.mode !== undefined) overrides.mode = pax.mode;
  if (pax.uid !== undefined) overrides.uid = pax.uid;
  if (pax.gid !== undefined) overrides.gid = pax.gid;
  if (pax.mtime !== undefined) overrides.mtime = pax.mtime;
  return overrides;
}

/** A global header names no path, link or size: those belong to one entry each (node-tar ignores them too). */
function globalOverridesOf(pax: Pax): Overrides {
  const { mode, uid, gid, mtime } = overridesOf(pax);
  return Object.fromEntries(Object.entries({ mode, uid, gid, mtime }).filter(([, value]) => value !== undefined));
}

function padTo(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The stored checksum must equal the sum of the block's bytes, unsigned (POSIX) or signed (old tars). */
function checkChecksum(block: Buffer, at: number, unsignedSum: number, position: number): void {
  let fieldSum = 0;
  for (let index = at + CHECKSUM_OFFSET; index < at + CHECKSUM_OFFSET + CHECKSUM_SIZE; index++) fieldSum += block[index];
  const expected = unsignedSum - fieldSum + CHECKSUM_SIZE * 0x20;
  const stored = octal(block, at + CHECKSUM_OFFSET, CHECKSUM_SIZE);
  if (stored === expected) return;
  let signedSum = CHECKSUM_SIZE * 0x20;
  for (let index = at; index < at + BLOCK; index++) {
    if (index >= at + CHECKSUM_OFFSET && index < at + CHECKSUM_OFFSET + CHECKSUM_SIZE) continue;
    signedSum += block[index] > 127 ? block[index] - 256 : block[index];
  }
  if (stored !== signedSum) throw new Error(`the archive has a damaged header at byte ${position} (checksum mismatch)`);
}

interface HeaderNumbers {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds. */
  mtime: number;
}

/** Octal fields as tar writes them; a field in base-256 (large ids, sizes of 8 GiB and more) goes to node-tar. */
function decodeNumbers(block: Buffer, at: number, position: number): HeaderNumbers {
  if ((block[at + 100] | block[at + 108] | block[at + 116] | block[at + 124] | block[at + 136]) & 0x80) {
    const header = new Header(block, at);
    const numbers = { mode: header.mode ?? 0o644, uid: header.uid ?? 0, gid: header.gid ?? 0, size: header.size ?? -1, mtime: (header.mtime?.getTime() ?? 0) / 1000 };
    if (!(numbers.size >= 0)) throw new Error(`the archive has a header with an invalid size at byte ${position}`);
    return numbers;
  }
  const mode = octal(block, at + 100, 8);
  const uid = octal(block, at + 108, 8);
  const gid = octal(block, at + 116, 8);
  const size = octal(block, at + 124, 12);
  const mtime = octal(block, at + 136, 12);
  if (Number.isNaN(mode + uid + gid + size + mtime)) {
    const bad = Object.entries({ mode, uid, gid, size, mtime }).find(([, value]) => Number.isNaN(value));
    throw new Error(`the archive has a header with an invalid ${bad?.[0]} at byte ${position}`);
  }
  const orZero = (value: number) => (value === EMPTY ? 0 : value);
  return { mode: mode === EMPTY ? 0o644 : mode, uid: orZero(uid), gid: orZero(gid), size: orZero(size), mtime: orZero(mtime) };
}

/** What octal() returns for a field holding no digits. */
const EMPTY = -1;

/** An octal number: optional leading spaces, digits, then NUL or space; NaN for anything else. */
function octal(block: Buffer, at: number, size: number): number {
  let index = at;
  const end = at + size;
  while (index < end && block[index] === 0x20) index++;
  let value = 0;
  let digits = 0;
  for (; index < end; index++) {
    const byte = block[index];
    if (byte >= 0x30 && byte <= 0x37) {
      value = value * 8 + (byte - 0x30);
      digits++;
    } else if (byte === 0 || byte === 0x20) {
      break;
    } else {
      return Number.NaN;
    }
  }
  return digits === 0 ? EMPTY : value;
}

/** A NUL-terminated (or full) text field, as UTF-8. */
function field(block: Buffer, at: number, size: number): string {
  let end = at;
  const limit = at + size;
  while (end < limit && block[end] !== 0) end++;
  return block.toString('utf8', at, end);
}

function untilNul(text: string): string {
  const nul = text.indexOf('\0');
  return nul === -1 ? text : text.slice(0, nul);
}

/** "ustar\0": POSIX; GNU writes "ustar  \0" and uses the prefix's bytes for other fields. */
function isPosixUstar(block: Buffer, at: number): boolean {
  return block[at + 257] === 0x75 && block[at + 258] === 0x73 && block[at + 259] === 0x74 && block[at + 260] === 0x61 && block[at + 261] === 0x72 && block[at + 262] === 0;
}
