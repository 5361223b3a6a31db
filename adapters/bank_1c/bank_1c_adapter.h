#pragma once
// The `bank-1c` adapter: 1CClientBankExchange files (bank statements and
// payment orders, contracts/banks/README.md §1) from a watched inbox folder
// and from uploads on the admin API (POST /api/v1/adapters/{id}/files).
// docs/adapters/bank-1c.md is the operator's page.
//
// A pull takes one file, the oldest settled one in inbox_dir:
//   * read whole, hashed (SHA-256), parsed and checked (statement_check.h);
//     a file that fails any check moves to failed_dir with the problems and
//     their line numbers beside it, and nothing of it is queued;
//   * a file whose bytes were imported before moves to done_dir unqueued;
//   * otherwise every document becomes one event, keyed by its dedup
//     identity and occurrence (statement_parser.h "_id") and by whether it
//     is booked money or a prepared payment order, and the page's cursor
//     names the file ("<sha256> <name>").
// The file moves to done_dir only on the next pull, when the runtime hands
// back that cursor: the cursor passed to Pull is past durable events only
// (daemon/pull_ahead.h), so a crash at any point either re-reads the file
// (its events are duplicates, dropped by the queue's dedup) or finds it
// done; nothing is lost or doubled. A page with events therefore says
// `more = false`; one without (a refused or repeated file) `more = true`.
//
// Threading: Pull runs on the adapter's source thread; AcceptFile on the
// admin API's blocking pool. They share only the folders: an upload is
// written under a '.'-name and renamed, which a pull never reads half-done.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "adapters/adapter.h"
#include "adapters/bank_1c/bank_1c_inbox.h"
#include "base/metrics.h"

namespace crmhub::adapters::bank_1c {

struct Bank1cConfig {
  std::string id;
  std::filesystem::path inbox_dir;
  std::filesystem::path done_dir;
  std::filesystem::path failed_dir;
  // The company's accounts; empty: any. A file about another account is refused.
  std::vector<std::string> accounts;
  std::chrono::milliseconds poll_interval{std::chrono::seconds(10)};
  Duration settle_time = std::chrono::seconds(2);
};

class Bank1cAdapter final : public Adapter, public SourceCapability, public FileCapability {
 public:
  // `metrics` may be null (no counters then). REQUIRES: Prepare() before use.
  Bank1cAdapter(Bank1cConfig config, const Clock& clock, MetricsRegistry* metrics);

  // Creates the folders.
  Status Prepare() const { return inbox_.Prepare(); }

  const std::string& id() const override { return config_.id; }
  std::string_view type() const override { return "bank-1c"; }
  SourceCapability* source() override { return this; }
  FileCapability* files() override { return this; }
  std::string DescribeJson() const override;

  Result<PullResult> Pull(const std::optional<std::string>& cursor) override;
  std::chrono::milliseconds poll_interval() const override { return config_.poll_interval; }

  // Checks the file at once: a file that fails is kept in failed_dir and
  // answered 422 with its problems; one imported before is answered 200
  // {"duplicate": true}; else it is stored in inbox_dir (202 {"file",
  // "sha256", "documents", "kind"}) for the next pull.
  net::HttpResponse AcceptFile(std::string_view bytes, std::string_view name) override;

 private:
  void Count(std::string_view result);

  const Bank1cConfig config_;
  const Clock& clock_;
  MetricsRegistry* metrics_;
  Inbox inbox_;
};

// The `bank-1c` type: config keys and factory (bank_1c_type.cc).
AdapterType Type();

}  // namespace crmhub::adapters::bank_1c
