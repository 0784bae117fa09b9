/**
 * Checks a bundle's tar framing as its bytes stream past (between the file and the tar parser):
 * the parts the signature does not cover must hold nothing. Each header's checksum field ends as
 * tar writers end it, every entry is a plain file (no long-name or pax records that would make the
 * parser see other sizes than this check), its padding and the end-of-archive blocks are zeros and
 * the file ends with them. Also hashes the whole file and notes where each entry's data starts.
 */
import crypto from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { dfgError } from '../errors.js';

const BLOCK = 512;

export class TarFraming extends Transform {
  /** Data offset and size of each entry, in tar order. */
  readonly entries: Array<{ offset: number; size: number }> = [];
  private readonly hash = crypto.createHash('sha256');
  private pos = 0;
  private state: 'header' | 'data' | 'pad' | 'end' = 'header';
  private readonly block = Buffer.alloc(BLOCK);
  private fill = 0;
  private left = 0;
  private endAt = -1;

  constructor(private readonly maxBytes: number) {
    super();
  }

  /** SHA-256 of every byte seen (complete once the stream has ended). */
  digest(): string {
    return this.hash.digest('hex');
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.pos + chunk.length > this.maxBytes) return done(dfgError('DFG_ERR_BUNDLE_TOO_LARGE', `more than ${this.maxBytes} bytes`));
    this.hash.update(chunk);
    try {
      this.scan(chunk);
    } catch (err) {
      return done(err as Error);
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.state === 'data' || this.state === 'pad') return done(dfgError('DFG_ERR_BUNDLE_TRUNCATED', 'an entry ends past the end of the file'));
    if (this.state !== 'end' || this.pos - this.endAt < 2 * BLOCK) return done(dfgError('DFG_ERR_BUNDLE_TRUNCATED', 'the end-of-archive blocks are missing'));
    done();
  }

  private scan(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'header') {
        const n = Math.min(BLOCK - this.fill, chunk.length - i);
        chunk.copy(this.block, this.fill, i, i + n);
        this.fill += n;
        i += n;
        if (this.fill === BLOCK) {
          this.fill = 0;
          this.header(this.pos + i - BLOCK);
        }
      } else if (this.state === 'data') {
        const n = Math.min(this.left, chunk.length - i);
        i += n;
        this.left -= n;
        if (this.left === 0) this.afterData(this.pos + i);
      } else {
        const n = this.state === 'pad' ? Math.min(this.left, chunk.length - i) : chunk.length - i;
        for (let k = i; k < i + n; k++) {
          if (chunk[k] !== 0) throw dfgError('DFG_ERR_BUNDLE_TAMPERED', this.state === 'pad' ? `padding at byte ${this.pos + k}` : 'after the end of the archive');
        }
        i += n;
        if (this.state === 'pad') {
          this.left -= n;
          if (this.left === 0) this.state = 'header';
        }
      }
    }
    this.pos += chunk.length;
  }

  private header(at: number): void {
    const h = this.block;
    if (h.every((b) => b === 0)) {
      this.state = 'end';
      this.endAt = at;
      return;
    }
    // The one header field its checksum does not cover: only the two terminations tar writers use.
    if (!/^[0-7]{6}( \0|\0 )$/.test(h.subarray(148, 156).toString('latin1'))) throw dfgError('DFG_ERR_BUNDLE_TAMPERED', `tar header at byte ${at}`);
    const type = h[156]!;
    if (type !== 0x30 && type !== 0) throw dfgError('DFG_ERR_BUNDLE_MALFORMED', `the entry at byte ${at} is not a plain file (type ${JSON.stringify(String.fromCharCode(type))})`);
    const field = h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0';
    if (!/^[0-7]+$/.test(field)) throw dfgError('DFG_ERR_BUNDLE_MALFORMED', `the tar header at byte ${at} has no valid size`);
    const size = Number.parseInt(field, 8);
    this.entries.push({ offset: at + BLOCK, size });
    this.left = size;
    this.state = 'data';
    if (size === 0) this.afterData(at + BLOCK);
  }

  private afterData(end: number): void {
    const pad = (BLOCK - (end % BLOCK)) % BLOCK;
    this.left = pad;
    this.state = pad > 0 ? 'pad' : 'header';
  }
}
