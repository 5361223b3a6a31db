// The reference receiver (bench/reference.sh): a Node.js webhook
// endpoint that checks an HMAC-SHA256 signature over the raw body in constant
// time, parses the JSON, adds the event to a BullMQ queue with its
// Idempotency-Key as the job id, and answers 200 once Redis has acknowledged
// the add. Redis runs with appendfsync always, so the answer comes after the
// AOF fsync: the same promise crmhub's intake makes.
'use strict';
const http = require('http');
const crypto = require('crypto');
const { Queue } = require('bullmq');

const [port, redisPort, keyFile] = process.argv.slice(2);
const key = require('fs').readFileSync(keyFile, 'utf8').trim();
const queue = new Queue('hooks', { connection: { host: '127.0.0.1', port: Number(redisPort) } });

function answer(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(body);
}

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    const want = Buffer.from(crypto.createHmac('sha256', key).update(body).digest('hex'));
    const got = Buffer.from(String(req.headers['x-signature'] || ''));
    if (got.length !== want.length || !crypto.timingSafeEqual(got, want)) {
      return answer(res, 401, '{"error":"unauthorized"}');
    }
    let payload;
    try {
      payload = JSON.parse(body);
    } catch (e) {
      return answer(res, 400, '{"error":"bad_request"}');
    }
    const id = req.headers['idempotency-key'];
    if (!id) return answer(res, 400, '{"error":"bad_request"}');
    try {
      await queue.add('hook', payload, { jobId: String(id) });
      answer(res, 200, '{"status":"accepted"}');
    } catch (e) {
      answer(res, 503, '{"error":"unavailable"}');
    }
  });
}).listen(Number(port), '127.0.0.1', () => console.log('listening'));
