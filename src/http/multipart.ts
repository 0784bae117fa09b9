/** Reads image file parts of a multipart request into memory, enforcing per-request limits and the upload budget while streaming. */
import crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { dfgError, isDfgError, type DfgError } from '../errors.js';
import { MAX_FILENAME_LENGTH } from '../gallery/validate.js';
import { budgetExhausted, type UploadAccount } from './plugins/admission.js';

export interface UploadedImage {
  filename: string;
  /** Present when the part was read whole. */
  bytes?: Buffer;
  sha256?: string;
  /** A per-file problem (too large); other files of the request are still usable. */
  error?: DfgError;
}

export interface ReadPartsResult {
  files: UploadedImage[];
  fields: Record<string, string>;
}

export async function readImageParts(request: FastifyRequest, maxFiles: number, maxBytes: number): Promise<ReadPartsResult> {
  if (!request.isMultipart()) throw dfgError('DFG_ERR_REQUEST_UNSUPPORTED_MEDIA', `${request.headers['content-type'] ?? 'none'}; expected multipart/form-data`);
  const files: UploadedImage[] = [];
  const fields: Record<string, string> = {};
  try {
    for await (const part of request.parts({ limits: { files: maxFiles, fileSize: maxBytes } })) {
      if (part.type === 'field') {
        if (typeof part.value === 'string') fields[part.fieldname] = part.value.slice(0, 1000);
        continue;
      }
      const filename = (part.filename || part.fieldname || `file${files.length + 1}`).slice(0, MAX_FILENAME_LENGTH);
      const bytes = await readFile(part.file, request.uploadAccount);
      if (part.file.truncated) {
        files.push({ filename, error: dfgError('DFG_ERR_IMAGE_TOO_LARGE', `more than ${maxBytes}`, maxBytes) });
        continue;
      }
      files.push({ filename, bytes, sha256: crypto.createHash('sha256').update(bytes).digest('hex') });
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'FST_FILES_LIMIT') throw dfgError('DFG_ERR_UPLOAD_TOO_MANY_FILES', maxFiles);
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw dfgError('DFG_ERR_IMAGE_TOO_LARGE', `more than ${maxBytes}`, maxBytes);
    if (isDfgError(err) || (typeof code === 'string' && code.startsWith('FST_'))) throw err;
    // Anything else thrown while reading the body is the body's fault (busboy parse errors carry no code).
    throw dfgError('DFG_ERR_UPLOAD_MALFORMED', (err as Error).message?.split('\n')[0]?.slice(0, 200) ?? 'unreadable body');
  }
  if (files.length === 0) throw dfgError('DFG_ERR_UPLOAD_NO_FILE');
  return { files, fields };
}

/**
 * Reads one file part, charging its bytes to the request's upload account as they arrive (busboy
 * stops at the per-file limit), so a chunked body that outgrows the global budget is refused mid-stream.
 */
async function readFile(file: AsyncIterable<Buffer>, account: UploadAccount | null): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of file) {
    if (account && !account.count(chunk.length)) throw budgetExhausted(account.budgetBytes);
    chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks, size);
}

/** Serialisable form of a per-item error. */
export function errorItem(err: unknown): { statusCode: number; code: string; message: string } {
  if (isDfgError(err)) return { statusCode: err.statusCode, code: err.code, message: err.message };
  const e = dfgError('DFG_ERR_INTERNAL');
  return { statusCode: e.statusCode, code: e.code, message: e.message };
}
