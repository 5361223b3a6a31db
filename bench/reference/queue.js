// The BullMQ side of `crmhub bench queue` (bench/compare.sh): the same shape
// of work on the peer, measured the same way.
//
//   node queue.js REDIS_PORT [MESSAGES] [PRODUCERS] [CONSUMERS] [PAYLOAD_BYTES]
//
// P producers each keep up to 256 adds in flight (crmhub bench queue's
// --inflight), adding MESSAGES jobs in all with a 512-byte payload and a
// unique job id (the idempotency key); C workers, each on its own Redis
// connection, take the jobs and complete them with a no-op processor
// (removeOnComplete: the job is deleted, as crmhub's ack deletes the
// message). Redis runs with appendfsync always (compare.sh checks), so every
// add and every completion is fsync'd before Redis answers. Prints one JSON
// line: enqueue_per_s (first add to last add answered) and end_to_end_per_s
// (first add to last completion).
'use strict';
const { Queue, Worker } = require('bullmq');

const [redisPort, messagesArg, producersArg, consumersArg, bytesArg] = process.argv.slice(2);
const messages = Number(messagesArg || 50000);
const producers = Number(producersArg || 4);
const consumers = Number(consumersArg || 4);
const payload = 'x'.repeat(Number(bytesArg || 512));
const connection = { host: '127.0.0.1', port: Number(redisPort) };
const name = 'bench-' + process.pid;
const inflight = 256;

async function main() {
  let completed = 0;
  let lastCompletion = 0;
  let done;
  const finished = new Promise((resolve) => { done = resolve; });
  const workers = [];
  for (let c = 0; c < consumers; ++c) {
    const w = new Worker(name, async () => {}, {
      connection, concurrency: 64, removeOnComplete: { count: 0 }, removeOnFail: { count: 0 },
    });
    w.on('completed', () => {
      completed += 1;
      if (completed === messages) {
        lastCompletion = process.hrtime.bigint();
        done();
      }
    });
    workers.push(w);
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));

  const start = process.hrtime.bigint();
  let lastAdd = start;
  async function producer(p) {
    const queue = new Queue(name, { connection });
    const pending = new Set();
    for (let i = p; i < messages; i += producers) {
      const add = queue.add('m', { payload }, { jobId: 'm-' + i, removeOnComplete: true })
        .then(() => { lastAdd = process.hrtime.bigint(); pending.delete(add); });
      pending.add(add);
      if (pending.size >= inflight) await Promise.race(pending);
    }
    await Promise.all(pending);
    return queue;
  }
  const queues = await Promise.all([...Array(producers).keys()].map(producer));
  await finished;
  const s = (t) => Number(t - start) / 1e9;
  console.log(JSON.stringify({
    bench: 'bullmq_queue', messages, producers, consumers, payload_bytes: payload.length,
    enqueue_per_s: Math.round(messages / s(lastAdd)),
    end_to_end_per_s: Math.round(messages / s(lastCompletion)),
  }));
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(queues.map((q) => q.close()));
}

main().catch((e) => { console.error(e); process.exit(1); });
