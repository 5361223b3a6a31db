#include "adapters/onec_exchange/onec_exchange_sim.h"

#include <zip.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "base/json_get.h"
#include "net/hmac.h"

namespace crmhub::adapters::onec_exchange {
namespace fs = std::filesystem;

namespace {

std::string Credentials(const simkit::SimOptions& o) {
  return o.credentials.empty() ? "exchange:exchange" : o.credentials.front();
}

std::string Extra(const simkit::SimOptions& o, const std::string& key) {
  auto it = o.extra.find(key);
  return it == o.extra.end() ? std::string() : it->second;
}

std::vector<std::string> Lines(const std::string& body) {
  std::vector<std::string> out;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return std::move(buf).str();
}

// The files packed into one zip archive (deflated), as 1C packs an
// exchange's files when the site answers zip=yes.
Result<std::string> ZipOf(const std::vector<fs::path>& files, const fs::path& scratch) {
  int error = 0;
  zip_t* archive = zip_open(scratch.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  if (archive == nullptr) return Status::Internal("zip_open " + std::to_string(error));
  std::vector<std::string> contents;
  contents.reserve(files.size());  // zip_source_buffer keeps pointers until close
  for (const fs::path& file : files) {
    contents.push_back(ReadFile(file));
    zip_source_t* source =
        zip_source_buffer(archive, contents.back().data(), contents.back().size(), 0);
    if (source == nullptr || zip_file_add(archive, file.filename().c_str(), source,
                                          ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8) < 0) {
      if (source != nullptr) zip_source_free(source);
      std::string why = zip_strerror(archive);
      zip_discard(archive);
      return Status::Internal("zip: " + why);
    }
  }
  if (zip_close(archive) != 0) {
    std::string why = zip_strerror(archive);
    zip_discard(archive);
    return Status::Internal("zip_close: " + why);
  }
  std::string bytes = ReadFile(scratch);
  std::error_code ec;
  fs::remove(scratch, ec);
  return bytes;
}

// The Ид of each Документ of a CommerceML document (the site's answer to
// type=sale&mode=query); an error when it is not one.
Result<std::vector<std::string>> DocumentIds(const std::string& xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) {
    return Status::InvalidArgument("mode=query answered no XML");
  }
  pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != "КоммерческаяИнформация") {
    return Status::InvalidArgument("mode=query answered no КоммерческаяИнформация");
  }
  std::vector<std::string> ids;
  for (pugi::xml_node d : root.children("Документ")) ids.push_back(d.child_value("Ид"));
  return ids;
}

}  // namespace

OnecExchangeSimulator::OnecExchangeSimulator(simkit::SimOptions options, Clock& clock)
    : PipelineSimulator(options.io_threads),
      options_(std::move(options)),
      client_(std::chrono::seconds(60)),
      pipeline_(
          [this] {
            simkit::SimPipeline::Options o = CommonOptions(options_, /*salt=*/0x1c);
            o.dialect.server_header = "onec-sim";
            return o;
          }(),
          clock) {}

OnecExchangeSimulator::~OnecExchangeSimulator() {
  if (runner_.joinable()) runner_.join();
  pipeline_.Stop();
}

Status OnecExchangeSimulator::Start(const std::string& listen) {
  if (Status s = PipelineSimulator::Start(listen); !s.ok()) return s;
  if (Extra(options_, "target").empty()) {
    return Status::InvalidArgument("onec: --target (the site's exchange URL) is required");
  }
  {
    std::lock_guard lock(mu_);
    outcome_ = "running";
  }
  runner_ = std::thread([this] {
    std::string outcome = Run();
    std::lock_guard lock(mu_);
    outcome_ = std::move(outcome);
    done_cv_.notify_all();
  });
  return Status::Ok();
}

void OnecExchangeSimulator::Step(std::string text) {
  std::lock_guard lock(mu_);
  steps_.push_back(std::move(text));
}

std::string OnecExchangeSimulator::Run() {
  const std::string target = Extra(options_, "target");
  const fs::path dir = Extra(options_, "files");
  std::vector<fs::path> catalog, sale;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.ends_with(".xml") && (name.starts_with("import") || name.starts_with("offers"))) {
      catalog.push_back(it->path());
    } else if (name.ends_with(".xml") && name.starts_with("orders")) {
      sale.push_back(it->path());
    }
  }
  std::sort(catalog.begin(), catalog.end());
  std::sort(sale.begin(), sale.end());
  if (catalog.empty() && sale.empty() && Extra(options_, "query") != "yes") {
    return "failed: no import*, offers* or orders* .xml in --files";
  }
  auto call = [&](const std::string& method, const std::string& query, std::string body,
                  const std::string& cookie, bool basic) -> Result<std::string> {
    net::OutboundRequest r;
    r.method = method;
    r.url = target + "?" + query;
    r.body = std::move(body);
    if (basic) r.headers.Set("Authorization", "Basic " + net::Base64Encode(Credentials(options_)));
    if (!cookie.empty()) r.headers.Set("Cookie", cookie);
    if (method == "POST") r.headers.Set("Content-Type", "application/octet-stream");
    Step(method + " " + query);
    net::OutboundResult answer = client_.Send(std::move(r));
    if (!answer.ok()) return answer.status();
    if (answer->status != 200) {
      return Status::Unavailable(query + ": HTTP " + std::to_string(answer->status));
    }
    return answer->body;
  };
  for (const auto& [type, files] :
       {std::pair{std::string("catalog"), catalog}, std::pair{std::string("sale"), sale}}) {
    if (files.empty() && (type == "catalog" || Extra(options_, "query") != "yes")) continue;
    auto auth = call("GET", "type=" + type + "&mode=checkauth", "", "", true);
    if (!auth.ok()) return "failed: " + auth.status().message();
    std::vector<std::string> lines = Lines(*auth);
    if (lines.size() < 3 || lines[0] != "success") return "failed: checkauth answered " + *auth;
    const std::string cookie = lines[1] + "=" + lines[2];
    auto init = call("GET", "type=" + type + "&mode=init", "", cookie, false);
    if (!init.ok()) return "failed: " + init.status().message();
    int64_t limit = 1024 * 1024;
    bool zip = false;
    for (const std::string& l : Lines(*init)) {
      if (l.starts_with("file_limit=")) limit = ParseDecimalInt(l.substr(11)).value_or(limit);
      if (l == "zip=yes") zip = true;
    }
    if (limit < 1) return "failed: file_limit " + std::to_string(limit);
    // What is uploaded: each file as it is, or (zip=yes) one archive of
    // them all; then each file is imported by its own name.
    std::vector<std::pair<std::string, std::string>> uploads;
    if (zip) {
      Result<std::string> packed =
          ZipOf(files, fs::temp_directory_path() /
                           ("onec-sim-" + std::to_string(reinterpret_cast<uintptr_t>(this)) + "-" +
                            type + ".zip"));
      if (!packed.ok()) return "failed: " + packed.status().message();
      uploads.emplace_back(type + ".zip", std::move(*packed));
    } else {
      for (const fs::path& file : files) uploads.emplace_back(file.filename(), ReadFile(file));
    }
    for (const auto& [name, bytes] : uploads) {
      for (size_t at = 0; at < bytes.size(); at += static_cast<size_t>(limit)) {
        auto sent = call("POST", "type=" + type + "&mode=file&filename=" + name,
                         bytes.substr(at, static_cast<size_t>(limit)), cookie, false);
        if (!sent.ok()) return "failed: " + sent.status().message();
        if (!sent->starts_with("success")) return "failed: file " + name + " answered " + *sent;
      }
    }
    for (const fs::path& file : files) {
      const std::string name = file.filename().string();
      for (int round = 0;; ++round) {
        auto imported =
            call("GET", "type=" + type + "&mode=import&filename=" + name, "", cookie, false);
        if (!imported.ok()) return "failed: " + imported.status().message();
        if (imported->starts_with("success")) break;
        if (!imported->starts_with("progress") || round > 100000) {
          return "failed: import " + name + " answered " + *imported;
        }
        // "progress": the site applies the file in the background; 1C asks
        // again a moment later (real 1C waits a few seconds; the simulator
        // keeps the tests short).
        std::this_thread::sleep_for(std::chrono::milliseconds(round < 20 ? 10 : 50));
      }
    }
    if (type == "sale" && Extra(options_, "query") == "yes") {
      // The site's orders for 1C, then (unless told to fail first, as 1C
      // does when its own import of them fails) the confirmation.
      auto query = call("GET", "type=sale&mode=query", "", cookie, false);
      if (!query.ok()) return "failed: " + query.status().message();
      Result<std::vector<std::string>> ids = DocumentIds(*query);
      if (!ids.ok()) return "failed: " + ids.status().message();
      {
        std::lock_guard lock(mu_);
        received_ = *ids;
      }
      if (Extra(options_, "fail_before_success") == "yes") return "done";
    }
    if (type == "sale") {
      auto success = call("GET", "type=sale&mode=success", "", cookie, false);
      if (!success.ok()) return "failed: " + success.status().message();
    }
  }
  return "done";
}

std::string OnecExchangeSimulator::Done(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  done_cv_.wait_for(lock, timeout, [&] { return outcome_ != "running"; });
  return outcome_;
}

std::vector<std::string> OnecExchangeSimulator::OrdersReceived() const {
  std::lock_guard lock(mu_);
  return received_;
}

OnecExchangeSimulator::Contents OnecExchangeSimulator::FilesContents() const {
  std::set<std::string> goods, offers, prices, documents;
  std::error_code ec;
  for (fs::directory_iterator it(Extra(options_, "files"), ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.ends_with(".xml")) continue;
    const std::string bytes = ReadFile(it->path());
    pugi::xml_document doc;
    if (!doc.load_buffer(bytes.data(), bytes.size())) continue;
    if (name.starts_with("import")) {
      for (const pugi::xpath_node& n : doc.select_nodes("//Каталог/Товары/Товар")) {
        goods.insert(n.node().child_value("Ид"));
      }
    } else if (name.starts_with("offers")) {
      for (const pugi::xpath_node& n : doc.select_nodes("//Предложения/Предложение")) {
        const std::string offer = n.node().child_value("Ид");
        offers.insert(offer);
        for (pugi::xml_node price : n.node().child("Цены").children("Цена")) {
          prices.insert(offer + "|" + price.child_value("ИдТипаЦены"));
        }
      }
    } else if (name.starts_with("orders")) {
      for (pugi::xml_node d : doc.document_element().children("Документ")) {
        documents.insert(d.child_value("Ид"));
      }
    }
  }
  return {.goods = static_cast<int64_t>(goods.size()),
          .offers = static_cast<int64_t>(offers.size()),
          .prices = static_cast<int64_t>(prices.size()),
          .documents = static_cast<int64_t>(documents.size())};
}

std::vector<std::string> OnecExchangeSimulator::Steps() const {
  std::lock_guard lock(mu_);
  return steps_;
}

std::string OnecExchangeSimulator::StateJson() const {
  std::lock_guard lock(mu_);
  return nlohmann::json{{"outcome", outcome_}, {"steps", steps_}, {"orders_received", received_}}
      .dump();
}

simkit::AdapterWiring OnecExchangeSimulator::Wiring() const {
  const std::string creds = Credentials(options_);
  simkit::AdapterWiring w;
  w.type = "onec-exchange";
  w.keys = "user = \"" + creds.substr(0, creds.find(':')) +
           "\"\nstaging_dir = \"onec-staging\"\nzip = true\n";
  w.secrets = {{"password_file", creds.substr(creds.find(':') + 1)}};
  return w;
}

simkit::SimulatorType OnecExchangeSimulatorType() {
  return {.name = "onec",
          .description =
              "1C driving the CommerceML site exchange against --target with the "
              "files of --files",
          .extra_options = {{"target", "the site's exchange URL (<crmhub>/hooks/<id>)"},
                            {"files", "a folder of import*.xml, offers*.xml, orders*.xml"},
                            {"query", "yes: ask the site for its orders (type=sale&mode=query)"},
                            {"fail_before_success",
                             "yes: take the orders but never confirm them (mode=success)"}},
          .create = [](const simkit::SimOptions& o,
                       Clock& clock) -> Result<std::unique_ptr<simkit::Simulator>> {
            return std::unique_ptr<simkit::Simulator>(
                std::make_unique<OnecExchangeSimulator>(o, clock));
          }};
}

}  // namespace crmhub::adapters::onec_exchange
