#include "bench/onec_exchange_bench.h"

#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "adapters/simkit/simulator.h"
#include "base/thread_annotations.h"
#include "bench/runtime_thread.h"
#include "bench/scratch_dir.h"
#include "daemon/adapter_registry.h"
#include "daemon/runtime.h"
#include "net/hmac.h"
#include "net/http_client.h"

namespace crmhub::bench {
namespace {

namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kAdapter = "onec-bench";
constexpr const char* kUser = "exchange";
constexpr const char* kPassword = "bench-password";
constexpr int64_t kFileLimit = 8 * 1024 * 1024;

Status WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::IoError("bench: cannot write " + path.string());
  ::chmod(path.c_str(), 0600);
  return Status::Ok();
}

Result<fs::path> FindRules() {
  const fs::path name = fs::path("config") / "mappings" / "onec-commerceml.toml";
  std::error_code ec;
  std::vector<fs::path> candidates = {fs::current_path(ec) / name};
  if (fs::path exe = fs::read_symlink("/proc/self/exe", ec); !ec) {
    candidates.push_back(exe.parent_path().parent_path() / name);
  }
  for (const fs::path& p : candidates) {
    if (fs::exists(p, ec)) return fs::absolute(p);
  }
  return Status::NotFound("cannot find " + name.string() +
                          " (run from the source tree or pass --rules FILE)");
}

// 36 hex digits in the shape of 1C's GUIDs, from a number.
std::string Guid(int64_t n, int salt) {
  return fmt::format("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                     static_cast<uint32_t>(n * 2654435761u), salt,
                     static_cast<uint32_t>(n >> 16) & 0xfff, static_cast<uint32_t>(n) & 0xfff, n);
}

// The generated catalogue, written as 1C writes a full upload (UTF-8 with a
// BOM, namespace urn:1C.ru:commerceml_2, schema 2.07).
Status WriteCatalogue(const fs::path& import_path, const fs::path& offers_path, int64_t goods,
                      int64_t per) {
  const std::string head =
      "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<КоммерческаяИнформация "
      "xmlns=\"urn:1C.ru:commerceml_2\" ВерсияСхемы=\"2.07\" "
      "ДатаФормирования=\"2026-12-06T12:00:00\">\n";
  {
    std::ofstream out(import_path, std::ios::binary | std::ios::trunc);
    out << head
        << "<Классификатор><Ид>cls-1</Ид><Наименование>Классификатор</Наименование><Группы>"
           "<Группа><Ид>grp-1</Ид><Наименование>Товары</Наименование></Группа></Группы>"
           "</Классификатор>\n<Каталог СодержитТолькоИзменения=\"false\"><Ид>cat-bench</Ид>"
           "<ИдКлассификатора>cls-1</ИдКлассификатора><Наименование>Каталог</Наименование>"
           "<Товары>\n";
    for (int64_t i = 0; i < goods; ++i) {
      out << fmt::format(
          "<Товар><Ид>{0}</Ид><Штрихкод>46{1:011}</Штрихкод><Артикул>ART-{1}</Артикул>"
          "<Наименование>Товар номер {1}</Наименование><БазоваяЕдиница Код=\"796\" "
          "НаименованиеПолное=\"Штука\" МеждународноеСокращение=\"PCE\">шт</БазоваяЕдиница>"
          "<Группы><Ид>grp-1</Ид></Группы><Описание>Описание товара {1}: хлопок, размерный "
          "ряд, уход.</Описание><ЗначенияСвойств><ЗначенияСвойства><Ид>prop-color</Ид>"
          "<Значение>цвет {2}</Значение></ЗначенияСвойства><ЗначенияСвойства><Ид>prop-size</Ид>"
          "<Значение>{3}</Значение></ЗначенияСвойства></ЗначенияСвойств><ЗначенияРеквизитов>"
          "<ЗначениеРеквизита><Наименование>ВидНоменклатуры</Наименование><Значение>Товар"
          "</Значение></ЗначениеРеквизита><ЗначениеРеквизита><Наименование>ТипНоменклатуры"
          "</Наименование><Значение>Товар</Значение></ЗначениеРеквизита></ЗначенияРеквизитов>"
          "</Товар>\n",
          Guid(i, 1), i, i % 17, 40 + i % 10);
    }
    out << "</Товары></Каталог></КоммерческаяИнформация>\n";
    out.close();
    if (!out) return Status::IoError("bench: cannot write " + import_path.string());
  }
  std::ofstream out(offers_path, std::ios::binary | std::ios::trunc);
  out << head
      << "<ПакетПредложений СодержитТолькоИзменения=\"false\"><Ид>cat-bench#</Ид>"
         "<Наименование>Пакет предложений</Наименование><ИдКаталога>cat-bench</ИдКаталога>"
         "<ТипыЦен><ТипЦены><Ид>price-retail</Ид><Наименование>Розничная</Наименование>"
         "<Валюта>RUB</Валюта></ТипЦены><ТипЦены><Ид>price-wholesale</Ид><Наименование>Оптовая"
         "</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен><Предложения>\n";
  for (int64_t i = 0; i < goods; ++i) {
    const std::string good = Guid(i, 1);
    for (int64_t j = 0; j < per; ++j) {
      out << fmt::format(
          "<Предложение><Ид>{0}#{1}</Ид><Наименование>Товар номер {2}, вариант {3}"
          "</Наименование><БазоваяЕдиница Код=\"796\">шт</БазоваяЕдиница><Цены><Цена>"
          "<Представление>{4} RUB за шт</Представление><ИдТипаЦены>price-retail</ИдТипаЦены>"
          "<ЦенаЗаЕдиницу>{4}</ЦенаЗаЕдиницу><Валюта>RUB</Валюта><Единица>шт</Единица>"
          "<Коэффициент>1</Коэффициент></Цена><Цена><Представление>{5} RUB за шт</Представление>"
          "<ИдТипаЦены>price-wholesale</ИдТипаЦены><ЦенаЗаЕдиницу>{5}</ЦенаЗаЕдиницу><Валюта>"
          "RUB</Валюта><Единица>шт</Единица><Коэффициент>1</Коэффициент></Цена></Цены>"
          "<Количество>{6}</Количество><Склад ИдСклада=\"wh-1\" КоличествоНаСкладе=\"{7}\"/>"
          "<Склад ИдСклада=\"wh-2\" КоличествоНаСкладе=\"{8}\"/></Предложение>\n",
          good, Guid(j, 2), i, j, 1000 + (i * 7 + j) % 9000, 800 + (i * 7 + j) % 7000, (i + j) % 50,
          (i + j) % 30, (i + j) % 20);
    }
  }
  out << "</Предложения></ПакетПредложений></КоммерческаяИнформация>\n";
  out.close();
  if (!out) return Status::IoError("bench: cannot write " + offers_path.string());
  return Status::Ok();
}

// Read-only counts in crm.db while the daemon writes it (WAL).
class CrmCounts {
 public:
  explicit CrmCounts(fs::path db) : db_(std::move(db)) {}
  ~CrmCounts() { sqlite3_close(conn_); }
  CrmCounts(const CrmCounts&) = delete;
  CrmCounts& operator=(const CrmCounts&) = delete;

  // Rows of `table`; -1 while crm.db or the table is not there yet.
  int64_t Rows(const char* table) {
    std::error_code ec;
    if (conn_ == nullptr) {
      if (!fs::exists(db_, ec)) return -1;
      if (sqlite3_open_v2(db_.c_str(), &conn_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(conn_);
        conn_ = nullptr;
        return -1;
      }
      sqlite3_busy_timeout(conn_, 1000);
    }
    sqlite3_stmt* st = nullptr;
    const std::string sql = fmt::format("SELECT COUNT(*) FROM {}", table);
    if (sqlite3_prepare_v2(conn_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return -1;
    const int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
  }

 private:
  fs::path db_;
  sqlite3* conn_ = nullptr;
};

// 1C's side of the exchange over loopback HTTP.
class OneC {
 public:
  OneC(boost::asio::io_context& io, uint16_t port)
      : http_(io, net::HttpClientOptions{}),
        base_(fmt::format("http://127.0.0.1:{}/hooks/{}", port, kAdapter)) {}

  Result<std::string> Call(const std::string& method, const std::string& query,
                           std::string body = "") {
    net::OutboundRequest req;
    req.method = method;
    req.url = base_ + "?" + query;
    req.body = std::move(body);
    req.timeout = 120s;
    if (cookie_.empty()) {
      req.headers.Set("Authorization",
                      "Basic " + net::Base64Encode(std::string(kUser) + ":" + kPassword));
    } else {
      req.headers.Set("Cookie", cookie_);
    }
    net::OutboundResult r = http_.SendBlocking(std::move(req));
    if (!r.ok()) return r.status();
    if (r->status != 200) {
      return Status::Internal(fmt::format("{} {}: HTTP {} {}", method, query, r->status, r->body));
    }
    return r->body;
  }

  Status Login() {
    Result<std::string> auth = Call("GET", "type=catalog&mode=checkauth");
    if (!auth.ok()) return auth.status();
    std::istringstream lines(*auth);
    std::string ok, name, value;
    std::getline(lines, ok);
    std::getline(lines, name);
    std::getline(lines, value);
    if (ok != "success") return Status::Internal("checkauth answered " + *auth);
    cookie_ = name + "=" + value;
    return Status::Ok();
  }

  Status Upload(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::string chunk(static_cast<size_t>(kFileLimit), '\0');
    while (in) {
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      const auto got = static_cast<size_t>(in.gcount());
      if (got == 0) break;
      Result<std::string> answer =
          Call("POST", "type=catalog&mode=file&filename=" + file.filename().string(),
               chunk.substr(0, got));
      if (!answer.ok()) return answer.status();
      if (!answer->starts_with("success")) return Status::Internal("file answered " + *answer);
    }
    return Status::Ok();
  }

  // import, asked again every 100 ms while "progress".
  Status Import(const std::string& name, int64_t& progress_answers) {
    while (true) {
      Result<std::string> answer = Call("GET", "type=catalog&mode=import&filename=" + name);
      if (!answer.ok()) return answer.status();
      if (answer->starts_with("success")) return Status::Ok();
      if (!answer->starts_with("progress")) return Status::Internal("import answered " + *answer);
      ++progress_answers;
      std::this_thread::sleep_for(100ms);
    }
  }

 private:
  net::HttpClient http_;
  const std::string base_;
  std::string cookie_;
};

}  // namespace

Result<OnecExchangeBenchResult> RunOnecExchangeBench(const OnecExchangeBenchOptions& o) {
  if (o.goods <= 0 || o.goods > 10'000'000 || o.offers_per_good < 0 || o.offers_per_good > 100) {
    return Status::InvalidArgument(
        "bench onec-exchange: --goods must be 1..10000000 and --offers-per-good 0..100");
  }
  fs::path rules = o.rules;
  if (rules.empty()) {
    auto found = FindRules();
    if (!found.ok()) return found.status();
    rules = *found;
  }
  auto scratch = ScratchDir::Make(o.data_dir);
  if (!scratch.ok()) return scratch.status();
  const fs::path dir = fs::absolute(scratch->path());
  if (fs::exists(dir / "crm.db") || fs::exists(dir / "queue.db")) {
    return Status::FailedPrecondition("bench onec-exchange: " + dir.string() +
                                      " holds a queue or CRM store; it must be empty");
  }
  OnecExchangeBenchResult r;
  r.goods = o.goods;
  r.offers = o.goods * o.offers_per_good;
  const fs::path files = dir / "1c";
  fs::create_directories(files);
  CRMHUB_RETURN_IF_ERROR(
      WriteCatalogue(files / "import0_1.xml", files / "offers0_1.xml", o.goods, o.offers_per_good));
  r.import_bytes = static_cast<int64_t>(fs::file_size(files / "import0_1.xml"));
  r.offers_bytes = static_cast<int64_t>(fs::file_size(files / "offers0_1.xml"));
  CRMHUB_RETURN_IF_ERROR(WriteText(dir / "password", kPassword));
  const fs::path config_file = dir / "crmhub-bench.toml";
  CRMHUB_RETURN_IF_ERROR(WriteText(
      config_file,
      fmt::format("# Written by `crmhub bench onec-exchange`.\n"
                  "[daemon]\ndata_dir = {}\n\n[log]\nlevel = \"warn\"\n\n"
                  "[http]\nlisten = [\"127.0.0.1:0\"]\n\n"
                  "[adapters.{}]\ntype = \"onec-exchange\"\nuser = {}\npassword_file = {}\n"
                  "file_limit = \"8MiB\"\nstaging_dir = {}\nmapping = {}\n",
                  simkit::TomlString(dir.string()), kAdapter, simkit::TomlString(kUser),
                  simkit::TomlString((dir / "password").string()),
                  simkit::TomlString((dir / "staging").string()),
                  simkit::TomlString(rules.string()))));

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread io_thread([&io] { io.run(); });
  struct JoinIo {
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type>& work;
    std::thread& thread;
    ~JoinIo() {
      work.reset();
      thread.join();
    }
  } join_io{work, io_thread};

  daemon::RuntimeOptions ro;
  ro.config_file = config_file;
  ro.adapter_types = daemon::AllAdapterTypes();
  ro.handle_signals = false;
  RuntimeThread daemon(std::move(ro));
  auto port = daemon.WaitReady(60s);
  if (!port.ok()) return port.status();
  CrmCounts crm(dir / "crm.db");

  OneC onec(io, *port);
  const double cpu_at_start = ProcessCpuSeconds();
  const Steady::time_point start = Steady::now();
  CRMHUB_RETURN_IF_ERROR(onec.Login());
  Result<std::string> init = onec.Call("GET", "type=catalog&mode=init");
  if (!init.ok()) return init.status();
  CRMHUB_RETURN_IF_ERROR(onec.Upload(files / "import0_1.xml"));
  CRMHUB_RETURN_IF_ERROR(onec.Upload(files / "offers0_1.xml"));
  r.upload_seconds = std::chrono::duration<double>(Steady::now() - start).count();
  CRMHUB_RETURN_IF_ERROR(onec.Import("import0_1.xml", r.progress_answers));
  CRMHUB_RETURN_IF_ERROR(onec.Import("offers0_1.xml", r.progress_answers));
  r.exchange_seconds = std::chrono::duration<double>(Steady::now() - start).count();

  const int64_t expected = r.goods + r.offers;
  int64_t applied = 0;
  Steady::time_point last_progress = Steady::now();
  while (true) {
    const int64_t n = crm.Rows("applied_events");
    const Steady::time_point now = Steady::now();
    if (n >= expected) {
      r.end_to_end_seconds = std::chrono::duration<double>(now - start).count();
      r.cpu_seconds = ProcessCpuSeconds() - cpu_at_start;
      break;
    }
    if (n > applied) {
      applied = n;
      last_progress = now;
    }
    if (now - last_progress > o.stall_timeout) {
      return Status::DeadlineExceeded(fmt::format(
          "crm.db applied {} of {} records and none more in {} s (data dir {})", applied, expected,
          std::chrono::duration_cast<std::chrono::seconds>(o.stall_timeout).count(), dir.string()));
    }
    std::this_thread::sleep_for(200ms);
  }
  r.peak_rss_bytes = PeakRssBytes();
  if (int code = daemon.Stop(); code != 0) {
    return Status::Internal(fmt::format("the daemon exited with {} after draining", code));
  }
  r.applied_events = crm.Rows("applied_events");
  r.products = crm.Rows("products");
  if (r.applied_events != expected || r.products != r.goods) {
    return Status::Internal(
        fmt::format("crm.db holds {} applied events and {} products, expected "
                    "exactly {} and {}",
                    r.applied_events, r.products, expected, r.goods));
  }
  r.records_per_s = static_cast<double>(expected) / r.end_to_end_seconds;
  return r;
}

std::string FormatOnecExchangeBenchText(const OnecExchangeBenchOptions&,
                                        const OnecExchangeBenchResult& r) {
  return fmt::format(
      "onec-exchange benchmark: {} goods ({:.1f} MiB import0_1.xml), {} offers ({:.1f} MiB "
      "offers0_1.xml), one exchange over loopback\n"
      "  upload:      {:.3f} s (checkauth to the last chunk of 8 MiB)\n"
      "  exchange:    {:.3f} s (checkauth to the last import's success; {} progress answers)\n"
      "  end to end:  {:.3f} s to crm.db holding every record, {:.0f} records/s\n"
      "  crm.db:      {} applied events, {} products\n"
      "  peak RSS:    {:.1f} MiB (the whole process: daemon and 1C client)\n"
      "  CPU:         {:.2f} s user+system",
      r.goods, static_cast<double>(r.import_bytes) / (1024.0 * 1024.0), r.offers,
      static_cast<double>(r.offers_bytes) / (1024.0 * 1024.0), r.upload_seconds, r.exchange_seconds,
      r.progress_answers, r.end_to_end_seconds, r.records_per_s, r.applied_events, r.products,
      static_cast<double>(r.peak_rss_bytes) / (1024.0 * 1024.0), r.cpu_seconds);
}

std::string FormatOnecExchangeBenchJson(const OnecExchangeBenchOptions&,
                                        const OnecExchangeBenchResult& r) {
  return fmt::format(
      "{{\"bench\":\"onec-exchange\",\"goods\":{},\"offers\":{},\"import_bytes\":{},"
      "\"offers_bytes\":{},\"upload_seconds\":{:.3f},\"exchange_seconds\":{:.3f},"
      "\"end_to_end_seconds\":{:.3f},\"records_per_s\":{:.1f},\"progress_answers\":{},"
      "\"applied_events\":{},\"products\":{},\"peak_rss_bytes\":{},\"cpu_seconds\":{:.3f}}}",
      r.goods, r.offers, r.import_bytes, r.offers_bytes, r.upload_seconds, r.exchange_seconds,
      r.end_to_end_seconds, r.records_per_s, r.progress_answers, r.applied_events, r.products,
      r.peak_rss_bytes, r.cpu_seconds);
}

}  // namespace crmhub::bench
