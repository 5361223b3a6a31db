#include "adapters/onec_exchange/onec_exchange_adapter.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <random>
#include <sstream>

#include "adapters/onec_exchange/commerceml_parser.h"
#include "adapters/onec_exchange/commerceml_writer.h"
#include "adapters/onec_exchange/zip_archive.h"
#include "base/json_get.h"
#include "net/hmac.h"

namespace crmhub::adapters::onec_exchange {
namespace fs = std::filesystem;

namespace {

using nlohmann::json;

constexpr std::string_view kCookie = "crmhub_1c";
constexpr std::string_view kOrdering = "onec-exchange";
// Orders answered to one mode=query; the rest wait for the next.
constexpr size_t kMaxQueryOrders = 500;

net::HttpResponse Text(std::string body) {
  net::HttpResponse r = net::HttpResponse::Text(200, std::move(body));
  r.headers.Set("Content-Type", "text/plain; charset=utf-8");
  return r;
}

std::string NewSession() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}{:08x}{:08x}", rd(), rd(), rd(), rd());
}

// The session named by the request's Cookie header, or "".
std::string SessionOf(const net::HttpRequest& request) {
  std::string_view cookies = request.headers.Get("Cookie").value_or("");
  while (!cookies.empty()) {
    size_t semi = cookies.find(';');
    std::string_view pair = cookies.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.starts_with(kCookie) && pair.size() > kCookie.size() && pair[kCookie.size()] == '=') {
      return std::string(pair.substr(kCookie.size() + 1));
    }
    if (semi == std::string_view::npos) break;
    cookies.remove_prefix(semi + 1);
  }
  return "";
}

// A file name 1C may use: no folders, no dot files (import0_1.xml; 1C's
// "import_files/..." images are refused as such).
bool SafeFileName(std::string_view name) {
  if (name.empty() || name.size() > 200 || name.front() == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string Header(const Hint& hint, std::string_view name) {
  return std::string(HeaderValue(hint.headers, name));
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Records queued per onec_import_batch hint: the memory of one resolve step.
constexpr size_t kImportBatch = 500;
constexpr std::string_view kImportStateSuffix = ".import.json";
constexpr std::string_view kRecordsSuffix = ".records";

struct ImportState {
  std::string state;  // "" (not staged yet), "staged", "done" or "failed"
  std::string error;
  int64_t records = 0;
  int64_t queued = 0;
};

ImportState ReadImportState(const fs::path& path) {
  ImportState out;
  std::ifstream in(path, std::ios::binary);
  if (!in) return out;
  std::ostringstream buf;
  buf << in.rdbuf();
  Result<json> j = ParseJson(buf.str());
  if (!j.ok() || !j->is_object()) return out;
  out.state = std::string(JsonString(*j, "state").value_or(""));
  out.error = std::string(JsonString(*j, "error").value_or(""));
  out.records = JsonInt(*j, "records").value_or(0);
  out.queued = JsonInt(*j, "queued").value_or(0);
  return out;
}

bool WriteAll(const fs::path& path, const std::string& bytes) {
  const fs::path temp = path.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return false;
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  return !ec;
}

bool WriteImportState(const fs::path& path, const ImportState& state) {
  return WriteAll(path, Dump(json{{"state", state.state},
                                  {"error", state.error},
                                  {"records", state.records},
                                  {"queued", state.queued}}));
}

}  // namespace

Result<WebhookResult> OnecExchangeAdapter::HandleWebhook(const net::HttpRequest& request) {
  const std::string type = request.QueryParam("type").value_or("");
  const std::string mode = request.QueryParam("mode").value_or("");
  if (type != "catalog" && type != "sale") {
    return Status::InvalidArgument("type must be catalog or sale");
  }
  WebhookResult result;
  if (mode == "checkauth") {
    std::string_view auth = request.headers.Get("Authorization").value_or("");
    bool ok = false;
    if (auth.starts_with("Basic ")) {
      Result<std::string> decoded = net::Base64Decode(auth.substr(6));
      if (decoded.ok()) {
        size_t colon = decoded->find(':');
        ok = colon != std::string::npos &&
             ConstantTimeEquals(decoded->substr(0, colon), config_.user) &&
             config_.password.Matches(std::string_view(*decoded).substr(colon + 1));
      }
    }
    if (!ok) return Status::Unauthenticated("failure\nwrong user or password");
    const std::string session = NewSession();
    {
      std::lock_guard lock(mu_);
      sessions_.insert(session);
    }
    result.accepted = Text(fmt::format("success\n{}\n{}\n", kCookie, session));
    // Each exchange begins with a sweep of what old ones left (one a
    // session: its key is the session's).
    InboundEvent sweep;
    sweep.kind = "onec_cleanup";
    sweep.ordering_key = std::string(kOrdering);
    sweep.resolve = true;
    sweep.idempotency_key = fmt::format("onec:{}:cleanup", session);
    sweep.headers = {{"session", session}};
    result.events.push_back(std::move(sweep));
    return result;
  }
  const std::string session = SessionOf(request);
  {
    std::lock_guard lock(mu_);
    if (session.empty() || sessions_.count(session) == 0) {
      return Status::Unauthenticated("failure\nno session: call mode=checkauth first");
    }
  }
  if (mode == "init") {
    result.accepted = Text(
        fmt::format("zip={}\nfile_limit={}\n", config_.zip ? "yes" : "no", config_.file_limit));
    return result;
  }
  if (mode == "file" || mode == "import") {
    const std::string filename = request.QueryParam("filename").value_or("");
    if (!SafeFileName(filename)) return Status::InvalidArgument("failure\nbad filename");
    InboundEvent e;
    e.ordering_key = std::string(kOrdering);
    e.resolve = true;
    e.headers = {{"session", session}, {"filename", filename}, {"exchange", type}};
    if (mode == "file") {
      int part = 0;
      {
        std::lock_guard lock(mu_);
        part = ++chunks_[session + "/" + filename];
      }
      e.kind = "onec_file_chunk";
      e.idempotency_key = fmt::format("onec:{}:{}:part{}", session, filename, part);
      e.headers.push_back({"part", std::to_string(part)});
      e.payload = request.body;
      result.events.push_back(std::move(e));
      result.accepted = Text("success\n");
      return result;
    }
    // import: staged, then applied in batches in the background; 1C asks
    // again while the answer is "progress" (the protocol's own loop).
    const ImportState state = ReadImportState(config_.staging_dir / session /
                                              (filename + std::string(kImportStateSuffix)));
    if (state.state == "done") {
      result.accepted = Text("success\n");
      return result;
    }
    if (state.state == "failed") {
      result.accepted = Text("failure\n" + state.error + "\n");
      return result;
    }
    e.kind = "onec_import";
    e.idempotency_key = fmt::format("onec:{}:{}:import", session, filename);
    e.payload = filename;
    result.events.push_back(std::move(e));
    result.accepted =
        Text(state.state == "staged"
                 ? fmt::format("progress\n{} of {} records queued\n", state.queued, state.records)
                 : std::string("progress\nstaging\n"));
    return result;
  }
  if (type == "sale" && mode == "query") {
    // Read on the I/O thread: a few small files, at most kMaxQueryOrders.
    int stale = 0;
    Result<std::vector<PendingOrder>> pending = outbox_.Pending(kMaxQueryOrders, &stale);
    if (stale_not_sent_ != nullptr) stale_not_sent_->Inc(static_cast<double>(stale));
    if (!pending.ok()) return Status::Unavailable("failure\n" + pending.status().message());
    std::vector<json> orders;
    for (const PendingOrder& p : *pending) orders.push_back(p.order);
    net::HttpResponse r = net::HttpResponse::Text(200, OrdersDocument(orders, clock_.Now()));
    r.headers.Set("Content-Type", "application/xml; charset=utf-8");
    {
      std::lock_guard lock(mu_);
      queried_[session] = std::move(*pending);
    }
    result.accepted = std::move(r);
    return result;
  }
  if (type == "sale" && mode == "success") {
    std::vector<PendingOrder> sent;
    {
      std::lock_guard lock(mu_);
      auto it = queried_.find(session);
      if (it != queried_.end()) {
        sent = std::move(it->second);
        queried_.erase(it);
      }
    }
    Result<int> confirmed = outbox_.Confirm(sent);
    if (!confirmed.ok()) return Status::Unavailable("failure\n" + confirmed.status().message());
    result.accepted = Text("success\n");
    return result;
  }
  if (mode == "success" || mode == "deactivate" || mode == "complete") {
    result.accepted = Text("success\n");
    return result;
  }
  return Status::InvalidArgument("failure\nunknown mode");
}

ResolveResult OnecExchangeAdapter::Resolve(const Hint& hint) {
  if (hint.kind == "onec_file_chunk") return WriteChunk(hint);
  if (hint.kind == "onec_import") return Import(hint);
  if (hint.kind == "onec_import_batch") return ApplyBatch(hint);
  if (hint.kind == "onec_import_done") return FinishImport(hint);
  if (hint.kind == "onec_cleanup") return Cleanup(hint);
  return {DeliveryOutcome::Fail("onec-exchange: unknown hint " + hint.kind), {}};
}

ResolveResult OnecExchangeAdapter::WriteChunk(const Hint& hint) {
  const fs::path dir = config_.staging_dir / Header(hint, "session");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return {DeliveryOutcome::Retry("onec-exchange: staging: " + ec.message()), {}};
  const std::optional<int64_t> part = ParseDecimalInt(Header(hint, "part"));
  if (!part || *part < 1 || !SafeFileName(Header(hint, "filename"))) {
    return {DeliveryOutcome::Fail("onec-exchange: a chunk without its file name or part"), {}};
  }
  const fs::path target = dir / fmt::format("{}.part{:06}", Header(hint, "filename"), *part);
  const fs::path temp = target.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(hint.payload.data(), static_cast<std::streamsize>(hint.payload.size()));
    out.flush();
    if (!out) return {DeliveryOutcome::Retry("onec-exchange: writing " + temp.string()), {}};
  }
  fs::rename(temp, target, ec);
  if (ec) return {DeliveryOutcome::Retry("onec-exchange: " + ec.message()), {}};
  return {DeliveryOutcome::Ok(), {}};
}

namespace {

// Joins the staged parts of `filename` into dir/<filename> (streamed to a
// temporary file, then renamed: a retry rebuilds it whole). False when no
// part 1 was staged.
Result<bool> JoinParts(const fs::path& dir, const std::string& filename) {
  const fs::path target = dir / filename;
  const fs::path temp = target.string() + ".join";
  std::ofstream out;
  int part = 1;
  for (;; ++part) {
    std::ifstream in(dir / fmt::format("{}.part{:06}", filename, part), std::ios::binary);
    if (!in) break;
    if (part == 1) out.open(temp, std::ios::binary | std::ios::trunc);
    out << in.rdbuf();
    if (!out) return Status::Unavailable("onec-exchange: writing " + temp.string());
  }
  if (part == 1) return false;
  out.flush();
  if (!out) return Status::Unavailable("onec-exchange: writing " + temp.string());
  out.close();
  std::error_code ec;
  fs::rename(temp, target, ec);
  if (ec) return Status::Unavailable("onec-exchange: " + ec.message());
  return true;
}

std::string Head(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char buf[4] = {};
  in.read(buf, sizeof buf);
  return std::string(buf, static_cast<size_t>(in.gcount()));
}

// import* before offers* before the rest (goods before their prices), by
// name within each.
int FileRank(const std::string& name) {
  if (name.starts_with("import")) return 0;
  if (name.starts_with("offers")) return 1;
  return 2;
}

}  // namespace

ResolveResult OnecExchangeAdapter::Import(const Hint& hint) {
  const std::string filename = hint.payload;
  const fs::path dir = config_.staging_dir / Header(hint, "session");
  const fs::path state_path = dir / (filename + std::string(kImportStateSuffix));
  const fs::path records_path = dir / (filename + std::string(kRecordsSuffix));
  ImportState state = ReadImportState(state_path);
  if (state.state == "done" || state.state == "failed") return {DeliveryOutcome::Ok(), {}};
  if (state.state != "staged" || !fs::exists(records_path)) {
    // Staging a big file can outlast the hint's lease, and the hint then
    // comes again on another worker while the first still reads: that one
    // waits (a retry) rather than staging the same file beside it.
    const std::string staging_key = Header(hint, "session") + "/" + filename;
    {
      std::lock_guard lock(mu_);
      if (!staging_.insert(staging_key).second) {
        return {DeliveryOutcome::Retry("onec-exchange: " + filename + " is being staged"), {}};
      }
    }
    struct Done {
      OnecExchangeAdapter& adapter;
      const std::string& key;
      ~Done() {
        std::lock_guard lock(adapter.mu_);
        adapter.staging_.erase(key);
      }
    } done{*this, staging_key};
    Result<int64_t> staged = Stage(hint, dir, records_path);
    if (!staged.ok()) {
      if (staged.status().code() == StatusCode::kUnavailable) {
        return {DeliveryOutcome::Retry(staged.status().message()), {}};
      }
      // Refused: 1C's next mode=import hears why; the hint is dead-lettered.
      state.state = "failed";
      state.error = staged.status().message();
      WriteImportState(state_path, state);
      return {DeliveryOutcome::Fail(staged.status().message()), {}};
    }
    state = ImportState{.state = "staged", .error = "", .records = *staged, .queued = 0};
    if (!WriteImportState(state_path, state)) {
      return {DeliveryOutcome::Retry("onec-exchange: writing " + state_path.string()), {}};
    }
  }
  return {DeliveryOutcome::Ok(), {ImportHint(hint, "onec_import_batch", 0)}};
}

InboundEvent OnecExchangeAdapter::ImportHint(const Hint& hint, std::string_view kind,
                                             int64_t offset) const {
  InboundEvent e;
  e.kind = std::string(kind);
  e.ordering_key = std::string(kOrdering);
  e.resolve = true;
  e.headers = {{"session", Header(hint, "session")},
               {"filename", Header(hint, "filename")},
               {"exchange", Header(hint, "exchange")},
               {"offset", std::to_string(offset)}};
  const std::string filename = Header(hint, "filename");
  e.idempotency_key =
      fmt::format("onec:{}:{}:{}:{}", Header(hint, "session"), filename, kind, offset);
  e.payload = filename;
  return e;
}

Result<int64_t> OnecExchangeAdapter::Stage(const Hint& hint, const fs::path& dir,
                                           const fs::path& records_path) {
  const std::string filename = hint.payload;
  const fs::path unzipped = dir / "unzipped";
  Result<bool> joined = JoinParts(dir, filename);
  if (!joined.ok()) return joined.status();
  std::vector<std::string> xml_files;  // under dir or unzipped, in import order
  fs::path from = dir;
  if (*joined && LooksLikeZip(Head(dir / filename))) {
    Result<std::vector<std::string>> names = ExtractXmlEntries(dir / filename, unzipped);
    if (!names.ok()) {
      return Status::InvalidArgument("onec-exchange: " + filename + ": " +
                                     names.status().message());
    }
    xml_files = *names;
    from = unzipped;
  } else if (*joined) {
    xml_files = {filename};
  } else {
    // Not uploaded under its own name: an entry of an archive of this
    // session (1C sends the archive, then asks for each file in it).
    if (!fs::exists(unzipped / filename)) {
      std::error_code ec;
      for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!name.ends_with(".part000001")) continue;
        const std::string archive = name.substr(0, name.size() - 11);
        if (!LooksLikeZip(Head(it->path()))) continue;
        Result<bool> staged = JoinParts(dir, archive);
        if (!staged.ok()) return staged.status();
        Result<std::vector<std::string>> names = ExtractXmlEntries(dir / archive, unzipped);
        if (!names.ok()) {
          return Status::InvalidArgument("onec-exchange: " + archive + ": " +
                                         names.status().message());
        }
      }
    }
    if (!fs::exists(unzipped / filename)) {
      return Status::InvalidArgument("onec-exchange: import of " + filename +
                                     ", which no mode=file sent (nor an archive of this session)");
    }
    xml_files = {filename};
    from = unzipped;
  }
  std::stable_sort(
      xml_files.begin(), xml_files.end(),
      [](const std::string& a, const std::string& b) { return FileRank(a) < FileRank(b); });
  const fs::path temp = records_path.string() + ".tmp";
  std::ofstream records(temp, std::ios::binary | std::ios::trunc);
  int64_t count = 0;
  for (const std::string& name : xml_files) {
    if (Status s = StageXml(hint, name, from / name, records, count); !s.ok()) return s;
  }
  records.flush();
  if (!records) return Status::Unavailable("onec-exchange: writing " + temp.string());
  records.close();
  std::error_code ec;
  fs::rename(temp, records_path, ec);
  if (ec) return Status::Unavailable("onec-exchange: " + ec.message());
  return count;
}

namespace {

std::string_view EventKind(RecordKind kind) {
  switch (kind) {
    case RecordKind::kProduct:
      return "onec_product";
    case RecordKind::kOffer:
      return "onec_offer";
    case RecordKind::kOrder:
      return "onec_order";
  }
  return "onec_product";
}

// One staged record: "<event kind>\t<XML file>\t<record as JSON>\n" (JSON
// escapes every control character, so a record is one line).
void WriteRecordLine(std::ofstream& out, std::string_view kind, std::string_view file,
                     std::string_view record) {
  out << kind << '\t' << file << '\t' << record << '\n';
}

}  // namespace

// Streams one XML document into the staged records. A full import*.xml
// (СодержитТолькоИзменения false) deactivates what the last full one had
// and it lacks (the last record, deleted = true; never removed); more than
// max_deactivate_percent of the catalogue is refused instead (a partial
// upload must not empty a shop). The catalogue's state is on disk
// (catalogue_state.h), so memory stays bounded.
Status OnecExchangeAdapter::StageXml(const Hint& hint, const std::string& filename,
                                     const fs::path& path, std::ofstream& records, int64_t& count) {
  std::lock_guard lock(catalogue_mu_);
  bool full = false;
  auto sink = [&](RecordKind kind, json record) -> Status {
    const std::string id(JsonString(record, "Ид").value_or(""));
    if (id.empty()) return Status::Ok();
    const std::string text = Dump(record);
    if (kind == RecordKind::kProduct && !full &&
        !JsonBool(record, "_only_changes").value_or(true)) {
      full = true;
      const std::string catalog(JsonString(record, "_catalog").value_or(""));
      if (Status s = catalogue_.Begin(catalog, hint.key + "/" + filename); !s.ok()) return s;
    }
    if (kind == RecordKind::kProduct && full) {
      if (Status s = catalogue_.Add(id, text); !s.ok()) return s;
    }
    if (kind == RecordKind::kOrder) {
      // What crmhub writes from 1C, remembered: the CRM's copy of it coming
      // back as export_order is an echo, not sent to 1C again.
      if (Status s = outbox_.Remember1c(id, DocumentFingerprint(record)); !s.ok()) {
        return Status::Unavailable(s.message());
      }
    }
    WriteRecordLine(records, EventKind(kind), filename, text);
    ++count;
    return Status::Ok();
  };
  Result<CatalogSummary> summary = StreamCatalogFile(path, sink);
  if (!summary.ok()) {
    if (full) catalogue_.Rollback();
    const Status& s = summary.status();
    if (s.code() == StatusCode::kUnavailable) return s;
    return Status::InvalidArgument("onec-exchange: " + filename + ": " + s.message());
  }
  if (!full) return Status::Ok();
  Result<CatalogueState::Counts> counts = catalogue_.Absent();
  if (!counts.ok()) {
    catalogue_.Rollback();
    return counts.status();
  }
  if (counts->known > 0 &&
      counts->absent * 100 > counts->known * static_cast<int64_t>(config_.max_deactivate_percent)) {
    catalogue_.Rollback();
    return Status::FailedPrecondition(fmt::format(
        "onec-exchange: the full catalogue {} would deactivate {} of the {} goods of the last one "
        "(more than max_deactivate_percent = {}): refused, nothing of it applied (a partial "
        "upload?). If it is meant, raise the limit and replay this dead letter.",
        filename, counts->absent, counts->known, config_.max_deactivate_percent));
  }
  Status each = catalogue_.ForEachAbsent([&](std::string_view text) -> Status {
    Result<json> record = ParseJson(text);
    if (!record.ok() || !record->is_object()) return Status::Ok();
    (*record)["_deleted"] = true;
    (*record)["_absent"] = true;
    WriteRecordLine(records, "onec_product", filename, Dump(*record));
    ++count;
    return Status::Ok();
  });
  if (!each.ok()) {
    catalogue_.Rollback();
    return each;
  }
  return catalogue_.Commit();
}

ResolveResult OnecExchangeAdapter::Cleanup(const Hint& hint) {
  const auto now = clock_.Now();
  const std::string current = Header(hint, "session");
  std::error_code ec;
  int removed = 0;
  for (fs::directory_iterator it(config_.staging_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // Session folders only: 32 hex digits (NewSession); never the
    // catalogue state, the orders or the session that asked.
    if (name.size() != 32 || name == current || !it->is_directory()) continue;
    if (name.find_first_not_of("0123456789abcdef") != std::string::npos) continue;
    // The newest file in it decides: a long import keeps its folder.
    std::error_code walk;
    auto newest = fs::last_write_time(it->path(), walk);
    if (walk) continue;
    for (fs::recursive_directory_iterator f(it->path(), walk), fend; !walk && f != fend;
         f.increment(walk)) {
      std::error_code t;
      newest = std::max(newest, fs::last_write_time(f->path(), t));
    }
    const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(
        now - std::chrono::file_clock::to_sys(newest));
    if (age < config_.staging_retention) continue;
    {
      std::lock_guard lock(mu_);
      sessions_.erase(name);
      queried_.erase(name);
      std::erase_if(chunks_, [&](const auto& c) { return c.first.starts_with(name + "/"); });
    }
    std::error_code rm;
    fs::remove_all(it->path(), rm);
    if (!rm) ++removed;
  }
  Result<int> forgotten =
      outbox_.Forget1c(now, config_.fingerprint_retention, config_.max_fingerprints);
  if (removed > 0 || (forgotten.ok() && *forgotten > 0)) {
    spdlog::info("adapter {}: cleanup removed {} old session folders and {} old fingerprints",
                 config_.id, removed, forgotten.ok() ? *forgotten : 0);
  }
  return {DeliveryOutcome::Ok(), {}};
}

// One bounded batch of the staged records, from the hint's byte offset:
// kImportBatch events, and the hint of the next batch (or of the end).
ResolveResult OnecExchangeAdapter::ApplyBatch(const Hint& hint) {
  const std::string filename = Header(hint, "filename");
  const fs::path dir = config_.staging_dir / Header(hint, "session");
  const std::optional<int64_t> offset = ParseDecimalInt(Header(hint, "offset"));
  if (!offset || *offset < 0 || !SafeFileName(filename)) {
    return {DeliveryOutcome::Fail("onec-exchange: a batch hint without its file or offset"), {}};
  }
  std::ifstream in(dir / (filename + std::string(kRecordsSuffix)), std::ios::binary);
  if (!in) {
    return {
        DeliveryOutcome::Retry("onec-exchange: the staged records of " + filename + " are missing"),
        {}};
  }
  in.seekg(*offset);
  std::vector<InboundEvent> events;
  std::string line;
  int64_t at = *offset;
  while (events.size() < kImportBatch && std::getline(in, line)) {
    at += static_cast<int64_t>(line.size()) + 1;
    const size_t tab1 = line.find('\t');
    const size_t tab2 = tab1 == std::string::npos ? tab1 : line.find('\t', tab1 + 1);
    if (tab2 == std::string::npos) continue;
    const std::string_view view(line);
    const std::string_view payload = view.substr(tab2 + 1);
    Result<json> record = ParseJson(payload);
    if (!record.ok()) continue;
    const std::string id(JsonString(*record, "Ид").value_or(""));
    const std::string kind(view.substr(0, tab1));
    InboundEvent e;
    e.kind = kind;
    e.idempotency_key =
        fmt::format("onec:{}:{}:{}", kind, id, net::Sha256Hex(payload).substr(0, 16));
    e.ordering_key = id;
    e.headers = {{"onec_file", std::string(view.substr(tab1 + 1, tab2 - tab1 - 1))}};
    e.payload = std::string(payload);
    events.push_back(std::move(e));
  }
  const bool more = in.peek() != std::char_traits<char>::eof();
  const ImportState state = ReadImportState(dir / (filename + std::string(kImportStateSuffix)));
  ImportState queued = state;
  queued.queued = state.queued + static_cast<int64_t>(events.size());
  // The count 1C sees with "progress": advisory (a retried batch counts twice).
  WriteImportState(dir / (filename + std::string(kImportStateSuffix)), queued);
  events.push_back(ImportHint(hint, more ? "onec_import_batch" : "onec_import_done", at));
  return {DeliveryOutcome::Ok(), std::move(events)};
}

// Every batch is queued (the hints of an exchange resolve in order): the
// import is done, the staged records go, and 1C's next mode=import hears
// "success".
ResolveResult OnecExchangeAdapter::FinishImport(const Hint& hint) {
  const std::string filename = Header(hint, "filename");
  const fs::path dir = config_.staging_dir / Header(hint, "session");
  if (!SafeFileName(filename)) return {DeliveryOutcome::Fail("onec-exchange: bad file name"), {}};
  const fs::path state_path = dir / (filename + std::string(kImportStateSuffix));
  ImportState state = ReadImportState(state_path);
  state.state = "done";
  if (!WriteImportState(state_path, state)) {
    return {DeliveryOutcome::Retry("onec-exchange: writing " + state_path.string()), {}};
  }
  std::error_code ec;
  fs::remove(dir / (filename + std::string(kRecordsSuffix)), ec);
  return {DeliveryOutcome::Ok(), {}};
}

OnecExchangeAdapter::OnecExchangeAdapter(OnecExchangeConfig config, Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      outbox_(config_.staging_dir / "orders", config_.order_status_stale),
      catalogue_(config_.staging_dir / "catalogues.db") {
  if (config_.metrics != nullptr) {
    auto not_sent = [&](const char* reason) {
      return &config_.metrics->GetCounter(
          "crmhub_onec_orders_not_sent_total",
          "export_order items 1C is not sent: its own order echoed back, or a status older than "
          "the one it last sent",
          {{"adapter", config_.id}, {"reason", reason}});
    };
    echoes_not_sent_ = not_sent("echo");
    stale_not_sent_ = not_sent("stale");
  }
}

std::vector<DeliveryOutcome> OnecExchangeAdapter::Deliver(std::span<const Command> batch) {
  std::vector<DeliveryOutcome> out;
  out.reserve(batch.size());
  for (const Command& c : batch) {
    if (c.name != "export_order") {
      out.push_back(DeliveryOutcome::Fail("onec-exchange: unknown command " + c.name));
      continue;
    }
    Result<json> order = ParseJson(c.payload);
    if (!order.ok() || !order->is_object()) {
      out.push_back(DeliveryOutcome::Fail("onec-exchange: export_order: not a JSON object"));
      continue;
    }
    Result<OrderOutbox::PutResult> put = outbox_.Put(*order);
    if (!put.ok()) {
      out.push_back(put.status().code() == StatusCode::kInvalidArgument
                        ? DeliveryOutcome::Fail("onec-exchange: " + put.status().message())
                        : DeliveryOutcome::Retry(put.status().message()));
      continue;
    }
    Counter* not_sent = *put == OrderOutbox::PutResult::kEcho    ? echoes_not_sent_
                        : *put == OrderOutbox::PutResult::kStale ? stale_not_sent_
                                                                 : nullptr;
    if (not_sent != nullptr) not_sent->Inc();
    out.push_back(DeliveryOutcome::Ok());
  }
  return out;
}

}  // namespace crmhub::adapters::onec_exchange
