// The SQLite engine's factory for the conformance suite: a fresh temp
// directory per test; a reopen opens the same file.

#include <memory>
#include <optional>

#include "queue/sqlite_queue.h"
#include "tests/queue/conformance.h"
#include "tests/queue/test_util.h"

namespace crmhub::queue::testing {
namespace {

class SqliteEngineFactory final : public QueueEngineFactory {
 public:
  std::string Name() const override { return "sqlite"; }
  void SetUp() override { dir_.emplace(); }
  void TearDown() override { dir_.reset(); }
  Result<std::unique_ptr<Queue>> Open(Clock& clock) override {
    SqliteQueueOptions options;
    options.data_dir = dir_->path();
    options.maintenance_interval = std::chrono::milliseconds(0);
    options.jitter = [](int64_t cap) { return cap; };
    auto q = SqliteQueue::Open(clock, std::move(options));
    if (!q.ok()) return q.status();
    return std::unique_ptr<Queue>(std::move(q).value());
  }
  bool RefusesDuplicatesAtEnqueue() const override { return true; }
  Result<bool> CaughtUp(Queue&, const std::string&) override { return true; }
  std::chrono::milliseconds DeliveryWait() const override { return std::chrono::milliseconds(0); }

 private:
  std::optional<TempDir> dir_;
};

}  // namespace

QueueEngineFactory* SqliteFactory() {
  static SqliteEngineFactory factory;
  return &factory;
}

}  // namespace crmhub::queue::testing
