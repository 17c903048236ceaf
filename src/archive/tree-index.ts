import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync, type Stats } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/**
 * What an archive stored of each name, so that the next archive of its chain can store only what
 * changed without reading any unchanged content again. One block per directory, directories in the
 * packer's order (depth first, names sorted), each block the directory's non-directory names: a reader
 * that follows the same walk reads the file once, front to back, and holds one directory's names at a
 * time, whatever the size of the volume.
 *
 * Text, one JSON value per line: `"D",PATH` opens a block, `[name, ...IndexedStat]` is a name of it,
 * `"E"` ends the file (an index without it was cut short and is never used).
 */
export type IndexedStat = [type: string, size: number, mtimeMs: number, ctimeMs: number, ino: number, nlink: number, mode: number, uid: number, gid: number, linkpath: string];

const END = '"E"';
const WRITE_BUFFER_BYTES = 256 * 1024;
const READ_BUFFER_BYTES = 64 * 1024;

export function indexedStat(type: string, stat: Stats, linkpath = ''): IndexedStat {
  return [type, stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino, stat.nlink, stat.mode, stat.uid, stat.gid, linkpath];
}

/**
 * Whether a name is as the previous archive stored it. Inode and ctime only where they can be trusted:
 * a plain copy of the volume (snapshot copy) gives every file a new inode and ctime each time, so there
 * a file whose size, mtime, mode, owner and links are unchanged counts as unchanged, as with rsync.
 */
export function unchanged(previous: IndexedStat | undefined, current: IndexedStat, trustInode: boolean): boolean {
  if (!previous) return false;
  for (let field = 0; field < current.length; field++) {
    if ((field === 3 || field === 4) && !trustInode) continue;
    if (previous[field] !== current[field]) return false;
  }
  return true;
}

/** Writes an index with blocking calls (the packing worker); finish() syncs it to disk. */
export class IndexWriter {
  private readonly fd: number;
  private readonly buffer = Buffer.alloc(WRITE_BUFFER_BYTES);
  private used = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w', 0o600);
  }

  directory(path: string, names: ReadonlyArray<readonly [string, IndexedStat]>): void {
    this.line(`"D",${JSON.stringify(path)}`);
    for (const [name, stat] of names) this.line(JSON.stringify([name, ...stat]));
  }

  finish(): void {
    this.line(END);
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
  }

  abandon(): void {
    closeSync(this.fd);
  }

  private line(text: string): void {
    const bytes = Buffer.byteLength(text) + 1;
    if (this.used + bytes > this.buffer.length) this.flush();
    if (bytes > this.buffer.length) {
      writeAll(this.fd, Buffer.from(`${text}\n`));
      return;
    }
    this.used += this.buffer.write(text, this.used);
    this.buffer[this.used++] = 0x0a;
  }

  private flush(): void {
    writeAll(this.fd, this.buffer.subarray(0, this.used));
    this.used = 0;
  }
}

/** Reads an index written by IndexWriter, following the same walk. */
export class IndexReader {
  private readonly fd: number;
  private readonly buffer = Buffer.alloc(READ_BUFFER_BYTES);
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private lines: string[] = [];
  private ended = false;
  /** The path of the block whose names come next, once its opening line was read. */
  private nextBlock: string | undefined;

  constructor(path: string) {
    this.fd = openSync(path, 'r');
  }

  /** The names stored for directory `path`; blocks of directories before it in the walk are gone ones. */
  namesOf(path: string): Map<string, IndexedStat> {
    const names = new Map<string, IndexedStat>();
    for (;;) {
      const block = this.peekBlock();
      if (block === undefined || walkOrder(block, path) > 0) return names;
      const found = block === path;
      this.nextBlock = undefined;
      for (let line = this.readLine(); line !== undefined; line = this.readLine()) {
        if (line.startsWith('"D",') || line === END) {
          this.lines.unshift(line);
          break;
        }
        if (!found) continue;
        const [name, ...stat] = JSON.parse(line) as [string, ...IndexedStat];
        names.set(name, stat);
      }
      if (found) return names;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private peekBlock(): string | undefined {
    if (this.nextBlock !== undefined) return this.nextBlock;
    const line = this.readLine();
    if (line === undefined) throw new Error('the index of the previous archive ends without its end mark');
    if (line === END) {
      this.lines.unshift(line);
      return undefined;
    }
    if (!line.startsWith('"D",')) throw new Error('the index of the previous archive is damaged');
    this.nextBlock = JSON.parse(line.slice(4)) as string;
    return this.nextBlock;
  }

  private readLine(): string | undefined {
    while (this.lines.length === 0) {
      if (this.ended) return undefined;
      const read = readSync(this.fd, this.buffer, 0, this.buffer.length, null);
      if (read === 0) {
        this.ended = true;
        if (this.pending !== '') this.lines.push(this.pending);
        this.pending = '';
        continue;
      }
      const parts = (this.pending + this.decoder.write(this.buffer.subarray(0, read))).split('\n');
      this.pending = parts.pop() ?? '';
      this.lines = parts;
    }
    return this.lines.shift();
  }
}

/** Whether the file at `path` is a whole index (ends with its end mark); false when it is missing. */
export function isCompleteIndex(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(Math.min(size, END.length + 1));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    return tail.toString('utf8') === `${END}\n`;
  } finally {
    closeSync(fd);
  }
}

/**
 * The packer's order of two directory paths: component by component, an ancestor before what it holds
 * ('.' is the root). Negative when `a` comes first.
 */
export function walkOrder(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '.') return -1;
  if (b === '.') return 1;
  const left = a.split('/');
  const right = b.split('/');
  for (let index = 0; index < Math.min(left.length, right.length); index++) {
    if (left[index] !== right[index]) return left[index] < right[index] ? -1 : 1;
  }
  return left.length - right.length;
}

function writeAll(fd: number, bytes: Buffer): void {
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
}
