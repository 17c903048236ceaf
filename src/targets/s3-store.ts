import { PassThrough, Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { bodyUpload, type RemoteStore, type StoreSession, type StoreUpload } from './remote-store';
import type { S3Settings } from '../settings/target-settings';
import { DEFAULT_TIMEOUTS } from '../settings/settings';

/** 5 MiB, S3's smallest part: at most PART_BYTES * QUEUE_SIZE of an archive is in memory. */
const PART_BYTES = 5 * 1024 * 1024;
const QUEUE_SIZE = 2;

/**
 * Any S3-compatible server, path-style (`ENDPOINT/BUCKET/KEY`), which every compatible server speaks.
 * Uploads are multipart and streamed: an object appears only when its upload completes, so there is no
 * temporary key; an aborted multipart upload is discarded by the server.
 */
export class S3Store implements RemoteStore {
  readonly name = 's3';
  readonly atomicUploads = true;
  private readonly client: S3Client;

  constructor(
    private readonly settings: S3Settings,
    /** TRANSFER_STALL_TIMEOUT in ms. */
    stallMs: number = DEFAULT_TIMEOUTS.transferStallSeconds * 1000,
  ) {
    this.client = new S3Client({
      endpoint: settings.endpoint,
      region: settings.region,
      forcePathStyle: true,
      credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
      // Checksums only where S3 requires them: many compatible servers do not understand the trailing
      // checksums newer SDKs send by default.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // An unreachable endpoint fails the run instead of retrying for minutes.
      maxAttempts: 3,
      // The SDK's own bounds on silence: a connection that does not open, a socket on which nothing moves
      // (a server that stopped reading a part, or answering). Each ends its request, so no socket is left
      // hanging behind the run that RemoteTarget's watch already failed.
      requestHandler: { connectionTimeout: stallMs, socketTimeout: stallMs },
    });
  }

  session<T>(fn: (session: StoreSession) => Promise<T>): Promise<T> {
    return fn(this.sessionApi);
  }

  async upload(path: string): Promise<StoreUpload> {
    const body = new PassThrough();
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.settings.bucket, Key: this.key(path), Body: body },
      partSize: PART_BYTES,
      queueSize: QUEUE_SIZE,
    });
    return bodyUpload(
      body,
      upload.done(),
      () => upload.abort().catch(() => undefined),
      (listener) => upload.on('httpUploadProgress', listener),
    );
  }

  async openRead(path: string): Promise<Readable> {
    const object = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.key(path) }));
    if (!(object.Body instanceof Readable)) throw new Error(`no readable body for ${path}`);
    return object.Body;
  }

  async discardStaleUploads(folder: string): Promise<void> {
    const Prefix = `${this.key(folder)}/`;
    let listing;
    try {
      listing = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.settings.bucket, Prefix }));
    } catch (error) {
      // Some compatible servers do not list multipart uploads; they keep no parts worth finding then.
      if (['NotImplemented', 'MethodNotAllowed'].includes((error as Error).name)) return;
      throw error;
    }
    for (const upload of listing.Uploads ?? []) {
      if (!upload.Key || !upload.UploadId) continue;
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.settings.bucket, Key: upload.Key, UploadId: upload.UploadId }));
    }
  }

  private key(path: string): string {
    return `${this.settings.prefix}${path}`;
  }

  private readonly sessionApi: StoreSession = {
    list: async (folder) => {
      const Prefix = `${this.key(folder)}/`;
      const names: string[] = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix, Delimiter: '/', ContinuationToken }),
        );
        for (const object of page.Contents ?? []) if (object.Key) names.push(object.Key.slice(Prefix.length));
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
      return names;
    },
    readText: async (path) => {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.key(path) }));
      if (!object.Body) throw new Error(`no body for ${path}`);
      return object.Body.transformToString('utf8');
    },
    writeText: async (path, text) => {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.settings.bucket, Key: this.key(path), Body: text, ContentType: 'application/json' }),
      );
    },
    // DeleteObject succeeds for a missing key.
    remove: async (path) => {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: this.key(path) }));
    },
    rename: async () => {
      throw new Error('S3 has no rename; its uploads are atomic');
    },
    // Prefixes are not created on S3, but an upload starts only with its first part: checking the bucket
    // here makes an unreachable server or bad credentials fail the run before anything is stopped.
    ensureFolder: async () => {
      await this.client.send(new HeadBucketCommand({ Bucket: this.settings.bucket })).catch((error: Error & { $metadata?: { httpStatusCode?: number } }) => {
        // HEAD answers carry no error text: the status is all there is to say.
        const status = error.$metadata?.httpStatusCode;
        throw status ? new Error(`bucket ${this.settings.bucket} answered HTTP ${status}${status === 403 ? ' (check the credentials)' : ''}`) : error;
      });
    },
  };
}
