#include "adapters/bank_1c/bank_1c_adapter.h"

#include <spdlog/spdlog.h>

#include <utility>

#include <nlohmann/json.hpp>

#include "adapters/bank_1c/statement_check.h"
#include "net/hmac.h"

namespace crmhub::adapters::bank_1c {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string Text(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get_ref<const std::string&>() : std::string();
}

// The reason file: what was refused, then one problem per line.
std::string Reason(std::string_view name, std::string_view sha256, const Status& why,
                   SystemTime at) {
  // Appended piece by piece: GCC 12's -Wrestrict misfires at -O3 on
  // replace() and operator+ chains over std::string (GCC bug 105329).
  std::string out;
  out.append("file: ").append(name).append("\nsha256: ").append(sha256);
  out.append("\nrefused at: ").append(FormatRfc3339(at)).append("\n");
  const std::string message = why.message();
  std::string_view rest = message;
  for (size_t p; (p = rest.find("; line ")) != std::string_view::npos;) {
    out.append(rest.substr(0, p)).append("\n");
    rest.remove_prefix(p + 2);
  }
  out.append(rest).append("\n");
  return out;
}

// A file name from an uploader, reduced to what is safe in a folder.
std::string SafeName(std::string_view name) {
  std::string out;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    out += ok ? c : '_';
  }
  while (!out.empty() && out.front() == '.') out.erase(0, 1);
  if (out.size() > 100) out.resize(100);
  return out;
}

}  // namespace

Bank1cAdapter::Bank1cAdapter(Bank1cConfig config, const Clock& clock, MetricsRegistry* metrics)
    : config_(std::move(config)),
      clock_(clock),
      metrics_(metrics),
      inbox_(config_.inbox_dir, config_.done_dir, config_.failed_dir, config_.settle_time, clock) {}

void Bank1cAdapter::Count(std::string_view result) {
  if (metrics_ == nullptr) return;
  metrics_
      ->GetCounter("crmhub_bank_files_total",
                   "1CClientBankExchange files by result (imported, duplicate, failed)",
                   {{"adapter", config_.id}, {"result", std::string(result)}})
      .Inc();
}

std::string Bank1cAdapter::DescribeJson() const {
  return Dump({{"inbox_dir", config_.inbox_dir.string()},
               {"done_dir", config_.done_dir.string()},
               {"failed_dir", config_.failed_dir.string()},
               {"accounts", config_.accounts}});
}

Result<PullResult> Bank1cAdapter::Pull(const std::optional<std::string>& cursor) {
  // The file of the last page whose events are durable: done now.
  if (cursor && !cursor->empty()) {
    size_t space = cursor->find(' ');
    if (space == std::string::npos) {
      return Status::InvalidArgument("bank-1c: unreadable cursor \"" + *cursor + "\"");
    }
    const std::string sha = cursor->substr(0, space);
    if (auto path = inbox_.Find(cursor->substr(space + 1), sha)) {
      if (Status s = inbox_.MarkDone(*path, sha); !s.ok()) return s;
      Count("imported");
      spdlog::info("adapter {}: {} imported", config_.id, path->filename().string());
    }
  }
  auto next = inbox_.Next();
  if (!next.ok()) return next.status();
  PullResult out;
  if (!next->has_value()) return out;
  const InboxFile& file = **next;
  out.more = true;  // no events on this page: the next file at once
  if (inbox_.Imported(file.sha256)) {
    spdlog::info("adapter {}: {} has the bytes of a file imported before; moved to done",
                 config_.id, file.name);
    if (Status s = inbox_.MarkDone(file.path, file.sha256); !s.ok()) return s;
    Count("duplicate");
    return out;
  }
  Result<Statement> st = ReadStatement(file.bytes, config_.accounts);
  if (!st.ok()) {
    spdlog::warn("adapter {}: {} refused: {}", config_.id, file.name, st.status().message());
    if (Status s =
            inbox_.MarkFailed(file.path, Reason(file.name, file.sha256, st.status(), clock_.Now()));
        !s.ok()) {
      return s;
    }
    Count("failed");
    return out;
  }
  for (json& doc : st->documents) {
    InboundEvent e;
    e.idempotency_key = "bank-1c:" + Text(doc, "_status") + ":" + Text(doc, "_id");
    e.ordering_key = Text(doc, "_identity");
    e.kind = "bank_transaction";
    e.headers = {{"file", file.name}, {"file_sha256", file.sha256}};
    e.payload = Dump(doc);
    out.events.push_back(std::move(e));
  }
  if (out.events.empty()) {  // balances only, no movement: nothing to queue
    if (Status s = inbox_.MarkDone(file.path, file.sha256); !s.ok()) return s;
    Count("imported");
    return out;
  }
  out.next_cursor = file.sha256 + " " + file.name;
  out.more = false;  // the file moves once these events are durable (next pull)
  return out;
}

net::HttpResponse Bank1cAdapter::AcceptFile(std::string_view bytes, std::string_view name) {
  const std::string sha = net::Sha256Hex(bytes);
  if (bytes.empty()) return net::HttpResponse::Error(400, "bad_request", "the body is empty");
  if (inbox_.Imported(sha)) {
    return net::HttpResponse::Json(200, Dump({{"sha256", sha}, {"duplicate", true}}));
  }
  Result<Statement> st = ReadStatement(bytes, config_.accounts);
  std::string safe = SafeName(name);
  if (!st.ok()) {
    std::string stored = "upload-" + sha.substr(0, 16) + (safe.empty() ? "" : "-" + safe);
    if (Status s =
            inbox_.StoreFailed(bytes, stored, Reason(stored, sha, st.status(), clock_.Now()));
        !s.ok()) {
      spdlog::error("adapter {}: keeping a refused upload: {}", config_.id, s.ToString());
    }
    Count("failed");
    return net::HttpResponse::Error(422, "invalid_file", st.status().message());
  }
  Result<std::string> stored = inbox_.Store(bytes, "upload-");
  if (!stored.ok()) {
    spdlog::error("adapter {}: storing an upload: {}", config_.id, stored.status().ToString());
    return net::HttpResponse::Error(503, "unavailable", "the file could not be stored");
  }
  return net::HttpResponse::Json(
      202, Dump({{"file", *stored},
                 {"sha256", sha},
                 {"documents", st->documents.size()},
                 {"kind", st->is_statement() ? "statement" : "payment_orders"}}));
}

}  // namespace crmhub::adapters::bank_1c
