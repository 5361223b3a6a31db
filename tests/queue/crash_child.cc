// queue_crash_child DATA_DIR RUN: the process the crash test SIGKILLs.
// Enqueues unique keys from two producers and leases/acks from one
// consumer, reporting on stdout, one write(2) per fact so that no line is
// ever torn by the kill:
//   "A key"  after Enqueue answered Accepted (the message is durable)
//   "L key"  after Lease handed the message out
//   "S key"  before the Ack of that lease is submitted
//   "K key"  after the Ack answered OK
// It runs until killed.

#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "queue/sqlite_queue.h"

namespace {

void WriteAll(const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(STDOUT_FILENO, s.data() + off, s.size() - off);
    if (n <= 0) _exit(3);  // the reader is gone
    off += static_cast<size_t>(n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: queue_crash_child DATA_DIR RUN\n");
    return 2;
  }
  using namespace crmhub;
  SystemClock clock;
  queue::SqliteQueueOptions options;
  options.data_dir = argv[1];
  auto opened = queue::SqliteQueue::Open(clock, options);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  queue::SqliteQueue& q = **opened;
  const std::string run = argv[2];

  std::vector<std::thread> threads;
  for (int p = 0; p < 2; ++p) {
    threads.emplace_back([&q, &run, p] {
      for (int n = 0;; ++n) {
        // A few per call, so batches and single messages are both covered.
        std::vector<queue::NewMessage> batch;
        std::vector<std::string> keys;
        for (int i = 0; i < 1 + n % 3; ++i) {
          queue::NewMessage m;
          m.lane = "in.crash";
          m.source = "crash";
          m.idempotency_key = "r" + run + "-p" + std::to_string(p) + "-" + std::to_string(n) + "-" +
                              std::to_string(i);
          m.ordering_key = (n % 5 == 0) ? "ok" + std::to_string(n % 7) : "";
          m.payload = std::string(200, 'p');
          keys.push_back(m.idempotency_key);
          batch.push_back(std::move(m));
        }
        auto r = q.EnqueueBatch(std::move(batch));
        if (!r.ok()) _exit(4);
        std::string out;
        for (size_t i = 0; i < keys.size(); ++i) {
          if ((*r)[i] == queue::EnqueueOutcome::kAccepted) out += "A " + keys[i] + "\n";
        }
        WriteAll(out);
      }
    });
  }
  threads.emplace_back([&q] {
    std::vector<queue::LeaseToken> tokens;
    std::vector<std::string> keys;
    for (;;) {
      auto leased = q.Lease("in.crash", 20, std::chrono::seconds(2));
      if (!leased.ok()) _exit(5);
      if (leased->empty()) {
        std::this_thread::yield();
        continue;
      }
      tokens.clear();
      keys.clear();
      std::string lines, submits;
      for (const auto& l : *leased) {
        tokens.push_back(l.lease);
        keys.push_back(l.message.idempotency_key);
        lines += "L " + l.message.idempotency_key + "\n";
        submits += "S " + l.message.idempotency_key + "\n";
      }
      WriteAll(lines);
      WriteAll(submits);
      auto statuses = q.AckBatch(tokens);
      std::string acked;
      for (size_t i = 0; i < statuses.size(); ++i) {
        if (statuses[i].ok()) acked += "K " + keys[i] + "\n";
      }
      WriteAll(acked);
    }
  });
  for (auto& t : threads) t.join();
  return 0;
}
