/**
 * A stand-in for an S3 store behind the presign service, for bench:cli (run in its own process, so its CPU is
 * not counted as the CLI's): POST /api/presign answers each object with a PUT URL on this server carrying the
 * object's SHA-256 header, as the real service does; PUT /o/<name> reads the body and discards it. What it
 * measures is the CLI's side of an upload over HTTP (keep-alive connections on loopback), not a store.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => {
    if (req.method === 'POST') chunks.push(c);
  });
  req.on('end', () => {
    if (req.method === 'POST' && req.url === '/api/presign') {
      const { objects } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { objects: { name: string; sha256?: string }[] };
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const urls = objects.map((o) => ({ name: o.name, url: `${base}/o/${o.name}`, method: 'PUT', headers: o.sha256 ? { 'x-amz-checksum-sha256': o.sha256 } : {} }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ urls }));
      return;
    }
    res.writeHead(req.method === 'PUT' ? 200 : 404);
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
