#include "adapters/onec_odata/onec_odata_sim.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/json_get.h"
#include "base/timestamp.h"
#include "net/hmac.h"

namespace crmhub::adapters::onec_odata {
namespace {

using nlohmann::json;

constexpr const char* kRoot = "/odata/standard.odata";
constexpr const char* kEmptyRef = "00000000-0000-0000-0000-000000000000";
constexpr const char* kCounterparties = "Catalog_Контрагенты";
constexpr const char* kGoods = "Catalog_Номенклатура";
constexpr const char* kPrices = "InformationRegister_ЦеныНоменклатуры";
constexpr const char* kStock = "AccumulationRegister_ТоварыНаСкладах/Balance";
constexpr const char* kOrders = "Document_ЗаказКлиента";
constexpr const char* kPayments = "Document_ПоступлениеБезналичныхДенежныхСредств";
constexpr int kGoodsCount = 20;
constexpr int kMoscow = 180;

net::HttpResponse ODataError(int status, std::string_view message) {
  json body = {{"odata.error",
                {{"code", std::to_string(status)},
                 {"message", {{"lang", "ru-RU"}, {"value", std::string(message)}}}}}};
  return net::HttpResponse::Json(status, body.dump());
}

std::string Uuid(int family, int i) {
  return fmt::format("{:08x}-0000-4000-8000-{:012x}", 0x10000000u * static_cast<unsigned>(family),
                     static_cast<unsigned>(i));
}

// 1C's local time without a zone, as its JSON writes it.
std::string Local(SystemTime t) {
  return FormatTimestamp(t, TimestampStyle::kRfc3339Seconds, kMoscow).substr(0, 19);
}

bool IsCatalogOrDocument(const std::string& set) {
  return set.rfind("Catalog_", 0) == 0 || set.rfind("Document_", 0) == 0;
}

// "Catalog_X(guid'…')" → {"Catalog_X", "…"}.
std::optional<std::pair<std::string, std::string>> EntityRef(const std::string& segment) {
  const size_t open = segment.find("(guid'");
  if (open == std::string::npos || segment.size() < open + 8 || segment.back() != ')' ||
      segment[segment.size() - 2] != '\'') {
    return std::nullopt;
  }
  return std::pair{segment.substr(0, open), segment.substr(open + 6, segment.size() - open - 8)};
}

int CompareValues(const json* a, const json* b) {
  if (a == nullptr || b == nullptr) return (a == nullptr) - (b == nullptr);
  if (a->is_number() && b->is_number()) {
    return *a < *b ? -1 : (*b < *a ? 1 : 0);
  }
  const std::string x = a->is_string() ? std::string(AsString(*a).value_or("")) : a->dump();
  const std::string y = b->is_string() ? std::string(AsString(*b).value_or("")) : b->dump();
  return x < y ? -1 : (x > y ? 1 : 0);
}

}  // namespace

OnecODataSimulator::OnecODataSimulator(simkit::SimOptions options, Clock& clock)
    : PipelineSimulator(options.io_threads),
      options_(std::move(options)),
      clock_(clock),
      start_(options_.start.value_or(clock.Now())),
      pipeline_(
          [this] {
            simkit::SimPipeline::Options o = CommonOptions(options_, /*salt=*/0x0dada);
            o.dialect.server_header = "onec-odata-sim";
            o.dialect.auth_headers = {"Authorization"};
            o.dialect.accepted = {
                {"Basic " + net::Base64Encode(user() + ":" + password()), user()}};
            o.dialect.unauthorized = [](bool) { return ODataError(401, "Unauthorized"); };
            o.dialect.error = ODataError;
            // 1C states no rate limit (README §1): only the "429" fault
            // throttles, answered in the error shape with Retry-After.
            o.dialect.throttled = [](const simkit::LimitRefusal& r) {
              auto answer = ODataError(429, "Too Many Requests");
              answer.headers.Set(
                  "Retry-After",
                  std::to_string(std::max<int64_t>(
                      1, std::chrono::ceil<std::chrono::seconds>(r.retry_after).count())));
              return answer;
            };
            auto read = [this](const simkit::SimRequest& r) {
              std::string segment = r.params[0];
              if (r.params.size() > 1) segment += "/" + r.params[1];
              return Read(segment, r.http);
            };
            auto write = [this](const simkit::SimRequest& r) { return Write(r.params[0], r); };
            o.routes = {
                {.method = "GET", .path = std::string(kRoot) + "/{}", .handler = read},
                {.method = "GET", .path = std::string(kRoot) + "/{}/{}", .handler = read},
                {.method = "POST",
                 .path = std::string(kRoot) + "/{}",
                 .json_body = true,
                 .handler = write},
                {.method = "PATCH",
                 .path = std::string(kRoot) + "/{}",
                 .json_body = true,
                 .handler = write},
            };
            return o;
          }(),
          clock) {
  std::lock_guard lock(mu_);
  const int orders = std::max(0, options_.orders);
  const int counterparties = orders / 10 + 1;
  auto& cps = sets_[kCounterparties];
  for (int i = 0; i < counterparties; ++i) {
    const bool person = i % 3 == 2;
    json c = {
        {"Ref_Key", Uuid(1, i + 1)},
        {"DataVersion", NextVersion()},
        {"DeletionMark", false},
        {"Parent_Key", kEmptyRef},
        {"IsFolder", false},
        {"Code", fmt::format("{:09}", i + 1)},
        {"Description",
         person ? fmt::format("Иванов Иван {}", i + 1) : fmt::format("ООО Покупатель {}", i + 1)},
        {"НаименованиеПолное", person ? fmt::format("Иванов Иван Иванович {}", i + 1)
                                      : fmt::format("Общество с ограниченной "
                                                    "ответственностью Покупатель {}",
                                                    i + 1)},
        {"ЮрФизЛицо", person ? "ФизЛицо" : "ЮрЛицо"},
        {"ИНН", person ? fmt::format("77{:010}", i + 1) : fmt::format("77{:08}", i + 1)},
        {"КПП", person ? "" : "770101001"},
        {"Комментарий", ""},
        {"КонтактнаяИнформация",
         json::array({{{"Ref_Key", Uuid(1, i + 1)},
                       {"LineNumber", "1"},
                       {"Тип", "Телефон"},
                       {"Представление", fmt::format("+7 916 {:03} {:04}", i % 1000, i % 10000)}},
                      {{"Ref_Key", Uuid(1, i + 1)},
                       {"LineNumber", "2"},
                       {"Тип", "АдресЭлектроннойПочты"},
                       {"Представление", fmt::format("buyer{}@example.ru", i + 1)}}})},
        {"Predefined", false},
        {"PredefinedDataName", ""}};
    cps.push_back(std::move(c));
  }
  auto& goods = sets_[kGoods];
  // The first good is the captured element of the contracts
  // (contracts/onec/odata/captured_Catalog_Номенклатура_element.json).
  goods.push_back({{"Весовой", true},
                   {"ЕдиницаИзмеренияДляСравненияОтгрузок_Key", kEmptyRef},
                   {"IsFolder", false},
                   {"DeletionMark", false},
                   {"СерийныйУчет", nullptr},
                   {"Predefined", false},
                   {"PredefinedDataName", ""},
                   {"Ref_Key", "f8c956ea-cdad-11e6-aede-5404a6b4b8ed"},
                   {"Картинки", json::array()},
                   {"Description", "НеЖенскаяНеСумка"},
                   {"Артикул", "412"},
                   {"Code", "00000000005"},
                   {"DataVersion", "AAAADAAAAAA="},
                   {"Parent_Key", "f8c956e9-cdad-11e6-aede-5404a6b4b8ed"}});
  for (int i = 1; i < kGoodsCount; ++i) {
    goods.push_back({{"Ref_Key", Uuid(2, i + 1)},
                     {"DataVersion", NextVersion()},
                     {"DeletionMark", false},
                     {"Parent_Key", kEmptyRef},
                     {"IsFolder", false},
                     {"Code", fmt::format("{:011}", i + 1)},
                     {"Description", fmt::format("Товар {}", i + 1)},
                     {"Артикул", fmt::format("A-{:04}", i + 1)},
                     {"Predefined", false},
                     {"PredefinedDataName", ""}});
  }
  const std::string price_kind = Uuid(3, 1);
  for (int i = 0; i < kGoodsCount; ++i) {
    const std::string good(JsonString(goods[i], "Ref_Key").value_or(""));
    sets_[kPrices].push_back({{"Period", Local(start_ - std::chrono::hours(24))},
                              {"Номенклатура_Key", good},
                              {"ВидЦен_Key", price_kind},
                              {"Цена", 100 + 10 * i},
                              {"ЕдиницаИзмерения_Key", kEmptyRef}});
    for (int w = 1; w <= 2; ++w) {
      sets_[kStock].push_back({{"Номенклатура_Key", good},
                               {"Склад_Key", Uuid(4, w)},
                               {"ВНаличииBalance", (i * 7 + w * 3) % 50}});
    }
  }
  static const char* kStatuses[] = {"НеСогласован", "КОбеспечению", "КОтгрузке", "Закрыт"};
  for (int i = 0; i < orders; ++i) {
    const std::string ref = Uuid(5, i + 1);
    const std::string cp = Uuid(1, i % counterparties + 1);
    const std::string date = Local(start_ - std::chrono::minutes(orders - i));
    json lines = json::array();
    int64_t total = 0;
    for (int l = 0; l < 1 + i % 3; ++l) {
      const json& good = goods[(i + l) % kGoodsCount];
      const int qty = 1 + (i + l) % 4;
      const int price = 100 + 10 * ((i + l) % kGoodsCount);
      total += qty * price;
      lines.push_back({{"Ref_Key", ref},
                       {"LineNumber", std::to_string(l + 1)},
                       {"Номенклатура_Key", good["Ref_Key"]},
                       {"Количество", qty},
                       {"Цена", price},
                       {"Сумма", qty * price}});
    }
    sets_[kOrders].push_back(
        {{"Ref_Key", ref},
         {"DataVersion", NextVersion()},
         {"DeletionMark", false},
         {"Number", fmt::format("{:09}", i + 1)},
         {"Date", date},
         {"Posted", true},
         {"Контрагент_Key", cp},
         {"Статус", kStatuses[i % 4]},
         {"СуммаДокумента", total},
         {"Комментарий", ""},
         {"Товары", std::move(lines)},
         {"Контрагент@navigationLinkUrl", fmt::format("{}(guid'{}')/Контрагент", kOrders, ref)}});
    if (i % 2 == 0) {
      const std::string pay = Uuid(6, i / 2 + 1);
      sets_[kPayments].push_back(
          {{"Ref_Key", pay},
           {"DataVersion", NextVersion()},
           {"DeletionMark", false},
           {"Number", fmt::format("{:09}", i / 2 + 1)},
           {"Date", date},
           {"Posted", i % 4 == 0},
           {"Контрагент_Key", cp},
           {"СуммаДокумента", total},
           {"НазначениеПлатежа", fmt::format("Оплата по заказу № {:09}", i + 1)},
           {"РасшифровкаПлатежа",
            json::array({{{"Ref_Key", pay},
                          {"LineNumber", "1"},
                          {"Заказ", ref},
                          {"Заказ_Type", std::string("StandardODATA.") + kOrders},
                          {"Сумма", total}}})}});
    }
  }
}

std::string OnecODataSimulator::user() const {
  const std::string c = options_.credentials.empty() ? "" : options_.credentials.front();
  return c.empty() ? "crmhub" : c.substr(0, c.find(':'));
}

std::string OnecODataSimulator::password() const {
  const std::string c = options_.credentials.empty() ? "" : options_.credentials.front();
  const size_t colon = c.find(':');
  return c.empty() ? "sim-onec-password" : (colon == std::string::npos ? "" : c.substr(colon + 1));
}

std::string OnecODataSimulator::NextVersion() {
  // base64 of 8 bytes (README §1: "AAAAAQAAAAA="): a counter, then zeros.
  const uint32_t v = ++versions_;
  std::string bytes(8, '\0');
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>((v >> (24 - 8 * i)) & 0xff);
  return net::Base64Encode(bytes);
}

json* OnecODataSimulator::Find(const std::string& set, const std::string& ref_key) {
  auto it = sets_.find(set);
  if (it == sets_.end()) return nullptr;
  for (json& row : it->second) {
    if (JsonString(row, "Ref_Key").value_or("") == ref_key) return &row;
  }
  return nullptr;
}

net::HttpResponse OnecODataSimulator::Read(const std::string& segment,
                                           const net::HttpRequest& http) const {
  std::optional<std::string> format = http.QueryParam("$format");
  if (!format || (*format != "json" && *format != "application/json")) {
    return ODataError(400, "the simulator answers $format=json only");
  }
  const std::string metadata = "http://onec-sim" + std::string(kRoot) + "/$metadata#";
  if (auto ref = EntityRef(segment)) {
    std::lock_guard lock(mu_);
    json* row = const_cast<OnecODataSimulator*>(this)->Find(ref->first, ref->second);
    if (row == nullptr) return ODataError(404, "Запись не найдена");
    json out = *row;
    out["odata.metadata"] = metadata + ref->first + "/@Element";
    return net::HttpResponse::Json(200, out.dump());
  }
  Result<ODataFilter> filter = ODataFilter::Parse(http.QueryParam("$filter").value_or(""));
  if (!filter.ok()) return ODataError(400, "$filter: " + filter.status().message());
  std::optional<int64_t> top, skip;
  if (auto t = http.QueryParam("$top")) {
    top = ParseDecimalInt(*t);
    if (!top || *top < 0) return ODataError(400, "$top: not a number");
  }
  if (auto s = http.QueryParam("$skip")) {
    skip = ParseDecimalInt(*s);
    if (!skip || *skip < 0) return ODataError(400, "$skip: not a number");
  }
  std::vector<std::pair<std::string, bool>> order;  // field, descending
  if (auto ob = http.QueryParam("$orderby")) {
    size_t start = 0;
    while (start <= ob->size()) {
      size_t comma = ob->find(',', start);
      std::string item =
          ob->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      while (!item.empty() && item.front() == ' ') item.erase(0, 1);
      bool desc = false;
      if (size_t sp = item.find(' '); sp != std::string::npos) {
        desc = item.substr(sp + 1) == "desc";
        item = item.substr(0, sp);
      }
      if (item.empty()) return ODataError(400, "$orderby: an empty item");
      order.push_back({item, desc});
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  std::vector<json> rows;
  {
    std::lock_guard lock(mu_);
    auto it = sets_.find(segment);
    if (it == sets_.end()) return ODataError(404, "Не найден объект " + segment);
    for (const json& row : it->second) {
      if (filter->Matches(row)) rows.push_back(row);
    }
  }
  if (!order.empty()) {
    std::stable_sort(rows.begin(), rows.end(), [&](const json& a, const json& b) {
      for (const auto& [field, desc] : order) {
        int c = CompareValues(JsonMember(a, field), JsonMember(b, field));
        if (c != 0) return desc ? c > 0 : c < 0;
      }
      return false;
    });
  }
  const size_t from = std::min<size_t>(rows.size(), static_cast<size_t>(skip.value_or(0)));
  const size_t to =
      top ? std::min<size_t>(rows.size(), from + static_cast<size_t>(*top)) : rows.size();
  json out = {{"odata.metadata", metadata + segment}, {"value", json::array()}};
  for (size_t i = from; i < to; ++i) out["value"].push_back(std::move(rows[i]));
  return net::HttpResponse::Json(200, out.dump());
}

net::HttpResponse OnecODataSimulator::Write(const std::string& segment,
                                            const simkit::SimRequest& request) {
  const std::string metadata = "http://onec-sim" + std::string(kRoot) + "/$metadata#";
  std::lock_guard lock(mu_);
  if (request.http.method == "POST") {
    if (!IsCatalogOrDocument(segment)) {
      return ODataError(400, "only catalogs and documents are created here: " + segment);
    }
    json row = request.body;
    row["Ref_Key"] = Uuid(9, ++created_);
    row["DataVersion"] = NextVersion();
    if (!row.contains("DeletionMark")) row["DeletionMark"] = false;
    if (segment.rfind("Document_", 0) == 0) {
      if (!JsonString(row, "Number")) row["Number"] = fmt::format("Н-{:07}", created_);
      if (!JsonString(row, "Date")) row["Date"] = Local(clock_.Now());
      if (!row.contains("Posted")) row["Posted"] = false;
    }
    sets_[segment].push_back(row);
    row["odata.metadata"] = metadata + segment + "/@Element";
    return net::HttpResponse::Json(201, row.dump());
  }
  auto ref = EntityRef(segment);
  if (!ref) return ODataError(400, "PATCH names one entity: <Set>(guid'<Ref_Key>')");
  json* row = Find(ref->first, ref->second);
  if (row == nullptr) return ODataError(404, "Запись не найдена");
  if (concurrent_edits_ > 0) {
    --concurrent_edits_;
    (*row)["DataVersion"] = NextVersion();
  }
  const std::string current(JsonString(*row, "DataVersion").value_or(""));
  if (auto match = request.http.headers.Get("If-Match"); match && *match != current) {
    return ODataError(412, "DataVersion " + current + " differs from If-Match");
  }
  for (auto it = request.body.begin(); it != request.body.end(); ++it) {
    if (it.key() == "Ref_Key" || it.key() == "DataVersion") continue;
    (*row)[it.key()] = it.value();
  }
  (*row)["DataVersion"] = NextVersion();
  json out = *row;
  out["odata.metadata"] = metadata + ref->first + "/@Element";
  return net::HttpResponse::Json(200, out.dump());
}

std::vector<json> OnecODataSimulator::Rows(const std::string& set) const {
  std::lock_guard lock(mu_);
  auto it = sets_.find(set);
  return it == sets_.end() ? std::vector<json>() : it->second;
}

bool OnecODataSimulator::Touch(const std::string& set, const std::string& ref_key,
                               const std::string& field, const json& value) {
  std::lock_guard lock(mu_);
  json* row = Find(set, ref_key);
  if (row == nullptr) return false;
  (*row)[field] = value;
  (*row)["DataVersion"] = NextVersion();
  return true;
}

void OnecODataSimulator::ConcurrentEdits(int n) {
  std::lock_guard lock(mu_);
  concurrent_edits_ = n;
}

std::string OnecODataSimulator::StateJson() const {
  std::lock_guard lock(mu_);
  json sets = json::object();
  for (const auto& [name, rows] : sets_) sets[name] = rows.size();
  return json{{"sets", sets}}.dump();
}

std::map<std::string, std::string> OnecODataSimulator::OrderStatuses(bool) const {
  std::map<std::string, std::string> out;
  std::lock_guard lock(mu_);
  auto it = sets_.find(kOrders);
  if (it == sets_.end()) return out;
  for (const json& row : it->second) {
    out[std::string(JsonString(row, "Ref_Key").value_or(""))] =
        std::string(JsonString(row, "Статус").value_or(""));
  }
  return out;
}

simkit::AdapterWiring OnecODataSimulator::Wiring() const {
  simkit::AdapterWiring w;
  w.type = "onec-odata";
  w.keys = fmt::format("base_url = \"{}\"\nuser = {}\nserver_timezone = \"+03:00\"\n", base_url(),
                       simkit::TomlString(user()));
  w.secrets = {{"password_file", password()}};
  w.orders_method = "GET";
  w.orders_path = std::string(kRoot) + "/" + kOrders;
  return w;
}

simkit::SimulatorType OnecODataSimulatorType() {
  return {
      .name = "onec-odata",
      .description =
          "1C:Enterprise's standard OData interface over a seeded infobase "
          "(paging, $filter, basic auth, DataVersion, If-Match)",
      .url_key = "base_url",
      .create = [](const simkit::SimOptions& o,
                   Clock& clock) -> Result<std::unique_ptr<simkit::Simulator>> {
        return std::unique_ptr<simkit::Simulator>(std::make_unique<OnecODataSimulator>(o, clock));
      }};
}

}  // namespace crmhub::adapters::onec_odata
