#pragma once
// The queue benchmark behind `crmhub bench queue`: P producers enqueue N
// messages (one message per EnqueueAsync call, a window of them in flight per
// producer, like many concurrent webhook requests), while C consumers lease
// in batches and ack in batches. Durable as in production: every answer
// after an fsync of the WAL (docs/queue.md). See docs/performance.md for the figures.

#include <cstdint>
#include <filesystem>
#include <string>

#include "base/status.h"

namespace crmhub::bench {

struct QueueBenchOptions {
  // "sqlite" or "kafka" (queue::kafka::KafkaQueue; against `brokers`, or a
  // librdkafka mock cluster of 3 brokers in this process when empty).
  std::string engine = "sqlite";
  std::string brokers;
  int64_t messages = 100000;
  int producers = 4;
  int consumers = 4;  // 0: enqueue only (leaves the messages queued)
  int payload_bytes = 512;
  // Empty: a fresh directory under /var/tmp (a real disk), removed afterwards.
  std::filesystem::path data_dir;
  int inflight_per_producer = 256;  // outstanding EnqueueAsync calls
  int lease_batch = 256;            // Lease(max) and AckBatch size
  // SQLite: SqliteQueueOptions::checkpoint_frames (0: checkpoints in the
  // writer's commits).
  int checkpoint_frames = 4096;
};

struct QueueBenchResult {
  int64_t messages = 0;
  double enqueue_seconds = 0;
  double end_to_end_seconds = 0;  // start to the last ack (0 without consumers)
  double enqueue_per_s = 0;
  double end_to_end_per_s = 0;
  double enqueue_p50_us = 0;  // EnqueueAsync call to its durable callback
  double enqueue_p99_us = 0;
  int64_t peak_rss_bytes = 0;
  int64_t db_bytes = 0;                // queue.db + WAL at the end (0 on Kafka)
  int64_t commits = 0;                 // group commits during the run (0 on Kafka)
  int64_t syncs = 0;                   // WAL fsyncs (each covers one or more commits; 0 on Kafka)
  int64_t background_checkpoints = 0;  // WAL checkpoints off the writer thread (0 on Kafka)
  int64_t writer_checkpoints = 0;      // by the writer, at the WAL's cap (0 on Kafka)
  double requests_per_commit = 0;
  double sync_seconds = 0;  // time the flusher spent in WAL fsyncs
  // CPU time of the queue's own threads over the run (Linux: by thread
  // name, read before the queue closes; 0 where absent). Unlike the rates,
  // CPU per message hardly moves with the neighbours' load: it is what
  // before/after pairs compare on a busy machine.
  double writer_cpu_seconds = 0;        // crmhub-qwrite, the serial resource
  double flusher_cpu_seconds = 0;       // crmhub-qsync
  double checkpointer_cpu_seconds = 0;  // crmhub-qckpt
};

Result<QueueBenchResult> RunQueueBench(const QueueBenchOptions& options);

// Human-readable lines, and the one-line JSON form (`--json`).
std::string FormatQueueBenchText(const QueueBenchOptions& options, const QueueBenchResult& r);
std::string FormatQueueBenchJson(const QueueBenchOptions& options, const QueueBenchResult& r);

}  // namespace crmhub::bench
