#include "adapters/onec_exchange/order_outbox.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "base/json_get.h"
#include "net/hmac.h"

namespace crmhub::adapters::onec_exchange {
namespace fs = std::filesystem;

namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Written to a temporary file, fsynced, renamed over `path`, and the folder
// fsynced: after a crash it is the old content or the new, never half.
Status WriteDurably(const fs::path& path, const std::string& bytes) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec)
    return Status::Unavailable("onec-exchange: " + path.parent_path().string() + ": " +
                               ec.message());
  const fs::path temp = path.string() + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Unavailable("onec-exchange: cannot write " + temp.string());
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      ::close(fd);
      return Status::Unavailable("onec-exchange: writing " + temp.string());
    }
    done += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return Status::Unavailable("onec-exchange: fsync " + temp.string());
  fs::rename(temp, path, ec);
  if (ec) return Status::Unavailable("onec-exchange: " + ec.message());
  const int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return Status::Ok();
}

std::optional<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buf;
  buf << in.rdbuf();
  return std::move(buf).str();
}

std::string NameOf(const std::string& order_id) {
  return net::Sha256Hex(order_id).substr(0, 32) + ".json";
}

// A JSON value as the text a fingerprint compares: strings as they are,
// numbers in decimal, anything else empty.
std::string Text(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return "";
}

std::string Money(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  std::optional<int64_t> minor = MinorUnits(it->get<std::string>());
  return minor ? std::to_string(*minor) : "";
}

}  // namespace

std::optional<int64_t> MinorUnits(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  bool negative = false;
  if (!s.empty() && s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  const size_t dot = s.find_first_of(".,");
  const std::string_view whole = s.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? "" : s.substr(dot + 1);
  if (whole.empty() || whole.size() > 15 || frac.size() > 2) return std::nullopt;
  int64_t v = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  int64_t cents = 0;
  for (size_t i = 0; i < 2; ++i) {
    const char c = i < frac.size() ? frac[i] : '0';
    if (c < '0' || c > '9') return std::nullopt;
    cents = cents * 10 + (c - '0');
  }
  v = v * 100 + cents;
  return negative ? -v : v;
}

std::string CanonicalFingerprint(const json& order) {
  std::string out = Text(order, "status") + "|" + Text(order, "total");
  if (const json* lines = JsonArray(order, "lines")) {
    for (const json& l : *lines) {
      if (!l.is_object()) continue;
      out += fmt::format("|{}:{}:{}:{}", Text(l, "sku"), Text(l, "quantity"), Text(l, "price"),
                         Text(l, "total"));
    }
  }
  return out;
}

std::string DocumentFingerprint(const json& document) {
  std::string out = Text(document, "_status") + "|" + Money(document, "Сумма");
  if (const json* lines = JsonArray(document, "Товары")) {
    for (const json& l : *lines) {
      if (!l.is_object()) continue;
      out += fmt::format("|{}:{}:{}:{}", Text(l, "Ид"), Text(l, "_quantity"),
                         Money(l, "ЦенаЗаЕдиницу"), Money(l, "Сумма"));
    }
  }
  return out;
}

fs::path OrderOutbox::PendingPath(const std::string& order_id) const {
  return dir_ / "pending" / NameOf(order_id);
}

fs::path OrderOutbox::From1cPath(const std::string& order_id) const {
  return dir_ / "from1c" / NameOf(order_id);
}

Result<OrderOutbox::PutResult> OrderOutbox::Put(const json& order) {
  const std::string id = Text(order, "order_id");
  if (id.empty() || id.size() > 200) {
    return Status::InvalidArgument("export_order: \"order_id\" (text or number) is required");
  }
  std::lock_guard lock(mu_);
  if (std::optional<std::string> from1c = ReadFile(From1cPath(id))) {
    if (*from1c == CanonicalFingerprint(order)) return PutResult::kEcho;
  }
  if (StaleAgainst1c(id, order)) return PutResult::kStale;
  const std::string text = Dump(order);
  json entry = {
      {"order_id", id}, {"version", net::Sha256Hex(text).substr(0, 16)}, {"order", order}};
  if (Status s = WriteDurably(PendingPath(id), Dump(entry)); !s.ok()) return s;
  return PutResult::kQueued;
}

bool OrderOutbox::StaleAgainst1c(const std::string& order_id, const json& order) const {
  if (!stale_) return false;
  std::optional<std::string> from1c = ReadFile(From1cPath(order_id));
  if (!from1c) return false;
  // The fingerprint starts with the status 1C sent (DocumentFingerprint).
  const std::string held = from1c->substr(0, from1c->find('|'));
  return stale_(held, Text(order, "status"));
}

Result<std::vector<PendingOrder>> OrderOutbox::Pending(size_t limit, int* stale) {
  std::lock_guard lock(mu_);
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir_ / "pending", ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".json") files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  std::vector<PendingOrder> out;
  for (const fs::path& f : files) {
    if (out.size() >= limit) break;
    std::optional<std::string> text = ReadFile(f);
    if (!text) continue;  // confirmed meanwhile
    Result<json> entry = ParseJson(*text);
    if (!entry.ok() || !entry->is_object()) continue;
    const json* order = JsonObject(*entry, "order");
    if (order == nullptr) continue;
    if (StaleAgainst1c(Text(*entry, "order_id"), *order)) {
      std::error_code rm;
      fs::remove(f, rm);  // 1C has a later status: this one never goes
      if (stale != nullptr) ++*stale;
      continue;
    }
    out.push_back({Text(*entry, "order_id"), Text(*entry, "version"), *order});
  }
  return out;
}

Result<int> OrderOutbox::Confirm(const std::vector<PendingOrder>& sent) {
  std::lock_guard lock(mu_);
  int removed = 0;
  for (const PendingOrder& p : sent) {
    const fs::path path = PendingPath(p.order_id);
    std::optional<std::string> text = ReadFile(path);
    if (!text) continue;
    Result<json> entry = ParseJson(*text);
    if (entry.ok() && Text(*entry, "version") != p.version) continue;  // changed since: again
    std::error_code ec;
    if (fs::remove(path, ec)) ++removed;
  }
  return removed;
}

Result<int> OrderOutbox::Forget1c(std::chrono::system_clock::time_point now,
                                  std::chrono::milliseconds retention, size_t max_kept) {
  std::lock_guard lock(mu_);
  std::vector<std::pair<fs::file_time_type, fs::path>> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir_ / "from1c", ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".json") continue;
    std::error_code t;
    files.emplace_back(fs::last_write_time(it->path(), t), it->path());
  }
  std::sort(files.begin(), files.end());  // oldest first
  int removed = 0;
  size_t left = files.size();
  for (const auto& [time, path] : files) {
    const bool expired = now - std::chrono::file_clock::to_sys(time) >= retention;
    if (!expired && left <= max_kept) break;
    std::error_code rm;
    if (fs::remove(path, rm)) ++removed;
    --left;
  }
  return removed;
}

Status OrderOutbox::Remember1c(const std::string& order_id, const std::string& fingerprint) {
  std::lock_guard lock(mu_);
  return WriteDurably(From1cPath(order_id), fingerprint);
}

}  // namespace crmhub::adapters::onec_exchange
