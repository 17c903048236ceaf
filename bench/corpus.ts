import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom, seededRandomBytes } from './prng';
import { mebibytes } from './stats';

const MiB = 1024 * 1024;
/** Bump when the generator changes, so a kept BENCH_DIR corpus is regenerated rather than reused stale. */
const GENERATOR_VERSION = 1;
const SEED = 20240501;

export interface CorpusShape {
  folders: number;
  filesPerFolder: number;
  randomFiles: number;
  repetitiveFiles: number;
  bigFileBytes: number;
}

export interface Corpus {
  dir: string;
  shape: CorpusShape;
  files: number;
  bytes: number;
}

/** The reference corpus, times `scale`: 20,000 small text files in 200 folders and 4 files of 128 MiB. */
export function corpusShape(scale: number): CorpusShape {
  const times = (n: number) => Math.max(1, Math.round(n * scale));
  return { folders: times(200), filesPerFolder: 100, randomFiles: times(2), repetitiveFiles: times(2), bigFileBytes: 128 * MiB };
}

/** "20004 files, 677.8 MiB (200 folders of ...)": the corpus as the reports describe it. */
export function describeCorpus(corpus: Corpus): string {
  const { shape } = corpus;
  return (
    `${corpus.files} files, ${mebibytes(corpus.bytes)} (${shape.folders} folders of ${shape.filesPerFolder} text ` +
    `files of 1-16 KiB, ${shape.randomFiles} random and ${shape.repetitiveFiles} log-like files of ${mebibytes(shape.bigFileBytes)})`
  );
}

/**
 * Writes the corpus under `dir`/data, or reuses it when a previous run left the same shape there (generating
 * ~700 MB costs more than a benchmark section).
 */
export async function ensureCorpus(dir: string, shape: CorpusShape): Promise<Corpus> {
  const data = join(dir, 'data');
  const stampPath = join(dir, 'corpus.json');
  const wanted = JSON.stringify({ version: GENERATOR_VERSION, seed: SEED, shape });
  const previous = await readStamp(stampPath);
  let bytes: number;
  if (previous && JSON.stringify({ version: previous.version, seed: previous.seed, shape: previous.shape }) === wanted) {
    bytes = previous.bytes;
  } else {
    await rm(stampPath, { force: true });
    await rm(data, { recursive: true, force: true });
    bytes = await generate(data, shape);
    // Written last: a corpus interrupted halfway has no stamp and is generated again.
    await writeFile(stampPath, JSON.stringify({ version: GENERATOR_VERSION, seed: SEED, shape, bytes }));
  }
  const files = shape.folders * shape.filesPerFolder + shape.randomFiles + shape.repetitiveFiles;
  return { dir: data, shape, files, bytes };
}

interface Stamp {
  version: number;
  seed: number;
  shape: CorpusShape;
  bytes: number;
}

async function readStamp(path: string): Promise<Stamp | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

async function generate(data: string, shape: CorpusShape): Promise<number> {
  const random = seededRandom(SEED);
  const words = vocabulary(random);
  let bytes = 0;
  for (let folder = 0; folder < shape.folders; folder++) {
    const folderPath = join(data, 'docs', `folder-${String(folder).padStart(4, '0')}`);
    await mkdir(folderPath, { recursive: true });
    for (let file = 0; file < shape.filesPerFolder; file++) {
      const size = 1024 + Math.floor(random() * 15 * 1024);
      await writeFile(join(folderPath, `note-${String(file).padStart(3, '0')}.txt`), text(random, words, size));
      bytes += size;
    }
  }
  await mkdir(join(data, 'blobs'), { recursive: true });
  for (let index = 0; index < shape.randomFiles; index++) {
    const next = seededRandomBytes(`${SEED}-random-${index}`);
    bytes += await writeBig(join(data, 'blobs', `random-${index}.bin`), shape.bigFileBytes, next);
  }
  for (let index = 0; index < shape.repetitiveFiles; index++) {
    const lines = logLines(seededRandom(SEED + 1 + index));
    bytes += await writeBig(join(data, 'blobs', `service-${index}.log`), shape.bigFileBytes, lines);
  }
  return bytes;
}

async function writeBig(path: string, size: number, chunk: (length: number) => Buffer): Promise<number> {
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < size; ) {
      const part = chunk(Math.min(4 * MiB, size - written));
      await file.write(part);
      written += part.length;
    }
  } finally {
    await file.close();
  }
  return size;
}

/** Pseudo-words with a skewed frequency, so text compresses about as well as prose (roughly 3:1 with gzip). */
function vocabulary(random: () => number): string[] {
  const letters = 'etaoinshrdlcumwfgypbvkjxqz';
  const words: string[] = [];
  for (let index = 0; index < 4000; index++) {
    const length = 2 + Math.floor(random() * random() * 10);
    let word = '';
    for (let letter = 0; letter < length; letter++) word += letters[Math.floor(random() * random() * letters.length)];
    words.push(word);
  }
  return words;
}

function text(random: () => number, words: string[], size: number): Buffer {
  const buffer = Buffer.alloc(size);
  let offset = 0;
  let column = 0;
  while (offset < size) {
    const word = words[Math.floor(random() * random() * words.length)];
    offset += buffer.write(word, offset, 'latin1');
    column += word.length + 1;
    if (offset < size) buffer[offset++] = column > 72 ? 0x0a : 0x20;
    if (column > 72) column = 0;
  }
  return buffer;
}

/** Log-like lines: highly repetitive, but not a single repeated block that any compressor would shortcut. */
function logLines(random: () => number): (length: number) => Buffer {
  const levels = ['INFO ', 'INFO ', 'INFO ', 'DEBUG', 'WARN '];
  const paths = ['/api/v1/items', '/api/v1/users', '/healthz', '/api/v1/orders', '/static/app.js'];
  let second = 1_700_000_000;
  let pending = Buffer.alloc(0);
  return (length) => {
    const parts: Buffer[] = [pending];
    let total = pending.length;
    while (total < length) {
      second += random() < 0.3 ? 1 : 0;
      const line =
        `${new Date(second * 1000).toISOString()} ${levels[Math.floor(random() * levels.length)]} [worker-${Math.floor(random() * 8)}] ` +
        `GET ${paths[Math.floor(random() * paths.length)]}/${Math.floor(random() * 1000)} 200 ${Math.floor(random() * 50)}ms\n`;
      const bytes = Buffer.from(line, 'latin1');
      parts.push(bytes);
      total += bytes.length;
    }
    const all = Buffer.concat(parts);
    pending = all.subarray(length);
    return all.subarray(0, length);
  };
}
