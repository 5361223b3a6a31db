#include "adapters/onec_exchange/onec_exchange_adapter.h"

#include <fmt/format.h>

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

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return std::move(buf).str();
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
    } else {
      e.kind = "onec_import";
      e.idempotency_key = fmt::format("onec:{}:{}:import", session, filename);
      e.payload = filename;
    }
    result.events.push_back(std::move(e));
    result.accepted = Text("success\n");
    return result;
  }
  if (type == "sale" && mode == "query") {
    // Read on the I/O thread: a few small files, at most kMaxQueryOrders.
    Result<std::vector<PendingOrder>> pending = outbox_.Pending(kMaxQueryOrders);
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
  const fs::path unzipped = dir / "unzipped";
  Result<bool> joined = JoinParts(dir, filename);
  if (!joined.ok()) return {DeliveryOutcome::Retry(joined.status().message()), {}};
  std::vector<std::string> xml_files;  // under dir or unzipped, in import order
  fs::path from = dir;
  if (*joined && LooksLikeZip(Head(dir / filename))) {
    Result<std::vector<std::string>> names = ExtractXmlEntries(dir / filename, unzipped);
    if (!names.ok()) {
      return {DeliveryOutcome::Fail("onec-exchange: " + filename + ": " + names.status().message()),
              {}};
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
        if (!staged.ok()) return {DeliveryOutcome::Retry(staged.status().message()), {}};
        Result<std::vector<std::string>> names = ExtractXmlEntries(dir / archive, unzipped);
        if (!names.ok()) {
          return {
              DeliveryOutcome::Fail("onec-exchange: " + archive + ": " + names.status().message()),
              {}};
        }
      }
    }
    if (!fs::exists(unzipped / filename)) {
      return {DeliveryOutcome::Fail("onec-exchange: import of " + filename +
                                    ", which no mode=file sent (nor an archive of this session)"),
              {}};
    }
    xml_files = {filename};
    from = unzipped;
  }
  std::stable_sort(
      xml_files.begin(), xml_files.end(),
      [](const std::string& a, const std::string& b) { return FileRank(a) < FileRank(b); });
  std::vector<InboundEvent> events;
  for (const std::string& name : xml_files) {
    DeliveryOutcome outcome = ImportXml(hint, name, ReadAll(from / name), events);
    if (!outcome.ok()) return {std::move(outcome), {}};
  }
  return {DeliveryOutcome::Ok(), std::move(events)};
}

DeliveryOutcome OnecExchangeAdapter::ImportXml(const Hint& hint, const std::string& filename,
                                               std::string_view xml,
                                               std::vector<InboundEvent>& events) {
  Result<CatalogFile> file = ParseCatalogFile(xml);
  if (!file.ok()) {
    return DeliveryOutcome::Fail("onec-exchange: " + filename + ": " + file.status().message());
  }
  auto add = [&](const json& record, const char* kind) {
    const std::string id(JsonString(record, "Ид").value_or(""));
    if (id.empty()) return;
    const std::string text = Dump(record);
    InboundEvent e;
    e.kind = kind;
    e.idempotency_key = fmt::format("onec:{}:{}:{}", kind, id, net::Sha256Hex(text).substr(0, 16));
    e.ordering_key = id;
    e.headers = {{"onec_file", filename}};
    e.payload = text;
    events.push_back(std::move(e));
  };
  if (file->kind == "import" && !file->only_changes && !file->products.empty()) {
    // A full catalogue: what the last full one had and this one does not
    // mention is deactivated (its last record, marked deleted), never
    // removed; more than max_deactivate_percent of it is refused instead.
    Result<std::vector<json>> absent = Deactivations(hint, file->products);
    if (!absent.ok()) return DeliveryOutcome::Fail(absent.status().message());
    for (const json& p : *absent) add(p, "onec_product");
  }
  for (const json& p : file->products) add(p, "onec_product");
  for (const json& o : file->offers) add(o, "onec_offer");
  for (const json& o : file->orders) {
    // What crmhub writes from 1C, remembered: the CRM's copy of it coming
    // back as export_order is an echo, not sent to 1C again.
    const std::string id(JsonString(o, "Ид").value_or(""));
    if (!id.empty()) {
      if (Status s = outbox_.Remember1c(id, DocumentFingerprint(o)); !s.ok()) {
        return DeliveryOutcome::Retry(s.message());
      }
    }
    add(o, "onec_order");
  }
  return DeliveryOutcome::Ok();
}

// The catalogue's state: staging_dir/catalogues/<hash of Каталог/Ид>.json
// holds the records of the last full import applied ({"hint", "records":
// {Ид: record}}); a full import writes its own as ...next.json, promoted
// when the next import comes (the hints of an exchange run one after the
// other, so by then this one is settled). A retry of the same hint finds its
// own next.json and ignores it: it compares with the same known state again.
Result<std::vector<json>> OnecExchangeAdapter::Deactivations(const Hint& hint,
                                                             const std::vector<json>& products) {
  const std::string catalog(JsonString(products.front(), "_catalog").value_or(""));
  const fs::path dir = config_.staging_dir / "catalogues";
  std::error_code ec;
  fs::create_directories(dir, ec);
  const std::string name = net::Sha256Hex(catalog).substr(0, 16);
  const fs::path known_path = dir / (name + ".json");
  const fs::path next_path = dir / (name + ".next.json");
  if (fs::exists(next_path)) {
    Result<json> next = ParseJson(ReadAll(next_path));
    if (next.ok() && JsonString(*next, "hint").value_or("") != hint.key) {
      fs::rename(next_path, known_path, ec);  // the previous import, settled
    }
  }
  json known = json::object();
  if (fs::exists(known_path)) {
    Result<json> read = ParseJson(ReadAll(known_path));
    if (read.ok()) {
      if (const json* records = JsonObject(*read, "records")) known = *records;
    }
  }
  std::set<std::string> present;
  json now = json::object();
  for (const json& p : products) {
    const std::string id(JsonString(p, "Ид").value_or(""));
    if (id.empty()) continue;
    present.insert(id);
    now[id] = p;
  }
  std::vector<json> out;
  for (const auto& [id, record] : known.items()) {
    if (present.count(id) > 0 || !record.is_object()) continue;
    json deactivated = record;
    deactivated["_deleted"] = true;
    deactivated["_absent"] = true;
    out.push_back(std::move(deactivated));
  }
  if (!known.empty() &&
      out.size() * 100 > known.size() * static_cast<size_t>(config_.max_deactivate_percent)) {
    return Status::FailedPrecondition(fmt::format(
        "onec-exchange: the full catalogue {} would deactivate {} of the {} goods of the last one "
        "(more than max_deactivate_percent = {}): refused, nothing of it applied (a partial "
        "upload?). If it is meant, raise the limit and replay this dead letter.",
        hint.payload, out.size(), known.size(), config_.max_deactivate_percent));
  }
  if (!WriteAll(next_path, Dump(json{{"hint", hint.key}, {"records", std::move(now)}}))) {
    return Status::Unavailable("onec-exchange: writing " + next_path.string());
  }
  return out;
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
    out.push_back(DeliveryOutcome::Ok());
  }
  return out;
}

}  // namespace crmhub::adapters::onec_exchange
