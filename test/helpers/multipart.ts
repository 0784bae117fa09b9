/** Builds multipart/form-data bodies for app.inject. */
import crypto from 'node:crypto';

export interface Part {
  name?: string;
  filename?: string;
  contentType?: string;
  data: Buffer | string;
}

export function multipart(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----dfgtest' + crypto.randomBytes(8).toString('hex');
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disp = p.filename !== undefined
      ? `form-data; name="${p.name ?? 'file'}"; filename="${p.filename}"`
      : `form-data; name="${p.name ?? 'field'}"`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disp}\r\n` + (p.filename !== undefined ? `Content-Type: ${p.contentType ?? 'application/octet-stream'}\r\n` : '') + '\r\n'));
    chunks.push(Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export function files(...items: Array<[string, Buffer]>): { payload: Buffer; headers: Record<string, string> } {
  return multipart(items.map(([filename, data]) => ({ name: 'files', filename, data })));
}
