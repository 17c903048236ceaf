import { readSync } from 'node:fs';
import { Header } from 'tar/header';
import { Pax } from 'tar/pax';
import { encodeUstarHeader } from './encode-ustar-header';
import type { TarEntryMeta } from './tar-entry';

/** Where filled batches go and where empty ones come from; take() may block until one is free. */
export interface BatchPool {
  take(): Buffer;
  ship(batch: Buffer, length: number): void;
}

const BLOCK = 512;

/**
 * Writes a tar stream into fixed-size batches: headers are encoded and file contents read straight into
 * the batch (no intermediate copies), and a batch is shipped only when full, so small files cost one
 * memcpy-free read each and the consumer sees a few large chunks instead of two tiny ones per file.
 * Everything written is a multiple of 512 bytes and batches are too, so a header never straddles two.
 */
export class TarBatcher {
  private batch: Buffer;
  private offset = 0;

  constructor(private readonly pool: BatchPool) {
    this.batch = pool.take();
    if (this.batch.length % BLOCK !== 0) throw new Error('tar batches must be a multiple of 512 bytes');
  }

  header(meta: TarEntryMeta, encodedPath: string): void {
    const block = this.room(BLOCK);
    // Batches are reused: clear the block first (node-tar too leaves absent fields untouched).
    block.fill(0);
    if (encodeUstarHeader(block, meta, encodedPath)) return;
    const fields = {
      path: encodedPath,
      type: meta.type,
      mode: meta.mode & 0o7777,
      uid: meta.uid,
      gid: meta.gid,
      size: meta.size,
      mtime: meta.mtime,
      linkpath: meta.linkpath,
      // Numeric owners only: the uids in a volume belong to its containers, not to this host's users.
      uname: '',
      gname: '',
    };
    const header = new Header(fields);
    if (header.encode(block, 0)) {
      // A field did not fit ustar (long path, size >= 8 GiB, large id): a pax header must come first.
      const pax = new Pax({ path: encodedPath, linkpath: meta.linkpath, size: meta.size, uid: meta.uid, gid: meta.gid, mtime: meta.mtime });
      const ustar = Buffer.from(block);
      this.offset -= BLOCK;
      this.append(pax.encode());
      this.append(ustar);
    }
  }

  /**
   * Appends `size` bytes of the open file, then the zero padding to the next block. Returns the bytes
   * actually read: fewer when the file shrank while being read (live backup), the rest being zeros so
   * that the header's size stays true, as GNU tar does.
   */
  fileContent(fd: number, size: number): number {
    let position = 0;
    while (position < size) {
      const target = this.room(size - position);
      const read = readSync(fd, target, 0, target.length, position);
      // Give back what the read did not fill.
      this.offset -= target.length - read;
      if (read === 0) break;
      position += read;
    }
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    this.zeros(padded - position);
    return position;
  }

  /** Appends whole blocks encoded elsewhere (GNU dumpdir entries, dumpdir.ts). */
  blocks(bytes: Buffer): void {
    if (bytes.length % BLOCK !== 0) throw new Error('tar entries are whole 512-byte blocks');
    this.append(bytes);
  }

  /** Two zero blocks end the archive; ships what is left. */
  finish(): void {
    this.zeros(2 * BLOCK);
    if (this.offset > 0) this.pool.ship(this.batch, this.offset);
    this.offset = 0;
  }

  private append(bytes: Buffer): void {
    for (let done = 0; done < bytes.length; ) {
      const target = this.room(bytes.length - done);
      done += bytes.copy(target, 0, done, done + target.length);
    }
  }

  private zeros(count: number): void {
    for (let done = 0; done < count; ) done += this.room(count - done).fill(0).length;
  }

  /** Claims up to `wanted` bytes of the current batch (shipping it first if full) and returns them. */
  private room(wanted: number): Buffer {
    if (this.offset === this.batch.length) {
      this.pool.ship(this.batch, this.offset);
      this.batch = this.pool.take();
      this.offset = 0;
    }
    const length = Math.min(wanted, this.batch.length - this.offset);
    const claimed = this.batch.subarray(this.offset, this.offset + length);
    this.offset += length;
    return claimed;
  }
}
