'use strict';
// Plain node:http requests, so that the bench controls connections (one keep-alive socket per simulated device).

const http = require('node:http');
const net = require('node:net');

/** Resolves with {status, headers, body} once the whole answer has arrived (body as text, or bytes with `raw`). */
function request(url, { method = 'GET', headers = {}, body, agent, timeoutMs = 120_000, raw = false } = {}) {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(url, { method, headers, agent, timeout: timeoutMs }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, body: raw ? Buffer.concat(chunks) : Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs / 1000} s`)));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** Like `request`, but anything other than `expected` is an error naming the request and the answer. */
async function expectStatus(expected, url, options = {}) {
  return checkStatus(expected, await request(url, options), url, options);
}

/** `response` when its status is `expected` (one or a list); else an error naming the request and the answer. */
function checkStatus(expected, response, url, options = {}) {
  const allowed = Array.isArray(expected) ? expected : [expected];
  if (!allowed.includes(response.status)) {
    throw new Error(`${options.method ?? 'GET'} ${url} answered ${response.status}, not ${allowed.join(' or ')}: ${response.body.slice(0, 300)}`);
  }
  return response;
}

/** A TCP port on 127.0.0.1 that nothing listens on now (for programs that cannot be given port 0). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

module.exports = { request, expectStatus, checkStatus, freePort };
