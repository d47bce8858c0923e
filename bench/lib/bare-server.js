'use strict';
// The limit for Node itself: a bare node:http server answering GET /metrics with the bytes of a file, or with
// those of a second file, as gzip, when the request accepts gzip.
//
//   node bare-server.js <body file> <content type> [<gzip body file>]
//
// Prints `listening on 127.0.0.1:<port>` once it serves.

const { createServer } = require('node:http');
const { readFileSync } = require('node:fs');

const [bodyFile, contentType, gzipFile] = process.argv.slice(2);
if (!bodyFile || !contentType) {
  process.stderr.write('usage: node bare-server.js <body file> <content type> [<gzip body file>]\n');
  process.exit(2);
}
const body = readFileSync(bodyFile);
const headers = { 'Content-Type': contentType, 'Content-Length': body.length, Vary: 'Accept-Encoding' };
const gzipBody = gzipFile ? readFileSync(gzipFile) : undefined;
const gzipHeaders = gzipBody && { ...headers, 'Content-Length': gzipBody.length, 'Content-Encoding': 'gzip' };

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/metrics') {
    if (gzipBody && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) response.writeHead(200, gzipHeaders).end(gzipBody);
    else response.writeHead(200, headers).end(body);
  } else {
    response.writeHead(404).end();
  }
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening on 127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
