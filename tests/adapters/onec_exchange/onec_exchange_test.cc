// The CommerceML exchange: the reader on 1C's own sample files, mapped with
// the shipped rules; the protocol (checkauth, init, file in chunks, import)
// driven against the adapter as 1C drives it, the chunks written by the
// resolve step and joined byte for byte, the same exchange again keyed the
// same (nothing new); refusals (no session, wrong password, bad file name).

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <iconv.h>
#include <zip.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "adapters/onec_exchange/commerceml_parser.h"
#include "adapters/onec_exchange/onec_exchange_adapter.h"
#include "adapters/onec_exchange/order_outbox.h"
#include "adapters/onec_exchange/xml_charset.h"
#include "adapters/onec_exchange/zip_archive.h"
#include "mapping/model/model.h"
#include "mapping/model/status_precedence.h"
#include "mapping/rules/rule_set.h"
#include "net/hmac.h"
#include "tests/daemon/http_routes_harness.h"
#include "tests/daemon/test_support.h"

namespace crmhub::adapters::onec_exchange {
namespace {

using nlohmann::json;

std::string Contract(const std::string& name) {
  std::ifstream in(std::string(CRMHUB_CONTRACTS_DIR) + "/onec/commerceml/" + name,
                   std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::vector<model::Entity> Map(const std::vector<json>& records) {
  auto rules =
      mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) + "/config/mappings/onec-commerceml.toml");
  EXPECT_TRUE(rules.ok()) << rules.status().ToString();
  std::vector<model::Entity> out;
  for (const json& r : records) {
    auto e = rules->Apply(r, {"onec", nullptr, 0});
    EXPECT_TRUE(e.ok()) << e.status().ToString() << "\n" << r.dump();
    if (e.ok()) out.insert(out.end(), e->begin(), e->end());
  }
  return out;
}

TEST(CommerceMlTest, EverySampleCatalogueFileParsesAndMaps) {
  auto import = ParseCatalogFile(Contract("dobromyslov_import0_1.xml"));  // UTF-8 with a BOM
  ASSERT_TRUE(import.ok()) << import.status().ToString();
  EXPECT_EQ(import->kind, "import");
  ASSERT_EQ(import->products.size(), 36u);
  int deleted = 0;
  for (const json& p : import->products) deleted += p["_deleted"] == true;
  EXPECT_EQ(deleted, 1);  // <Товар Статус="Удален">
  EXPECT_EQ(import->products[29]["_deleted"], true);
  auto offers = ParseCatalogFile(Contract("dobromyslov_offers0_1.xml"));
  ASSERT_TRUE(offers.ok()) << offers.status().ToString();
  EXPECT_EQ(offers->kind, "offers");
  EXPECT_EQ(offers->offers.size(), 44u);
  EXPECT_FALSE(offers->only_changes);
  auto official = ParseCatalogFile(Contract("1c_official_example_import.xml"));
  ASSERT_TRUE(official.ok());
  EXPECT_EQ(official->products.size(), 4u);
  auto official_offers = ParseCatalogFile(Contract("1c_official_example_offers.xml"));
  ASSERT_TRUE(official_offers.ok());

  const auto products = Map(import->products);
  ASSERT_EQ(products.size(), 36u);
  EXPECT_EQ(products[29].fields["deleted"], true);
  EXPECT_EQ(products[0].kind, model::EntityKind::kProduct);
  EXPECT_FALSE(products[0].fields["name"].get<std::string>().empty());
  const auto mapped = Map(offers->offers);
  int prices = 0, stocks = 0;
  for (const auto& e : mapped) {
    prices += e.kind == model::EntityKind::kPrice;
    stocks += e.kind == model::EntityKind::kStockLevel;
  }
  EXPECT_GE(prices, 44);
  EXPECT_EQ(stocks, 44);
  const auto usd = Map(official_offers->offers);  // "руб" and "USD" prices
  EXPECT_FALSE(usd.empty());

  // Orders 1C sends back (type=sale): three documents, lines and totals.
  auto orders = ParseCatalogFile(Contract("1c_official_example_orders.xml"));
  ASSERT_TRUE(orders.ok()) << orders.status().ToString();
  EXPECT_EQ(orders->kind, "orders");
  ASSERT_EQ(orders->orders.size(), 3u);
  const auto mapped_orders = Map(orders->orders);
  ASSERT_EQ(mapped_orders.size(), 3u);
  const model::Entity& first = mapped_orders[0];
  EXPECT_EQ(first.kind, model::EntityKind::kOrder);
  EXPECT_EQ(first.external_id, "36");
  EXPECT_EQ(first.fields["total"], 673447);
  EXPECT_EQ(first.fields["currency"], "RUB");
  EXPECT_EQ(first.fields["status"], "[N] Принят");
  ASSERT_EQ(first.fields["lines"].size(), 2u);
  EXPECT_EQ(first.fields["lines"][1]["price"], 639447);
  EXPECT_EQ(first.fields["lines"][1]["quantity"], 1);
  int64_t sum = 0;
  for (const auto& line : first.fields["lines"]) sum += line["total"].get<int64_t>();
  EXPECT_EQ(sum, 673447);  // the lines add up to the document's total

  EXPECT_FALSE(ParseCatalogFile("<a>").ok());
  EXPECT_FALSE(ParseCatalogFile("<Другое/>").ok());
  EXPECT_NE(ParseCatalogFile("<?xml version=\"1.0\" encoding=\"koi8-r\"?><x/>")
                .status()
                .message()
                .find("koi8-r"),
            std::string::npos);  // refused by name, not misread
  EXPECT_FALSE(ParseCatalogFile(Contract("dobromyslov_import0_1.xml"), 1000).ok());  // bound
}

// `utf8` in windows-1251 (iconv), its declaration saying so.
std::string To1251(const std::string& utf8) {
  std::string text = utf8.starts_with("\xEF\xBB\xBF") ? utf8.substr(3) : utf8;
  const size_t enc = text.find("UTF-8");
  EXPECT_NE(enc, std::string::npos);
  text.replace(enc, 5, "windows-1251");
  iconv_t cd = iconv_open("CP1251", "UTF-8");
  std::string out(text.size(), '\0');
  char* in = text.data();
  size_t in_left = text.size();
  char* o = out.data();
  size_t out_left = out.size();
  EXPECT_NE(iconv(cd, &in, &in_left, &o, &out_left), static_cast<size_t>(-1));
  iconv_close(cd);
  out.resize(out.size() - out_left);
  return out;
}

// A zip archive (deflated) of `entries` {name, bytes}, written to `path`;
// its bytes.
std::string MakeZip(const std::filesystem::path& path,
                    const std::vector<std::pair<std::string, std::string>>& entries) {
  int error = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  EXPECT_NE(z, nullptr);
  for (const auto& [name, bytes] : entries) {
    zip_source_t* src = zip_source_buffer(z, bytes.data(), bytes.size(), 0);
    EXPECT_GE(zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE), 0) << name;
  }
  EXPECT_EQ(zip_close(z), 0);
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

TEST(CommerceMlTest, Windows1251AndUtf8AreReadAlike) {
  const std::string utf8 = Contract("dobromyslov_import0_1.xml");
  const std::string cp1251 = To1251(utf8);
  ASSERT_NE(cp1251.find("windows-1251"), std::string::npos);
  ASSERT_LT(cp1251.size(), utf8.size());  // one byte per Cyrillic letter: really converted
  EXPECT_EQ(*DeclaredCharset(cp1251), XmlCharset::kWindows1251);
  EXPECT_EQ(*DeclaredCharset(utf8), XmlCharset::kUtf8);
  auto a = ParseCatalogFile(utf8);
  auto b = ParseCatalogFile(cp1251);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ(b->products.size(), 36u);
  EXPECT_EQ(a->products, b->products);  // every record the same, Cyrillic names included
  // 1C-Bitrix's own answer to mode=query, in windows-1251 (the contract's sample).
  auto bitrix = ParseCatalogFile(Contract("dobromyslov_bitrix-query-response-empty.xml"));
  EXPECT_TRUE(bitrix.ok()) << bitrix.status().ToString();
  // Every windows-1251 letter decodes, 0x98 (unassigned) is refused.
  EXPECT_EQ(*Windows1251ToUtf8("\xC0\xFF\xA8\xB8\xB9"), "АяЁё№");
  EXPECT_FALSE(Windows1251ToUtf8("ab\x98").ok());
  EXPECT_FALSE(DeclaredCharset("<?xml version='1.0' encoding='ISO-8859-5'?>").ok());
}

TEST(ZipArchiveTest, XmlEntriesAreUnpackedWithinBounds) {
  testutil::TempDir dir;
  const std::string import = Contract("dobromyslov_import0_1.xml");
  const std::string offers = Contract("dobromyslov_offers0_1.xml");
  MakeZip(dir.path() / "a.zip", {{"import0_1.xml", import},
                                 {"offers0_1.xml", offers},
                                 {"import_files/ab/photo.jpg", "JPEG"},
                                 {"readme.txt", "x"}});
  auto names = ExtractXmlEntries(dir.path() / "a.zip", dir.path() / "out");
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"import0_1.xml", "offers0_1.xml"}));
  std::ifstream in(dir.path() / "out/import0_1.xml", std::ios::binary);
  std::ostringstream got;
  got << in.rdbuf();
  EXPECT_EQ(got.str(), import);                                            // byte for byte
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "out/import_files"));  // folders skipped

  // A bomb: 64 MiB of one byte packs to ~64 KiB (ratio ~1000).
  MakeZip(dir.path() / "bomb.zip", {{"import.xml", std::string(64 << 20, 'a')}});
  auto bomb = ExtractXmlEntries(dir.path() / "bomb.zip", dir.path() / "bomb");
  ASSERT_FALSE(bomb.ok());
  EXPECT_NE(bomb.status().message().find("zip bomb"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "bomb/import.xml"));
  // Too many entries; too many bytes in all.
  ZipLimits two;
  two.max_entries = 2;
  MakeZip(dir.path() / "many.zip", {{"a.xml", "1"}, {"b.xml", "2"}, {"c.xml", "3"}});
  EXPECT_FALSE(ExtractXmlEntries(dir.path() / "many.zip", dir.path() / "many", two).ok());
  ZipLimits small;
  small.max_total_bytes = 100 * 1024;
  EXPECT_FALSE(ExtractXmlEntries(dir.path() / "a.zip", dir.path() / "small", small).ok());
  // Names that would leave the folder: in a folder ("../") skipped, never
  // written outside; a dot name refused.
  MakeZip(dir.path() / "evil.zip", {{"../evil.xml", "<x/>"}});
  auto evil = ExtractXmlEntries(dir.path() / "evil.zip", dir.path() / "evil");
  ASSERT_TRUE(evil.ok());
  EXPECT_TRUE(evil->empty());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "evil.xml"));
  MakeZip(dir.path() / "dot.zip", {{"..x.xml", "<x/>"}});
  EXPECT_FALSE(ExtractXmlEntries(dir.path() / "dot.zip", dir.path() / "dot").ok());
  // Not a zip, a cut one.
  EXPECT_FALSE(LooksLikeZip("<?xml"));
  std::ifstream whole(dir.path() / "a.zip", std::ios::binary);
  std::ostringstream bytes;
  bytes << whole.rdbuf();
  EXPECT_TRUE(LooksLikeZip(bytes.str()));
  std::ofstream(dir.path() / "cut.zip", std::ios::binary) << bytes.str().substr(0, 5000);
  EXPECT_FALSE(ExtractXmlEntries(dir.path() / "cut.zip", dir.path() / "cut").ok());
}

class OnecExchangeTest : public ::testing::Test {
 protected:
  OnecExchangeTest() { Make(false); }
  void Make(bool zip, StatusStale stale = {}) {
    zip_ = zip;
    OnecExchangeConfig c;
    c.order_status_stale = std::move(stale);
    c.zip = zip;
    c.id = "onec";
    c.user = "exchange";
    c.password = Secret("p4ss");
    c.file_limit = 16 * 1024;
    c.staging_dir = dir_.path() / "staging";
    c.metrics = &metrics_;
    adapter_ = std::make_unique<OnecExchangeAdapter>(std::move(c), clock_);
  }
  net::HttpRequest Req(const std::string& method, const std::string& query, std::string body = "") {
    net::HttpRequest r;
    r.method = method;
    r.path = "/hooks/onec";
    r.query = query;
    r.target = r.path + "?" + query;
    r.body = std::move(body);
    if (!cookie_.empty()) r.headers.Set("Cookie", "crmhub_1c=" + cookie_);
    return r;
  }
  std::string Login(const std::string& password = "p4ss") {
    auto r = Req("GET", "type=catalog&mode=checkauth");
    r.headers.Set("Authorization", "Basic " + net::Base64Encode("exchange:" + password));
    auto answer = adapter_->HandleWebhook(r);
    if (!answer.ok()) return "";
    std::istringstream lines(answer->accepted.body);
    std::string success, name, value;
    std::getline(lines, success);
    std::getline(lines, name);
    std::getline(lines, value);
    EXPECT_EQ(success, "success");
    EXPECT_EQ(name, "crmhub_1c");
    cookie_ = value;
    return value;
  }
  // One whole exchange of `files`, chunked by file_limit, each hint resolved
  // in order as the delivery worker would; the events the imports queued.
  std::vector<InboundEvent> Exchange(const std::vector<std::string>& files) {
    std::vector<std::pair<std::string, std::string>> named;
    for (const std::string& name : files) {
      named.emplace_back(
          name.find("offers") != std::string::npos ? "offers0_1.xml" : "import0_1.xml",
          Contract(name));
    }
    return ExchangeBytes(named);
  }
  std::vector<InboundEvent> ExchangeBytes(
      const std::vector<std::pair<std::string, std::string>>& files, bool* refused = nullptr) {
    Login();
    auto init = adapter_->HandleWebhook(Req("GET", "type=catalog&mode=init"));
    EXPECT_TRUE(init.ok());
    EXPECT_EQ(init->accepted.body,
              std::string(zip_ ? "zip=yes" : "zip=no") + "\nfile_limit=16384\n");
    std::vector<InboundEvent> out;
    for (const auto& [filename, bytes] : files) {
      for (size_t at = 0; at < bytes.size(); at += 16 * 1024) {
        auto chunk = adapter_->HandleWebhook(Req(
            "POST", "type=catalog&mode=file&filename=" + filename, bytes.substr(at, 16 * 1024)));
        EXPECT_TRUE(chunk.ok()) << chunk.status().ToString();
        EXPECT_EQ(chunk->accepted.body, "success\n");
        EXPECT_EQ(chunk->events.size(), 1u);
        ResolveAll(chunk->events, out);
      }
      // Staged, then applied in the background: "progress" until every
      // record is queued, then "success" (or "failure" with the reason).
      auto import =
          adapter_->HandleWebhook(Req("GET", "type=catalog&mode=import&filename=" + filename));
      EXPECT_TRUE(import.ok());
      EXPECT_TRUE(import->accepted.body.starts_with("progress\n")) << import->accepted.body;
      ResolveAll(import->events, out, refused);
      auto again =
          adapter_->HandleWebhook(Req("GET", "type=catalog&mode=import&filename=" + filename));
      EXPECT_TRUE(again.ok());
      if (refused != nullptr && *refused) {
        EXPECT_TRUE(again->accepted.body.starts_with("failure\n")) << again->accepted.body;
      } else {
        EXPECT_EQ(again->accepted.body, "success\n");
        EXPECT_TRUE(again->events.empty());  // done: nothing queued again
      }
      // At most kImportBatch records per resolve step (500), plus the hint
      // of the next step.
      EXPECT_LE(max_resolved_, 501u);
    }
    return out;
  }
  // Resolves `hints` in order, and the hints their resolve steps queue
  // (an import's batches) after them, as the delivery worker would.
  void ResolveAll(const std::vector<InboundEvent>& first, std::vector<InboundEvent>& out,
                  bool* refused = nullptr) {
    std::deque<InboundEvent> hints(first.begin(), first.end());
    while (!hints.empty()) {
      const InboundEvent e = std::move(hints.front());
      hints.pop_front();
      ASSERT_TRUE(e.resolve);
      ASSERT_EQ(e.ordering_key, "onec-exchange");  // one exchange, resolved in order
      Hint h{e.idempotency_key, e.kind, e.headers, e.payload, 1};
      ResolveResult r = adapter_->Resolve(h);
      if (refused != nullptr && r.outcome.kind == DeliveryOutcome::Kind::kFail) {
        *refused = true;
        last_refusal_ = r.outcome.error;
        continue;
      }
      ASSERT_TRUE(r.outcome.ok()) << r.outcome.error;
      // A redelivered chunk rewrites its own part: the file stays the same.
      if (e.kind == "onec_file_chunk") {
        ASSERT_TRUE(adapter_->Resolve(h).outcome.ok());
      }
      max_resolved_ = std::max(max_resolved_, r.events.size());
      for (auto& ev : r.events) {
        if (ev.resolve) {
          hints.push_back(std::move(ev));
        } else {
          out.push_back(std::move(ev));
        }
      }
    }
  }

  testutil::TempDir dir_;
  ManualClock clock_;
  MetricsRegistry metrics_;
  bool zip_ = false;
  std::unique_ptr<OnecExchangeAdapter> adapter_;
  std::string cookie_;
  std::string last_refusal_;
  // crmhub_onec_orders_not_sent_total{adapter="onec",reason=...}.
  double NotSent(const std::string& reason) {
    return metrics_
        .GetCounter("crmhub_onec_orders_not_sent_total", "",
                    {{"adapter", "onec"}, {"reason", reason}})
        .value();
  }
  size_t max_resolved_ = 0;
};

// The catalogue without its Товар elements number `drop` (0-based, in order).
std::string Without(const std::string& xml, const std::set<int>& drop) {
  std::string out;
  size_t at = 0;
  int index = 0;
  while (true) {
    size_t open = xml.find("<Товар", at);
    while (open != std::string::npos && xml.compare(open, 13, "<Товары") == 0) {
      open = xml.find("<Товар", open + 1);
    }
    if (open == std::string::npos) break;
    size_t close = xml.find("</Товар>", open) + std::string("</Товар>").size();
    out += xml.substr(at, open - at);
    if (drop.count(index++) == 0) out += xml.substr(open, close - open);
    at = close;
  }
  return out + xml.substr(at);
}

TEST_F(OnecExchangeTest, AbsentGoodsAreDeactivatedAndAPartialUploadIsRefused) {
  const std::string full = Contract("dobromyslov_import0_1.xml");
  auto first = ExchangeBytes({{"import0_1.xml", full}});
  ASSERT_EQ(first.size(), 36u);
  // Two goods gone from the next full upload: deactivated, with their last record.
  auto second = ExchangeBytes({{"import0_1.xml", Without(full, {3, 7})}});
  int deactivated = 0;
  for (const auto& e : second) {
    json r = json::parse(e.payload);
    if (r.value("_absent", false)) {
      ++deactivated;
      EXPECT_EQ(r["_deleted"], true);
      EXPECT_TRUE(r.contains("Наименование"));  // the whole record, not a stub
    }
  }
  EXPECT_EQ(deactivated, 2);
  // A partial upload (30 of 34 goods gone): refused whole.
  std::set<int> most;
  for (int i = 0; i < 30; ++i) most.insert(i);
  bool refused = false;
  auto partial = ExchangeBytes({{"import0_1.xml", Without(Without(full, {3, 7}), most)}}, &refused);
  EXPECT_TRUE(refused);
  EXPECT_TRUE(partial.empty());
  EXPECT_NE(last_refusal_.find("would deactivate 30 of the 34 goods"), std::string::npos)
      << last_refusal_;
  // Only changes: nothing is deactivated.
  std::string changes = Without(full, most);
  changes.replace(changes.find("СодержитТолькоИзменения=\"false\""),
                  std::string("СодержитТолькоИзменения=\"false\"").size(),
                  "СодержитТолькоИзменения=\"true\"");
  auto incremental = ExchangeBytes({{"import0_1.xml", changes}});
  for (const auto& e : incremental) EXPECT_FALSE(json::parse(e.payload).value("_absent", false));
  EXPECT_EQ(incremental.size(), 6u);
}

// A generated full catalogue of `goods` goods (import) or of `per` offers
// per good (offers), as 1C writes them.
std::string Generated(bool offers, int goods, int per = 1) {
  std::string x =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<КоммерческаяИнформация "
      "xmlns=\"urn:1C.ru:commerceml_2\" ВерсияСхемы=\"2.07\">";
  x += offers ? "<ПакетПредложений СодержитТолькоИзменения=\"false\"><Ид>cat-1#</Ид><Предложения>"
              : "<Каталог СодержитТолькоИзменения=\"false\"><Ид>cat-1</Ид><Товары>";
  for (int i = 0; i < goods; ++i) {
    if (!offers) {
      x += "<Товар><Ид>g-" + std::to_string(i) + "</Ид><Артикул>A" + std::to_string(i) +
           "</Артикул><Наименование>Товар " + std::to_string(i) +
           "</Наименование><БазоваяЕдиница Код=\"796\">шт</БазоваяЕдиница></Товар>\n";
      continue;
    }
    for (int j = 0; j < per; ++j) {
      x += "<Предложение><Ид>g-" + std::to_string(i) + "#" + std::to_string(j) +
           "</Ид><Наименование>Товар</Наименование><Цены><Цена><ИдТипаЦены>retail</ИдТипаЦены>"
           "<ЦенаЗаЕдиницу>" +
           std::to_string(100 + j) +
           "</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена></Цены><Количество>5</Количество>"
           "</Предложение>\n";
    }
  }
  x += offers ? "</Предложения></ПакетПредложений>" : "</Товары></Каталог>";
  return x + "</КоммерческаяИнформация>\n";
}

// Stage, then apply: a catalogue far larger than a batch is staged by one
// resolve step and queued by many, each at most kImportBatch (500) records
// and the next step's hint; 1C hears "progress" with the count until the
// last batch is queued, then "success".
TEST_F(OnecExchangeTest, ALargeCatalogueIsStagedThenAppliedInBoundedBatches) {
  Login();
  std::vector<InboundEvent> out;
  size_t total = 0;
  for (const auto& [filename, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"import0_1.xml", Generated(false, 2000)},
           {"offers0_1.xml", Generated(true, 2000, 3)}}) {
    for (size_t at = 0; at < bytes.size(); at += 16 * 1024) {
      auto chunk = adapter_->HandleWebhook(
          Req("POST", "type=catalog&mode=file&filename=" + filename, bytes.substr(at, 16 * 1024)));
      ASSERT_TRUE(chunk.ok());
      ResolveAll(chunk->events, out);
    }
    const std::string import_query = "type=catalog&mode=import&filename=" + filename;
    auto import = adapter_->HandleWebhook(Req("GET", import_query));
    ASSERT_TRUE(import.ok());
    EXPECT_EQ(import->accepted.body, "progress\nstaging\n");
    ASSERT_EQ(import->events.size(), 1u);
    // The hints one by one, as the worker takes them; 1C asks in between.
    std::deque<InboundEvent> hints = {import->events[0]};
    int steps = 0;
    size_t records = 0;
    while (!hints.empty()) {
      InboundEvent h = std::move(hints.front());
      hints.pop_front();
      ResolveResult r = adapter_->Resolve({h.idempotency_key, h.kind, h.headers, h.payload, 1});
      ASSERT_TRUE(r.outcome.ok()) << r.outcome.error;
      EXPECT_LE(r.events.size(), 501u);
      for (auto& e : r.events) {
        if (e.resolve) {
          EXPECT_EQ(e.ordering_key, "onec-exchange");
          hints.push_back(std::move(e));
        } else {
          ++records;
          out.push_back(std::move(e));
        }
      }
      ++steps;
      auto asked = adapter_->HandleWebhook(Req("GET", import_query));
      ASSERT_TRUE(asked.ok());
      if (!hints.empty()) {
        EXPECT_EQ(asked->accepted.body, fmt::format("progress\n{} of {} records queued\n", records,
                                                    filename.starts_with("import") ? 2000 : 6000));
      } else {
        EXPECT_EQ(asked->accepted.body, "success\n");
      }
    }
    total += records;
    // Stage, ceil(records / 500) batches, done.
    EXPECT_EQ(steps, 1 + static_cast<int>((records + 499) / 500) + 1);
  }
  EXPECT_EQ(total, 8000u);
  std::set<std::string> keys;
  for (const auto& e : out) keys.insert(e.idempotency_key);
  EXPECT_EQ(keys.size(), 8000u);
  // The staged records are gone once the import is done.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.path())) {
    EXPECT_FALSE(entry.path().string().ends_with(".records")) << entry.path();
  }
}

// The streamed reader's refusals: where the XML breaks (by line), an element
// above the bound, a charset it does not read; what came before a break was
// handed over (the adapter stages it and throws the staging away).
// An order's version is the time of its change, so 1C's and the CRM's
// changes resolve by [crm] order_status_precedence, then by time: the
// requisite "Дата изменения" when 1C sends it, else Дата and Время (Moscow).
TEST(CommerceMlTest, AnOrdersVersionIsTheTimeOfItsChange) {
  auto sample = ParseCatalogFile(Contract("1c_official_example_orders.xml"));
  ASSERT_TRUE(sample.ok());
  ASSERT_FALSE(sample->orders.empty());
  json order = sample->orders[0];
  auto mapped = Map({order});
  ASSERT_FALSE(mapped.empty());
  EXPECT_EQ(mapped[0].version, 1193746767000);  // 2007-10-30 15:19:27 MSK
  order["ЗначенияРеквизитов"]["Дата изменения"] = "2007-11-02T09:00:00";
  mapped = Map({order});
  ASSERT_FALSE(mapped.empty());
  EXPECT_EQ(mapped[0].version, 1193983200000);  // 2007-11-02 09:00:00 MSK
}

TEST(CommerceMlTest, TheStreamedReaderRefusesWithTheLine) {
  const std::string whole = Generated(false, 50);
  size_t handed = 0;
  auto truncated = StreamCatalogBytes(whole.substr(0, whole.size() / 2), [&](RecordKind, json) {
    ++handed;
    return Status::Ok();
  });
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("at line "), std::string::npos)
      << truncated.status().message();
  EXPECT_GT(handed, 10u);
  EXPECT_LT(handed, 50u);
  std::string huge = Generated(false, 1);
  huge.insert(huge.find("</Наименование>"), std::string(kMaxCommerceMlElementBytes + 1, 'x'));
  auto big = ParseCatalogFile(huge);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("an element above"), std::string::npos)
      << big.status().message();
  std::string koi8 = whole;
  koi8.replace(koi8.find("UTF-8"), 5, "KOI8-R");
  EXPECT_FALSE(ParseCatalogFile(koi8).ok());
  auto wrong_root = ParseCatalogFile("<?xml version=\"1.0\"?><Каталог/>");
  ASSERT_FALSE(wrong_root.ok());
  EXPECT_NE(wrong_root.status().message().find("КоммерческаяИнформация"), std::string::npos);
  // A sink's error stops the reading and comes back as it is.
  int seen = 0;
  auto stopped = StreamCatalogBytes(whole, [&](RecordKind, json) {
    return ++seen == 3 ? Status::Unavailable("disk full") : Status::Ok();
  });
  EXPECT_EQ(stopped.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(seen, 3);
}

// Cleanup: each checkauth queues a sweep that removes the staging folders of
// sessions untouched for staging_retention (72 h: the newest file decides),
// never the asking session's, the catalogue state or the orders; order
// fingerprints go after fingerprint_retention (90 days), and the oldest
// beyond max_fingerprints.
TEST_F(OnecExchangeTest, OldSessionsAndFingerprintsAreSweptAtCheckauth) {
  namespace fs = std::filesystem;
  const fs::path staging = dir_.path() / "staging";
  auto write = [&](const fs::path& p, std::chrono::hours age) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "x";
    fs::last_write_time(p, std::chrono::file_clock::from_sys(clock_.Now() - age));
  };
  const std::string old_session(32, 'a'), busy_session(32, 'b');
  write(staging / old_session / "import0_1.xml.part000001", std::chrono::hours(100));
  write(staging / old_session / "unzipped" / "offers0_1.xml", std::chrono::hours(100));
  fs::last_write_time(staging / old_session / "unzipped",
                      std::chrono::file_clock::from_sys(clock_.Now() - std::chrono::hours(100)));
  fs::last_write_time(staging / old_session,
                      std::chrono::file_clock::from_sys(clock_.Now() - std::chrono::hours(100)));
  // A long import: an old chunk, a fresh staged file.
  write(staging / busy_session / "import0_1.xml.part000001", std::chrono::hours(100));
  write(staging / busy_session / "import0_1.xml.records", std::chrono::hours(1));
  write(staging / "catalogues.db", std::chrono::hours(1000));
  OrderOutbox outbox(staging / "orders");
  for (const char* id : {"1", "2", "3"}) ASSERT_TRUE(outbox.Remember1c(id, "new|100").ok());
  std::vector<fs::path> prints;
  for (const auto& e : fs::directory_iterator(staging / "orders" / "from1c")) {
    prints.push_back(e.path());
  }
  ASSERT_EQ(prints.size(), 3u);
  fs::last_write_time(
      prints[0], std::chrono::file_clock::from_sys(clock_.Now() - std::chrono::hours(24 * 91)));

  auto r = Req("GET", "type=catalog&mode=checkauth");
  r.headers.Set("Authorization", "Basic " + net::Base64Encode("exchange:p4ss"));
  auto answer = adapter_->HandleWebhook(r);
  ASSERT_TRUE(answer.ok());
  ASSERT_EQ(answer->events.size(), 1u);
  EXPECT_EQ(answer->events[0].kind, "onec_cleanup");
  std::vector<InboundEvent> none;
  ResolveAll(answer->events, none);
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(fs::exists(staging / old_session));
  EXPECT_TRUE(fs::exists(staging / busy_session / "import0_1.xml.part000001"));
  EXPECT_TRUE(fs::exists(staging / "catalogues.db"));
  EXPECT_FALSE(fs::exists(prints[0]));  // 91 days old
  EXPECT_TRUE(fs::exists(prints[1]));
  EXPECT_TRUE(fs::exists(prints[2]));
  // The count bound: the oldest beyond it go.
  fs::last_write_time(prints[1],
                      std::chrono::file_clock::from_sys(clock_.Now() - std::chrono::hours(2)));
  auto forgotten = outbox.Forget1c(clock_.Now(), std::chrono::hours(24 * 90), 1);
  ASSERT_TRUE(forgotten.ok());
  EXPECT_EQ(*forgotten, 1);
  EXPECT_FALSE(fs::exists(prints[1]));
  EXPECT_TRUE(fs::exists(prints[2]));
}

TEST_F(OnecExchangeTest, AWholeExchangeInChunksQueuesEveryProductAndOfferOnce) {
  auto events = Exchange({"dobromyslov_import0_1.xml", "dobromyslov_offers0_1.xml"});
  int products = 0, offers = 0;
  std::set<std::string> keys;
  for (const auto& e : events) {
    products += e.kind == "onec_product";
    offers += e.kind == "onec_offer";
    keys.insert(e.idempotency_key);
  }
  EXPECT_EQ(products, 36);  // the 164 KB file came in 11 chunks, joined byte for byte
  EXPECT_EQ(offers, 44);
  EXPECT_EQ(keys.size(), events.size());
  // The same exchange again (a new session): the same keys, so nothing new.
  auto again = Exchange({"dobromyslov_import0_1.xml", "dobromyslov_offers0_1.xml"});
  std::set<std::string> again_keys;
  for (const auto& e : again) again_keys.insert(e.idempotency_key);
  EXPECT_EQ(again_keys, keys);
}

TEST_F(OnecExchangeTest, RefusalsAndTheSaleSide) {
  EXPECT_EQ(Login("wrong"), "");
  EXPECT_EQ(adapter_->HandleWebhook(Req("GET", "type=catalog&mode=init")).status().code(),
            StatusCode::kUnauthenticated);  // no session
  Login();
  EXPECT_FALSE(
      adapter_->HandleWebhook(Req("POST", "type=catalog&mode=file&filename=../x", "a")).ok());
  EXPECT_FALSE(adapter_->HandleWebhook(Req("GET", "type=catalog&mode=frob")).ok());
  EXPECT_FALSE(adapter_->HandleWebhook(Req("GET", "type=other&mode=init")).ok());
  auto query = adapter_->HandleWebhook(Req("GET", "type=sale&mode=query"));
  ASSERT_TRUE(query.ok());
  EXPECT_TRUE(ParseCatalogFile(query->accepted.body).ok());
  EXPECT_EQ(adapter_->HandleWebhook(Req("GET", "type=sale&mode=success"))->accepted.body,
            "success\n");
  // An import of a file never sent is a dead letter with the reason.
  auto import = adapter_->HandleWebhook(Req("GET", "type=catalog&mode=import&filename=x.xml"));
  ASSERT_TRUE(import.ok());
  const InboundEvent& e = import->events[0];
  ResolveResult r = adapter_->Resolve({e.idempotency_key, e.kind, e.headers, e.payload, 1});
  EXPECT_EQ(r.outcome.kind, DeliveryOutcome::Kind::kFail);
}

// zip=yes: 1C sends one archive in chunks, then asks for each file in it by
// its own name; the events are those of the same files sent plain.
TEST_F(OnecExchangeTest, AZipArchiveInChunksImportsEachFileByName) {
  const auto plain = Exchange({"dobromyslov_import0_1.xml", "dobromyslov_offers0_1.xml"});
  std::set<std::string> plain_keys;
  for (const auto& e : plain) plain_keys.insert(e.idempotency_key);
  Make(true);
  cookie_.clear();
  Login();
  auto init = adapter_->HandleWebhook(Req("GET", "type=catalog&mode=init"));
  ASSERT_TRUE(init.ok());
  EXPECT_EQ(init->accepted.body, "zip=yes\nfile_limit=16384\n");
  const std::string archive = MakeZip(dir_.path() / "upload.zip",
                                      {{"import0_1.xml", Contract("dobromyslov_import0_1.xml")},
                                       {"offers0_1.xml", Contract("dobromyslov_offers0_1.xml")}});
  ASSERT_GT(archive.size(), 3u * 2048);  // several chunks of 2 KiB (XML packs ~25x)
  std::vector<InboundEvent> out;
  for (size_t at = 0; at < archive.size(); at += 2048) {
    auto chunk = adapter_->HandleWebhook(
        Req("POST", "type=catalog&mode=file&filename=catalog.zip", archive.substr(at, 2048)));
    ASSERT_TRUE(chunk.ok());
    ResolveAll(chunk->events, out);
  }
  for (const char* name : {"import0_1.xml", "offers0_1.xml"}) {
    auto import = adapter_->HandleWebhook(
        Req("GET", std::string("type=catalog&mode=import&filename=") + name));
    ASSERT_TRUE(import.ok());
    ResolveAll(import->events, out);
  }
  std::set<std::string> keys;
  for (const auto& e : out) keys.insert(e.idempotency_key);
  EXPECT_EQ(out.size(), 80u);  // 36 goods and 44 offers
  EXPECT_EQ(keys, plain_keys);
  // The archive's own name imports every file in it (goods first).
  auto whole = adapter_->HandleWebhook(Req("GET", "type=catalog&mode=import&filename=catalog.zip"));
  ASSERT_TRUE(whole.ok());
  std::vector<InboundEvent> again;
  ResolveAll(whole->events, again);
  ASSERT_EQ(again.size(), 80u);
  EXPECT_EQ(again.front().kind, "onec_product");
  EXPECT_EQ(again.back().kind, "onec_offer");
}

// Orders to 1C: the CRM's export_order commands are answered at
// type=sale&mode=query and leave only when 1C confirms them (mode=success),
// at the version it was sent; what crmhub wrote from 1C does not go back.
TEST_F(OnecExchangeTest, OrdersLeaveFor1cWhenItConfirmsThemAndEchoesStayHome) {
  auto deliver = [&](const json& order) {
    Command c{"export_order", order.dump(), "k-" + order.dump(), 1};
    auto out = adapter_->Deliver(std::span<const Command>(&c, 1));
    EXPECT_EQ(out.size(), 1u);
    return out.front();
  };
  auto query = [&]() -> std::vector<json> {
    cookie_.clear();
    Login();
    auto answer = adapter_->HandleWebhook(Req("GET", "type=sale&mode=query"));
    EXPECT_TRUE(answer.ok());
    auto doc = ParseCatalogFile(answer->accepted.body);  // our own reader takes it back
    EXPECT_TRUE(doc.ok()) << answer->accepted.body;
    return doc.ok() ? doc->orders : std::vector<json>{};
  };
  auto success = [&] {
    EXPECT_EQ(adapter_->HandleWebhook(Req("GET", "type=sale&mode=success"))->accepted.body,
              "success\n");
  };
  const json order = {{"order_id", "crm-1001"},
                      {"number", "A-1001"},
                      {"status", "new"},
                      {"created_ms", int64_t{1700000000000}},
                      {"currency", "RUB"},
                      {"total", 123450},
                      {"customer_name", "ООО \"Ромашка\" & Co"},
                      {"lines",
                       {{{"sku", "dee6e19a"},
                         {"name", "Телевизор"},
                         {"quantity", 2},
                         {"price", 61725},
                         {"total", 123450}}}}};
  EXPECT_TRUE(deliver(order).ok());
  EXPECT_EQ(query().size(), 1u);
  // Queried, not confirmed (1C failed before success): answered again.
  auto again = query();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0]["Ид"], "crm-1001");
  EXPECT_EQ(again[0]["Номер"], "A-1001");
  EXPECT_EQ(again[0]["Сумма"], "1234.50");
  EXPECT_EQ(again[0]["Дата"], "2023-11-15");  // 22:13:20 UTC is 01:13:20 in Moscow
  EXPECT_EQ(again[0]["Время"], "01:13:20");
  EXPECT_EQ(again[0]["_status"], "new");
  EXPECT_EQ(again[0]["Контрагенты"][0]["Наименование"], "ООО \"Ромашка\" & Co");
  ASSERT_EQ(again[0]["Товары"].size(), 1u);
  EXPECT_EQ(again[0]["Товары"][0]["ЦенаЗаЕдиницу"], "617.25");
  EXPECT_EQ(again[0]["Товары"][0]["_quantity"], "2");
  // A change after the query: the confirmation of the old version does not
  // take the new one.
  json paid = order;
  paid["status"] = "paid";
  EXPECT_TRUE(deliver(paid).ok());
  success();
  auto changed = query();
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0]["_status"], "paid");
  success();
  EXPECT_TRUE(query().empty());  // confirmed: gone
  success();

  // 1C sends its orders back (type=sale file + import); the CRM's copy of
  // order 36 as crmhub wrote it is an echo, its later change is not.
  ExchangeBytes({{"orders.xml", Contract("1c_official_example_orders.xml")}});
  auto sample = ParseCatalogFile(Contract("1c_official_example_orders.xml"));
  ASSERT_TRUE(sample.ok());
  const auto mapped = Map(sample->orders);
  json echo = mapped[0].fields;
  echo["order_id"] = mapped[0].external_id;
  ASSERT_EQ(echo["order_id"], "36");
  EXPECT_EQ(NotSent("echo"), 0);
  EXPECT_TRUE(deliver(echo).ok());
  EXPECT_TRUE(query().empty());  // not echoed back
  EXPECT_EQ(NotSent("echo"), 1) << "ops see the echoes dropped";
  EXPECT_EQ(NotSent("stale"), 0);
  echo["status"] = "Отгружен";
  EXPECT_TRUE(deliver(echo).ok());
  auto shipped = query();
  ASSERT_EQ(shipped.size(), 1u);
  EXPECT_EQ(shipped[0]["_status"], "Отгружен");
  EXPECT_EQ(shipped[0]["Сумма"], "6734.47");
  // An order without order_id is a dead letter, not a retry.
  EXPECT_EQ(deliver(json{{"status", "new"}}).kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(MinorUnits("6734.47"), 673447);
  EXPECT_EQ(MinorUnits("340"), 34000);
  EXPECT_EQ(MinorUnits("1.5"), 150);
  EXPECT_FALSE(MinorUnits("1.505").has_value());
  EXPECT_FALSE(MinorUnits("abc").has_value());
}

// Orders changed in the CRM and in 1C in the same window, with [crm]
// order_status_precedence declared. 1C → CRM: the store keeps 1C's late,
// lower status from walking the CRM's order back
// (tests/crm/order_precedence_store_test.cc). CRM → 1C, here: the
// type=sale&mode=query side never sends 1C a status ranked below the one 1C
// itself reported of the order, whether the CRM's change was waiting when
// 1C reported (dropped at the query) or arrived after (dropped at
// export_order); equal ranks and later statuses go.
TEST_F(OnecExchangeTest, AnOrderStatusOlderThanWhat1cReportedIsNotSentTo1c) {
  auto precedence = model::DeclaredStatusPrecedence::FromEntries(
      {"new", "[N] Принят|В работе", "Собран", "Отгружен"});
  ASSERT_TRUE(precedence.ok()) << precedence.status().message();
  Make(false, [p = *precedence](std::string_view held, std::string_view incoming) {
    return p.Stale(held, incoming);
  });
  auto deliver = [&](const std::string& status) {
    const json order = {{"order_id", "36"},  {"number", "36"},  {"status", status},
                        {"currency", "RUB"}, {"total", 673447}, {"lines", json::array()}};
    Command c{"export_order", order.dump(), "k-" + status, 1};
    auto out = adapter_->Deliver(std::span<const Command>(&c, 1));
    EXPECT_EQ(out.size(), 1u);
    EXPECT_TRUE(out.front().ok()) << status;  // settled either way: never a dead letter
  };
  // The Ид and statuses of the orders a query answers (then confirmed).
  auto query = [&]() -> std::map<std::string, std::string> {
    cookie_.clear();
    Login();
    auto answer = adapter_->HandleWebhook(Req("GET", "type=sale&mode=query"));
    EXPECT_TRUE(answer.ok());
    auto doc = ParseCatalogFile(answer->accepted.body);
    EXPECT_TRUE(doc.ok()) << answer->accepted.body;
    std::map<std::string, std::string> out;
    for (const json& d : doc.ok() ? doc->orders : std::vector<json>{}) {
      out[d.value("Ид", "")] = d.value("_status", "");
    }
    EXPECT_EQ(adapter_->HandleWebhook(Req("GET", "type=sale&mode=success"))->accepted.body,
              "success\n");
    return out;
  };
  // The CRM's change waits in the outbox; then 1C reports the order at a
  // later status (the sample's № 36 is "[N] Принят").
  deliver("new");
  ExchangeBytes({{"orders.xml", Contract("1c_official_example_orders.xml")}});
  EXPECT_EQ(query().count("36"), 0u) << "the waiting \"new\" would walk 1C's order back";
  EXPECT_EQ(NotSent("stale"), 1) << "dropped at the query, and counted";
  // The CRM's late copy of an older status, after 1C's report: not sent.
  deliver("new");
  EXPECT_EQ(NotSent("stale"), 2) << "dropped at export_order, and counted";
  EXPECT_EQ(query().count("36"), 0u);
  // An equal rank goes (1C orders those by its own time), and so does a
  // later status.
  deliver("В работе");
  EXPECT_EQ(query(), (std::map<std::string, std::string>{{"36", "В работе"}}));
  deliver("Отгружен");
  EXPECT_EQ(query(), (std::map<std::string, std::string>{{"36", "Отгружен"}}));
  EXPECT_TRUE(query().empty());
}

// Through the daemon's intake over loopback: 1C's GETs are served, a chunk
// is queued durably (as a hint) before "success", a wrong password is 401.
TEST(OnecExchangeIntakeTest, TheProtocolThroughTheIntake) {
  testutil::TempDir dir;
  daemon::testing::Harness h;
  OnecExchangeConfig c;
  c.id = "onec";
  c.user = "exchange";
  c.password = Secret("p4ss");
  c.staging_dir = dir.path() / "staging";
  SystemClock clock;
  h.AddAdapter(std::make_shared<OnecExchangeAdapter>(std::move(c), clock));
  h.Start(/*serve=*/true);
  auto auth = h.Http("GET", "/hooks/onec?type=catalog&mode=checkauth", "",
                     {{"Authorization", "Basic " + net::Base64Encode("exchange:p4ss")}});
  ASSERT_EQ(auth.status, 200) << auth.body;
  ASSERT_TRUE(auth.body.starts_with("success\ncrmhub_1c\n")) << auth.body;
  const std::string session = auth.body.substr(std::string("success\ncrmhub_1c\n").size(), 32);
  const std::vector<std::pair<std::string, std::string>> cookie = {
      {"Cookie", "crmhub_1c=" + session}};
  auto init = h.Http("GET", "/hooks/onec?type=catalog&mode=init", "", cookie);
  EXPECT_EQ(init.status, 200);
  EXPECT_EQ(init.body, "zip=no\nfile_limit=8388608\n");
  auto file = h.Http("POST", "/hooks/onec?type=catalog&mode=file&filename=import0_1.xml",
                     "<КоммерческаяИнформация/>", cookie);
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.body, "success\n");
  // checkauth's cleanup sweep, then the chunk: one ordering key, so one at
  // a time.
  std::vector<queue::Message> queued;
  for (int i = 0; i < 3; ++i) {
    auto leased = h.sqlite->Lease("in.onec", 10, std::chrono::minutes(1));
    ASSERT_TRUE(leased.ok());
    for (auto& l : *leased) {
      ASSERT_TRUE(h.sqlite->Ack(l.lease).ok());
      queued.push_back(std::move(l.message));
    }
  }
  ASSERT_EQ(queued.size(), 2u);
  EXPECT_TRUE(std::any_of(queued.begin(), queued.end(),
                          [](const auto& m) { return m.payload == "<КоммерческаяИнформация/>"; }));
  EXPECT_EQ(h.Http("GET", "/hooks/onec?type=catalog&mode=checkauth", "",
                   {{"Authorization", "Basic " + net::Base64Encode("exchange:nope")}})
                .status,
            401);
  EXPECT_EQ(h.Http("GET", "/hooks/onec?type=catalog&mode=init").status, 401);
}

}  // namespace
}  // namespace crmhub::adapters::onec_exchange
