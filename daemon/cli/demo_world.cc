#include "daemon/cli/demo_world.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "adapters/onec_exchange/onec_exchange_sim.h"
#include "adapters/simkit/call_world.h"
#include "adapters/simkit/fault_spec.h"
#include "adapters/simkit/payment_world.h"
#include "adapters/simkit/simulator.h"
#include "adapters/simulator_registry.h"
#include "adapters/tochka/tochka_sim.h"
#include "base/json_get.h"
#include "net/hmac.h"
#include "net/http_client.h"
#include "queue/paths.h"
#include "queue/sqlite_queue.h"

namespace crmhub::demo {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Prometheus text -> {"name{labels}": value}.
std::map<std::string, double> ParseMetrics(const std::string& text) {
  std::map<std::string, double> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    size_t sp = line.rfind(' ');
    if (sp == std::string_view::npos) continue;
    out[std::string(line.substr(0, sp))] =
        std::strtod(std::string(line.substr(sp + 1)).c_str(), nullptr);
  }
  return out;
}

double Metric(const std::map<std::string, double>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

// Sum of a metric over every series whose labels contain `needle`.
double MetricSum(const std::map<std::string, double>& m, const std::string& name,
                 const std::string& needle) {
  double sum = 0;
  for (const auto& [k, v] : m) {
    if (k.rfind(name + "{", 0) == 0 && k.find(needle) != std::string::npos) sum += v;
  }
  return sum;
}

// A marketplace adapter of the config and the simulator it talks to.
struct Target {
  std::string id;
  std::string type;
  simkit::Simulator* sim = nullptr;  // owned by DemoWorld::sims_
  // The crm.db table its records land in ("orders", "payments", "calls")
  // and whether the CRM core pushes stock to it.
  std::string table = "orders";
  bool stock = true;
  // Whether the records' statuses are compared (a bank's transactions are
  // counted only: crm.db keys them by the dedup identity, not the bank's id).
  bool compare_status = true;
};

// The CommerceML samples 1C uploads in the demo (contracts/onec/commerceml),
// under the names 1C gives its exchange files.
constexpr std::pair<const char*, const char*> kOnecFiles[] = {
    {"import0_1.xml", "dobromyslov_import0_1.xml"},
    {"offers0_1.xml", "dobromyslov_offers0_1.xml"},
    {"orders.xml", "1c_official_example_orders.xml"}};

// The demo's own settlement account in the 1CClientBankExchange statement.
constexpr const char* kBankAccount = "40702810900000000002";

// A simulator that pushes notifications to the adapter's /hooks/<id> (a
// payment provider, a PBX): SimOptions::extra["target"].
bool Pushes(const simkit::SimulatorType& type) {
  for (const auto& [name, help] : type.extra_options) {
    if (name == "target") return true;
  }
  return false;
}

class DemoWorld final : public World {
 public:
  DemoWorld(WorldOptions options, Clock& clock) : options_(std::move(options)), clock_(clock) {}

  ~DemoWorld() override {
    for (auto& sim : sims_) sim->Stop();
    work_.reset();
    io_.stop();  // the demo's own client loop; everything on it has finished
    for (auto& t : threads_) t.join();
  }

  Status Init(const config::Config& config) {
    auto faults = simkit::ParseFaultSpec(options_.faults);
    if (!faults.ok()) return faults.status().WithContext("--faults");
    daemon_url_ = "http://" + config.Get("http").GetStringList("listen").at(0);
    if (config.Get("admin").Has("token_file")) {
      admin_token_ = config.Get("admin").GetSecret("token_file").Reveal();
    }
    // Orders arrive over the first 60% of the demo and settle within half
    // of that, so the pipeline has time to catch up before the end.
    simkit::SimOptions common;
    common.orders = options_.orders;
    common.faults = *faults;
    common.arrival = options_.duration * 6 / 10;
    common.lifetime = common.arrival / 2;
    const std::vector<simkit::SimulatorType> types = adapters::AllSimulatorTypes();
    for (const config::Section& s : config.Adapters()) {
      if (!s.GetBool("enabled")) continue;
      const std::string type = s.GetString("type");
      const simkit::SimulatorType* sim_type = simkit::FindSimulatorType(types, type);
      // The billing is the webhook whose rules are the demo's invoices.
      const bool billing =
          type == "webhook" && s.GetPath("mapping").filename() == "demo-invoices.toml";
      if (type == "webhook" && !billing && site_id_.empty()) {
        site_id_ = s.id();
        site_secret_ = s.GetSecret("secret_file").Reveal();
        site_header_ = s.GetString("signature_header");
      } else if (billing && billing_id_.empty()) {
        billing_id_ = s.id();
        billing_secret_ = s.GetSecret("secret_file").Reveal();
        billing_header_ = s.GetString("signature_header");
      } else if (type == "onec-exchange" && onec_id_.empty()) {
        // 1C is the client here: its simulator starts once the daemon is
        // ready (Run), with the samples copied into the data folder.
        onec_id_ = s.id();
        for (const auto& [name, sample] : kOnecFiles) {
          const std::filesystem::path from = options_.contracts_dir / "onec/commerceml" / sample;
          if (!std::filesystem::is_regular_file(from)) {
            return Status::InvalidArgument(fmt::format(
                "{}: the 1C exchange simulator needs {} (--contracts DIR)", s.id(), from.string()));
          }
        }
        described_.push_back(fmt::format(
            "{} (onec-exchange): crmhub sim onec uploads the CommerceML samples to {}/hooks/{} "
            "(zipped, in file_limit chunks), then asks for orders (type=sale query/success)",
            s.id(), daemon_url_, s.id()));
      } else if (type == "bank-1c" && bank_id_.empty()) {
        bank_id_ = s.id();
        bank_inbox_ = s.GetPath("inbox_dir");
        bank_documents_ = std::max(3, options_.orders / 10);
        described_.push_back(
            fmt::format("{} (bank-1c): a 1CClientBankExchange statement of {} documents dropped "
                        "into {}",
                        s.id(), bank_documents_ + 1, bank_inbox_.string()));
      } else if (sim_type != nullptr) {
        // A simulator the adapter never calls (no URL key) takes any port.
        std::string listen = "127.0.0.1:0";
        simkit::SimOptions sim_options = common;
        if (Pushes(*sim_type)) {
          // Payments and calls pushed to the hook: a third of a
          // marketplace's orders each, so that six more simulators keep the
          // demo's minute on a small machine.
          sim_options.orders = std::max(1, common.orders / 3);
          sim_options.extra["target"] = daemon_url_ + "/hooks/" + s.id();
        }
        // A bank's statement: a third as many payments too.
        if (type == "tochka") sim_options.orders = std::max(1, common.orders / 3);
        auto create = [&] {
          return sim_type->url_key.empty()
                     ? simkit::CreateSimulator(*sim_type, sim_options, clock_)
                     : simkit::SimulatorForAdapter(*sim_type, s, sim_options, clock_, &listen);
        };
        auto sim = create();
        if (!sim.ok()) return sim.status();
        // A PBX's calls last as long as their talk (minutes), not the
        // demo's lifetime: such a world starts earlier, so that its last
        // word is said when the marketplaces' last order ends and the run
        // tells every call.
        const SystemTime last_word = clock_.Now() + common.arrival + common.lifetime;
        if (Pushes(*sim_type) && (*sim)->AllFinalAt() > last_word) {
          sim_options.start = clock_.Now() - ((*sim)->AllFinalAt() - last_word);
          sim = create();
          if (!sim.ok()) return sim.status();
        }
        CRMHUB_RETURN_IF_ERROR((*sim)->Start(listen).WithContext(
            fmt::format("starting the {} simulator for {}", type, s.id())));
        Target target{s.id(), type, sim->get()};
        if (dynamic_cast<const simkit::PaymentSimulator*>(sim->get()) != nullptr) {
          target.table = "payments";
          target.stock = false;
        } else if (dynamic_cast<const simkit::CallSimulator*>(sim->get()) != nullptr) {
          target.table = "calls";
          target.stock = false;
        } else if (auto* bank = dynamic_cast<adapters::tochka::TochkaSimulator*>(sim->get())) {
          target.table = "bank_transactions";
          target.stock = false;
          target.compare_status = false;
          if (tochka_ == nullptr) tochka_ = bank;
        }
        targets_.push_back(target);
        described_.push_back(fmt::format("{} ({}): simulator at {}, {} {}, faults {}", s.id(), type,
                                         (*sim)->base_url(), sim_options.orders, target.table,
                                         options_.faults));
        sims_.push_back(std::move(*sim));
      } else {
        described_.push_back(
            fmt::format("{} ({}): no simulator in the demo for this type", s.id(), type));
      }
    }
    if (!site_id_.empty()) {
      described_.push_back(
          fmt::format("{} (webhook): {} signed forms to {}/hooks/{}, 10% sent twice", site_id_,
                      options_.webhooks, daemon_url_, site_id_));
    }
    if (!billing_id_.empty()) {
      described_.push_back(fmt::format(
          "{} (webhook): the invoices the bank payments pay (a company by INN and a deal by "
          "invoice number each), posted to {}/hooks/{}; matching links the payments",
          billing_id_, daemon_url_, billing_id_));
    }
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    client_ = std::make_unique<net::HttpClient>(io_, net::HttpClientOptions{});
    return Status::Ok();
  }

  std::vector<std::string> Describe() const override { return described_; }

  Status Run(const std::atomic<bool>& interrupted, pid_t daemon_pid,
             const std::filesystem::path& data_dir) override {
    auto alive = [&] { return waitpid(daemon_pid, nullptr, WNOHANG) == 0; };
    // 1. Wait for the daemon to be ready.
    const auto ready_deadline = std::chrono::steady_clock::now() + 60s;
    while (Get("/readyz").status != 200) {
      if (interrupted) return Status::Unavailable("interrupted");
      if (!alive()) return Status::Unavailable("the daemon exited during start-up");
      if (std::chrono::steady_clock::now() > ready_deadline) {
        return Status::DeadlineExceeded("the daemon did not become ready within 60s");
      }
      std::this_thread::sleep_for(100ms);
    }
    CRMHUB_RETURN_IF_ERROR(StartFinance(data_dir));
    const auto start = std::chrono::steady_clock::now();
    std::thread poster([this, &interrupted] { PostForms(interrupted); });
    bool pushed = false;
    const bool tty = isatty(STDOUT_FILENO);
    auto last_plain = start - 10s;
    Status result;
    while (true) {
      const auto now = std::chrono::steady_clock::now();
      const auto elapsed = now - start;
      if (interrupted) {
        result = Status::Unavailable("interrupted (Ctrl-C)");
        break;
      }
      if (!alive()) {
        result = Status::Unavailable("the daemon exited unexpectedly");
        break;
      }
      RepeatFailedExchange();
      if (!pushed && elapsed > options_.duration / 3) {
        PushStock();
        pushed = true;
      }
      std::string line = ProgressLine(std::chrono::duration_cast<std::chrono::seconds>(elapsed));
      if (tty) {
        std::printf("\r\033[K%s", line.c_str());
        std::fflush(stdout);
      } else if (now - last_plain >= 5s) {
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
        last_plain = now;
      }
      // After the stories end, give the pipeline a grace period to catch up
      // (a throttled adapter may have been told to wait a minute).
      if (elapsed > options_.duration &&
          (CaughtUp(data_dir) || elapsed > options_.duration + 90s)) {
        break;
      }
      std::this_thread::sleep_for(1s);
    }
    if (tty) std::printf("\n");
    stop_posting_ = true;
    poster.join();
    return result;
  }

  Report Reconcile(const std::filesystem::path& data_dir) override {
    return BuildReport(data_dir, /*with_dead_letters=*/true);
  }

 private:
  // with_dead_letters opens queue.db through the engine: only once the
  // daemon has stopped, never while it is still writing.
  Report BuildReport(const std::filesystem::path& data_dir, bool with_dead_letters) {
    Report report;
    CrmSnapshot crm = ReadCrm(data_dir / "crm.db");
    auto metrics = ParseMetrics(last_metrics_);
    std::map<std::string, std::vector<queue::DeadLetter>> dead;
    if (with_dead_letters) dead = ReadDeadLetters(data_dir);
    auto fill_common = [&](AdapterRow& row) {
      row.duplicates = static_cast<int64_t>(
          MetricSum(metrics, "crmhub_events_duplicate_total", "adapter=\"" + row.adapter + "\""));
      row.retries =
          static_cast<int64_t>(MetricSum(metrics, "crmhub_deliveries_total",
                                         "outcome=\"retry\",target=\"" + row.adapter + "\"") +
                               MetricSum(metrics, "crmhub_upstream_throttled_total", row.adapter));
      std::map<std::string, int> reasons;
      for (const auto& d : dead[row.adapter]) reasons[d.reason.substr(0, 100)]++;
      for (const auto& [r, n] : reasons) {
        row.dead += n;
        row.dead_reasons.push_back(fmt::format("{} × {}", n, r));
      }
    };
    if (!site_id_.empty()) {
      AdapterRow row{.adapter = site_id_, .type = "webhook"};
      row.source_count = static_cast<int64_t>(forms_accepted_.load());
      row.crm_count = crm.leads[site_id_];
      fill_common(row);
      report.rows.push_back(std::move(row));
    }
    for (const Target& t : targets_) {
      AdapterRow row{.adapter = t.id, .type = t.type};
      // external id -> status, as the CRM store should hold it.
      const std::map<std::string, std::string> source = t.sim->OrderStatuses(/*final_only=*/false);
      row.stock_pushed = t.stock ? t.sim->StockItemsAt(kDemoSkus, kDemoStock) : -1;
      row.source_count = static_cast<int64_t>(source.size());
      const auto& held = crm.records[t.table][t.id];
      row.crm_count = static_cast<int64_t>(held.size());
      row.status_match = t.compare_status ? 0 : -1;
      for (const auto& [id, status] : source) {
        auto it = held.find(id);
        if (t.compare_status && it != held.end() && it->second == status) ++row.status_match;
      }
      fill_common(row);
      report.rows.push_back(std::move(row));
    }
    AddFinanceRows(crm, report, fill_common);
    report.all_match = !report.rows.empty();
    for (const auto& r : report.rows) report.all_match = report.all_match && r.match();
    return report;
  }

  static constexpr int kDemoSkus = 50;
  static constexpr int64_t kDemoStock = 7;

  struct CrmSnapshot {
    std::map<std::string, int64_t> leads;  // by source
    // table (products, prices, stock_levels, deals) -> source -> rows.
    std::map<std::string, std::map<std::string, int64_t>> counts;
    int64_t payment_links = 0;  // matching's links of payments to deals
    // table (orders, payments, calls, bank_transactions) -> source -> id ->
    // status (a call's result, a bank transaction's direction).
    std::map<std::string, std::map<std::string, std::map<std::string, std::string>>> records;
  };

  // The rows of 1C's exchange (goods, prices, stock, orders: what 1C's files
  // hold against crm.db), the bank statement, the billing's invoices, and
  // matching (incoming payments of those invoices against their links).
  template <typename FillCommon>
  void AddFinanceRows(const CrmSnapshot& crm, Report& report, FillCommon& fill_common) const {
    auto count = [&](const char* table, const std::string& source) -> int64_t {
      auto t = crm.counts.find(table);
      if (t == crm.counts.end()) return 0;
      auto it = t->second.find(source);
      return it == t->second.end() ? 0 : it->second;
    };
    auto records = [&](const char* table, const std::string& source) -> int64_t {
      auto t = crm.records.find(table);
      if (t == crm.records.end()) return 0;
      auto it = t->second.find(source);
      return it == t->second.end() ? 0 : static_cast<int64_t>(it->second.size());
    };
    if (!onec_id_.empty()) {
      std::string outcome = onec_ == nullptr ? "not started" : onec_->Done(0ms);
      if (!onec_failures_.empty()) {
        outcome += fmt::format(" (run {} of 1C's; before: {})", onec_runs_,
                               fmt::join(onec_failures_, "; "));
      }
      for (const auto& [what, source, crm_count] :
           {std::tuple{"products", onec_sent_.goods, count("products", onec_id_)},
            std::tuple{"prices", onec_sent_.prices, count("prices", onec_id_)},
            std::tuple{"stock", onec_sent_.offers, count("stock_levels", onec_id_)},
            std::tuple{"orders", onec_sent_.documents, records("orders", onec_id_)}}) {
        AdapterRow row{.adapter = onec_id_, .type = "onec-exchange"};
        row.source_count = source;
        row.crm_count = crm_count;
        if (std::string_view(what) == "products") {
          fill_common(row);  // the adapter's duplicates, retries and dead letters: once
          row.note = "1C's exchange: " + outcome;
        }
        row.adapter += std::string(":") + what;
        report.rows.push_back(std::move(row));
      }
    }
    if (!bank_id_.empty()) {
      AdapterRow row{.adapter = bank_id_, .type = "bank-1c"};
      row.source_count = bank_dropped_ ? bank_documents_ + 1 : 0;
      row.crm_count = records("bank_transactions", bank_id_);
      fill_common(row);
      report.rows.push_back(std::move(row));
    }
    if (!billing_id_.empty()) {
      AdapterRow row{.adapter = billing_id_, .type = "webhook"};
      row.source_count = invoices_accepted_;
      row.crm_count = count("deals", billing_id_);
      fill_common(row);
      report.rows.push_back(std::move(row));
      // Every incoming payment of the demo pays an invoice posted above.
      AdapterRow matched{.adapter = "matching", .type = "payment links"};
      if (tochka_ != nullptr) {
        matched.source_count += static_cast<int64_t>(tochka_->OrderStatuses(false).size());
      }
      if (bank_dropped_) matched.source_count += bank_documents_;
      matched.crm_count = crm.payment_links;
      report.rows.push_back(std::move(matched));
    }
  }

  // What the CRM's billing posts: one invoice a payment pays.
  struct Invoice {
    std::string number;
    std::string inn;
    std::string company;
    double amount = 0;
  };

  // Once the daemon is ready: the billing's invoices, the bank statement in
  // the inbox, and 1C's exchange.
  Status StartFinance(const std::filesystem::path& data_dir) {
    std::vector<Invoice> invoices;
    if (tochka_ != nullptr) {
      // Tochka's payments say "Оплата по счету № N": the invoices they pay.
      static const std::regex kNumber("№ ([0-9]+)");
      for (const json& t : tochka_->transactions()) {
        const std::string purpose(JsonString(t, "description").value_or(""));
        const json* payer = JsonObject(t, "DebtorParty");
        const json* amount = JsonObject(t, "Amount");
        std::smatch m;
        if (payer == nullptr || amount == nullptr || !std::regex_search(purpose, m, kNumber)) {
          continue;
        }
        invoices.push_back({.number = m[1].str(),
                            .inn = std::string(JsonString(*payer, "inn").value_or("")),
                            .company = std::string(JsonString(*payer, "name").value_or("")),
                            .amount = JsonNumber(*amount, "amount").value_or(0)});
      }
    }
    if (!bank_id_.empty()) {
      std::string statement = BankStatement(invoices);
      std::error_code ec;
      std::filesystem::create_directories(bank_inbox_, ec);
      const std::filesystem::path name = fmt::format(
          "kl_to_1c-{}.txt",
          std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
              .count());
      // Written under a dot name and renamed: the inbox skips dot names, so
      // the adapter never sees half a file.
      const std::filesystem::path hidden = bank_inbox_ / ("." + name.string());
      std::ofstream out(hidden, std::ios::binary);
      out << statement;
      out.close();
      if (!out) return Status::Internal("cannot write " + hidden.string());
      std::filesystem::rename(hidden, bank_inbox_ / name, ec);
      if (ec) return Status::Internal("cannot rename " + hidden.string() + ": " + ec.message());
      bank_dropped_ = true;
    }
    if (!billing_id_.empty()) {
      std::set<std::string> posted;
      for (const Invoice& invoice : invoices) {
        if (!posted.insert(invoice.number).second) continue;  // a repeated payment
        const std::string body = json{
            {"invoice", invoice.number},
            {"inn", invoice.inn},
            {"company", invoice.company},
            {"amount",
             invoice.amount}}.dump();
        for (int attempt = 0; attempt < 20; ++attempt) {
          net::HeaderMap h;
          h.Set(billing_header_,
                "sha256=" + net::HmacHex(net::HmacAlgorithm::kSha256, billing_secret_, body));
          auto r = Post("/hooks/" + billing_id_, body, std::move(h));
          if (r.status >= 200 && r.status < 300) {
            ++invoices_accepted_;
            break;
          }
          std::this_thread::sleep_for(200ms);
        }
      }
    }
    if (!onec_id_.empty()) {
      const std::filesystem::path files = data_dir / "onec-files";
      std::error_code ec;
      std::filesystem::create_directories(files, ec);
      for (const auto& [name, sample] : kOnecFiles) {
        std::filesystem::copy_file(options_.contracts_dir / "onec/commerceml" / sample,
                                   files / name, std::filesystem::copy_options::overwrite_existing,
                                   ec);
        if (ec) return Status::Internal(fmt::format("copying {}: {}", sample, ec.message()));
      }
      simkit::SimOptions o;
      o.extra = {{"target", daemon_url_ + "/hooks/" + onec_id_},
                 {"files", files.string()},
                 {"query", "yes"}};
      onec_options_ = o;
      onec_ = std::make_unique<adapters::onec_exchange::OnecExchangeSimulator>(o, clock_);
      onec_sent_ = onec_->FilesContents();
      CRMHUB_RETURN_IF_ERROR(
          onec_->Start("127.0.0.1:0").WithContext("starting 1C's exchange for " + onec_id_));
    }
    return Status::Ok();
  }

  // 1C runs its exchange again when one fails (its schedule: here 1, 2, 4,
  // 8, 16, then 30 seconds after each failure, at most kOnecRuns times in
  // all, so that the runs span the catch-up): the daemon may refuse a chunk
  // with 503 while its queue's writer catches up with the start's burst
  // (longer on a loaded machine), and the exchange protocol has no retry of
  // a single request.
  void RepeatFailedExchange() {
    if (onec_ == nullptr || onec_runs_ >= kOnecRuns) return;
    const std::string outcome = onec_->Done(0ms);
    if (!outcome.starts_with("failed")) return;
    const auto now = std::chrono::steady_clock::now();
    if (!onec_failed_at_) onec_failed_at_ = now;
    const auto wait = std::min<std::chrono::seconds>(30s, 1s * (1 << std::min(onec_runs_ - 1, 5)));
    if (now - *onec_failed_at_ < wait) return;
    onec_failed_at_.reset();
    onec_failures_.push_back(outcome);
    onec_.reset();  // joins its thread: the exchange has ended
    onec_ = std::make_unique<adapters::onec_exchange::OnecExchangeSimulator>(onec_options_, clock_);
    ++onec_runs_;
    if (Status s = onec_->Start("127.0.0.1:0"); !s.ok()) {
      onec_failures_.push_back("restart: " + s.message());
    }
  }

  // A 1CClientBankExchange statement (UTF-8, CRLF) of the demo's account for
  // today: bank_documents_ incoming payments of invoices of their own (added
  // to `invoices`) and one outgoing, the balances adding up. Its creation
  // time makes each run's file new to the inbox's done_dir.
  std::string BankStatement(std::vector<Invoice>& invoices) const {
    const int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
            .count();
    const std::time_t t = static_cast<std::time_t>(now_ms / 1000) + 3 * 3600;  // Moscow
    std::tm tm{};
    gmtime_r(&t, &tm);
    char day[16], time[16];
    std::strftime(day, sizeof day, "%d.%m.%Y", &tm);
    std::strftime(time, sizeof time, "%H:%M:%S", &tm);
    auto money = [](int64_t kopecks) {
      return fmt::format("{}.{:02}", kopecks / 100, kopecks % 100);
    };
    std::string docs;
    int64_t credits = 0;
    for (int i = 0; i < bank_documents_; ++i) {
      const int64_t kopecks = 150000 + 1234 * i;
      const std::string inn = fmt::format("78{:08}", i);
      const std::string number = std::to_string(7000 + i);
      const std::string payer = fmt::format("ООО Покупатель {}", i);
      invoices.push_back({.number = number,
                          .inn = inn,
                          .company = payer,
                          .amount = static_cast<double>(kopecks) / 100.0});
      credits += kopecks;
      docs += fmt::format(
          "СекцияДокумент=Платежное поручение\r\nНомер={}\r\nДата={}\r\nСумма={}\r\n"
          "ПлательщикСчет=40702810{:012}\r\nДатаСписано={}\r\nПлательщик={}\r\n"
          "ПлательщикИНН={}\r\nПлательщик1={}\r\nПлательщикРасчСчет=40702810{:012}\r\n"
          "ПлательщикБанк1=ПАО СБЕРБАНК\r\nПлательщикБИК=044525225\r\n"
          "ПлательщикКорсчет=30101810400000000225\r\nПолучательСчет={}\r\n"
          "ДатаПоступило={}\r\nПолучатель=ООО Демо\r\nПолучательИНН=7700000002\r\n"
          "Получатель1=ООО Демо\r\nПолучательРасчСчет={}\r\nПолучательБанк1=АО БАНК\r\n"
          "ПолучательБИК=044525104\r\nПолучательКорсчет=30101810745374525104\r\n"
          "ВидОплаты=01\r\nОчередность=5\r\nНазначениеПлатежа=Оплата по счету № {} от {}, "
          "без НДС\r\nКонецДокумента\r\n",
          300 + i, day, money(kopecks), i, day, payer, inn, payer, i, kBankAccount, day,
          kBankAccount, number, day);
    }
    const int64_t debit = 50000;
    docs += fmt::format(
        "СекцияДокумент=Платежное поручение\r\nНомер=900\r\nДата={0}\r\nСумма={1}\r\n"
        "ПлательщикСчет={2}\r\nДатаСписано={0}\r\nПлательщик=ООО Демо\r\n"
        "ПлательщикИНН=7700000002\r\nПлательщикРасчСчет={2}\r\n"
        "ПолучательСчет=40702810500000000900\r\nПолучатель=ООО Поставщик\r\n"
        "ПолучательИНН=7700000900\r\nПолучательРасчСчет=40702810500000000900\r\n"
        "ВидОплаты=01\r\nОчередность=5\r\nНазначениеПлатежа=Оплата аренды, без НДС\r\n"
        "КонецДокумента\r\n",
        day, money(debit), kBankAccount);
    const int64_t opening = 10000000;
    return fmt::format(
        "1CClientBankExchange\r\nВерсияФормата=1.03\r\nКодировка=Windows\r\n"
        "Отправитель=Демо-банк\r\nПолучатель=1С:Предприятие\r\nДатаСоздания={0}\r\n"
        "ВремяСоздания={1}\r\nДатаНачала={0}\r\nДатаКонца={0}\r\nРасчСчет={2}\r\n"
        "СекцияРасчСчет\r\nДатаНачала={0}\r\nДатаКонца={0}\r\nРасчСчет={2}\r\n"
        "НачальныйОстаток={3}\r\nВсегоПоступило={4}\r\nВсегоСписано={5}\r\n"
        "КонечныйОстаток={6}\r\nКонецРасчСчет\r\n{7}КонецФайла\r\n",
        day, time, kBankAccount, money(opening), money(credits), money(debit),
        money(opening + credits - debit), docs);
  }

  net::OutboundResponse Get(const std::string& path) {
    net::OutboundRequest req;
    req.url = daemon_url_ + path;
    req.timeout = 5s;
    auto r = client_->SendBlocking(std::move(req));
    return r.ok() ? std::move(r).value() : net::OutboundResponse{};
  }

  net::OutboundResponse Post(const std::string& path, std::string body, net::HeaderMap headers) {
    net::OutboundRequest req;
    req.method = "POST";
    req.url = daemon_url_ + path;
    req.body = std::move(body);
    req.headers = std::move(headers);
    req.headers.Set("Content-Type", "application/json");
    req.timeout = 10s;
    auto r = client_->SendBlocking(std::move(req));
    return r.ok() ? std::move(r).value() : net::OutboundResponse{};
  }

  // Website forms spread over the first half of the demo; every tenth is
  // sent a second time, as a browser retry would.
  void PostForms(const std::atomic<bool>& interrupted) {
    if (site_id_.empty()) return;
    const auto gap = options_.duration / 2 / std::max(1, options_.webhooks);
    for (int i = 1; i <= options_.webhooks && !interrupted && !stop_posting_; ++i) {
      json form = {{"id", fmt::format("form-{:05d}", i)},
                   {"name", fmt::format("Покупатель {}", i)},
                   {"phone", fmt::format("8 (916) {:03d}-{:02d}-{:02d}", 100 + i % 900, i % 100,
                                         (i * 7) % 100)},
                   {"email", fmt::format("Buyer{}@Example.com", i)},
                   {"message", "Хочу узнать о доставке"},
                   {"utm_source", i % 2 ? "yandex" : "vk"}};
      const std::string body = form.dump();
      for (int copy = 0; copy < (i % 10 == 0 ? 2 : 1); ++copy) {
        // A sender retries until it gets a 2xx, as real form backends do.
        for (int attempt = 0; attempt < 20 && !interrupted && !stop_posting_; ++attempt) {
          net::HeaderMap h;
          h.Set(site_header_,
                "sha256=" + net::HmacHex(net::HmacAlgorithm::kSha256, site_secret_, body));
          auto r = Post("/hooks/" + site_id_, body, std::move(h));
          if (r.status >= 200 && r.status < 300) {
            if (copy == 0) forms_accepted_++;
            break;
          }
          std::this_thread::sleep_for(200ms);
        }
      }
      std::this_thread::sleep_for(gap);
    }
  }

  // The CRM core sets the stock of 50 SKUs on every marketplace.
  void PushStock() {
    for (const Target& t : targets_) {
      if (!t.stock) continue;
      json items = json::array();
      for (json& item : t.sim->StockCommandItems(kDemoSkus, kDemoStock))
        items.push_back(std::move(item));
      json cmd = {{"target", t.id}, {"command", "set_stock"}, {"items", items}};
      net::HeaderMap h;
      h.Set("Authorization", "Bearer " + admin_token_);
      h.Set("Idempotency-Key", "demo-stock-" + t.id);
      auto r = Post("/api/v1/commands", cmd.dump(), std::move(h));
      push_results_.push_back(fmt::format("{}: HTTP {} {}", t.id, r.status, r.body.substr(0, 120)));
    }
  }

  std::string ProgressLine(std::chrono::seconds elapsed) {
    auto r = Get("/metrics");
    if (r.status == 200) last_metrics_ = r.body;
    auto m = ParseMetrics(last_metrics_);
    std::string line = fmt::format("[{:>3}s]", elapsed.count());
    auto add = [&](const std::string& id) {
      const double received =
          MetricSum(m, "crmhub_events_received_total", "adapter=\"" + id + "\"");
      const double depth = Metric(m, "crmhub_queue_depth{lane=\"in." + id + "\"}") +
                           Metric(m, "crmhub_queue_depth{lane=\"out." + id + "\"}");
      const double dead = Metric(m, "crmhub_dead_letters{lane=\"in." + id + "\"}") +
                          Metric(m, "crmhub_dead_letters{lane=\"out." + id + "\"}");
      const double throttled = MetricSum(m, "crmhub_upstream_throttled_total", id);
      line += fmt::format("  {}: recv {:.0f} queued {:.0f} dead {:.0f}", id, received, depth, dead);
      if (throttled > 0) line += fmt::format(" thr {:.0f}", throttled);
    };
    if (!site_id_.empty()) add(site_id_);
    for (const Target& t : targets_) add(t.id);
    for (const std::string* id : {&onec_id_, &bank_id_, &billing_id_}) {
      if (!id->empty()) add(*id);
    }
    line += fmt::format("  | crm ok {:.0f} retry {:.0f}",
                        MetricSum(m, "crmhub_deliveries_total", "outcome=\"ok\""),
                        MetricSum(m, "crmhub_deliveries_total", "outcome=\"retry\""));
    return line;
  }

  // Caught up: nothing queued, every form answered, and crm.db agrees with
  // every simulator (orders and their current statuses).
  bool CaughtUp(const std::filesystem::path& data_dir) {
    auto m = ParseMetrics(last_metrics_);
    if (MetricSum(m, "crmhub_queue_depth", "lane=") != 0 || !forms_done()) return false;
    if (onec_ != nullptr && onec_->Done(0ms) == "running") return false;
    return BuildReport(data_dir, /*with_dead_letters=*/false).all_match;
  }
  bool forms_done() const {
    return forms_accepted_.load() >= options_.webhooks || site_id_.empty();
  }

  static CrmSnapshot ReadCrm(const std::filesystem::path& db) {
    CrmSnapshot snap;
    sqlite3* conn = nullptr;
    if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      sqlite3_close(conn);
      return snap;
    }
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(conn, "SELECT source, COUNT(*) FROM leads GROUP BY source", -1, &st,
                           nullptr) == SQLITE_OK) {
      while (sqlite3_step(st) == SQLITE_ROW) {
        snap.leads[reinterpret_cast<const char*>(sqlite3_column_text(st, 0))] =
            sqlite3_column_int64(st, 1);
      }
    }
    sqlite3_finalize(st);
    for (const char* table : {"products", "prices", "stock_levels", "deals"}) {
      const std::string sql = fmt::format("SELECT source, COUNT(*) FROM {} GROUP BY source", table);
      if (sqlite3_prepare_v2(conn, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
          snap.counts[table][reinterpret_cast<const char*>(sqlite3_column_text(st, 0))] =
              sqlite3_column_int64(st, 1);
        }
      }
      sqlite3_finalize(st);
    }
    // The matcher makes its table when it first runs: none yet, no links.
    if (sqlite3_prepare_v2(conn, "SELECT COUNT(*) FROM payment_links", -1, &st, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      snap.payment_links = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    for (const auto& [table, status] :
         {std::pair{"orders", "status"}, std::pair{"payments", "status"},
          std::pair{"calls", "json_extract(fields, '$.result')"},
          std::pair{"bank_transactions", "direction"}}) {
      const std::string sql = fmt::format("SELECT source, external_id, {} FROM {}", status, table);
      if (sqlite3_prepare_v2(conn, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
          auto text = [&](int c) {
            const unsigned char* t = sqlite3_column_text(st, c);
            return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
          };
          snap.records[table][text(0)][text(1)] = text(2);
        }
      }
      sqlite3_finalize(st);
    }
    sqlite3_close(conn);
    return snap;
  }

  std::map<std::string, std::vector<queue::DeadLetter>> ReadDeadLetters(
      const std::filesystem::path& dir) {
    std::map<std::string, std::vector<queue::DeadLetter>> out;
    queue::SqliteQueueOptions o;
    o.data_dir = dir;
    auto q = queue::SqliteQueue::Open(clock_, o);
    if (!q.ok()) return out;
    queue::DeadLetterFilter f;
    f.limit = 1000;
    while (true) {
      auto page = (*q)->ListDeadLetters(f);
      if (!page.ok() || page->empty()) break;
      for (auto& d : *page) {
        f.after_id = d.id;
        std::string lane = d.lane;
        std::string id = lane.substr(lane.find('.') + 1);
        out[id].push_back(std::move(d));
      }
    }
    return out;
  }

  WorldOptions options_;
  Clock& clock_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      io_.get_executor()};
  std::vector<std::thread> threads_;
  std::unique_ptr<net::HttpClient> client_;
  std::vector<std::unique_ptr<simkit::Simulator>> sims_;
  std::vector<Target> targets_;
  std::vector<std::string> described_;
  std::vector<std::string> push_results_;
  std::string daemon_url_, admin_token_, site_id_, site_secret_, site_header_;
  std::string last_metrics_;
  std::atomic<int> forms_accepted_{0};
  std::atomic<bool> stop_posting_{false};

  // 1C's exchange (started in Run) and what its files hold.
  std::string onec_id_;
  std::unique_ptr<adapters::onec_exchange::OnecExchangeSimulator> onec_;
  simkit::SimOptions onec_options_;
  static constexpr int kOnecRuns = 8;
  int onec_runs_ = 1;
  // When the current run was first seen failed (its repeat waits).
  std::optional<std::chrono::steady_clock::time_point> onec_failed_at_;
  std::vector<std::string> onec_failures_;  // how the earlier runs ended
  adapters::onec_exchange::OnecExchangeSimulator::Contents onec_sent_;
  // The bank-1c adapter's inbox; the statement's incoming documents (one
  // outgoing besides).
  std::string bank_id_;
  std::filesystem::path bank_inbox_;
  int bank_documents_ = 0;
  bool bank_dropped_ = false;
  // The billing webhook and the invoices it accepted (distinct).
  std::string billing_id_, billing_secret_, billing_header_;
  int64_t invoices_accepted_ = 0;
  adapters::tochka::TochkaSimulator* tochka_ = nullptr;  // owned by sims_
};

}  // namespace

Result<std::unique_ptr<World>> World::Create(const config::Config& config, WorldOptions options,
                                             Clock& clock) {
  auto world = std::make_unique<DemoWorld>(std::move(options), clock);
  CRMHUB_RETURN_IF_ERROR(world->Init(config));
  return std::unique_ptr<World>(std::move(world));
}

std::string RenderReport(const Report& report, const std::filesystem::path& data_dir,
                         int daemon_exit) {
  std::string out =
      "\nReconciliation (source = what the outside system has: orders, forms, payments, calls; "
      "crm = crm.db)\n\n";
  if (report.partial) {
    out += fmt::format(
        "  PARTIAL: the demo stopped before its stories ended ({}); the figures are what had "
        "arrived by then, so a difference below is expected and says nothing about the hub.\n\n",
        report.stopped_because);
  }
  out += fmt::format("  {:<27} {:<13} {:>7} {:>7} {:>9} {:>6} {:>8} {:>5} {:>7}  {}\n", "adapter",
                     "type", "source", "crm", "status=", "dups", "retries", "dead", "stock", "");
  for (const AdapterRow& r : report.rows) {
    out += fmt::format("  {:<27} {:<13} {:>7} {:>7} {:>9} {:>6} {:>8} {:>5} {:>7}  {}\n", r.adapter,
                       r.type, r.source_count, r.crm_count,
                       r.status_match < 0 ? std::string("-") : std::to_string(r.status_match),
                       r.duplicates, r.retries, r.dead,
                       r.stock_pushed < 0 ? std::string("-") : fmt::format("{}/50", r.stock_pushed),
                       r.match()        ? "match"
                       : report.partial ? "differs (partial)"
                                        : "DIFFERENT");
    for (const std::string& reason : r.dead_reasons) out += fmt::format("      dead: {}\n", reason);
    if (!r.note.empty()) out += fmt::format("      {}\n", r.note);
  }
  out +=
      fmt::format("\n  {}; the daemon exited with {}.\n",
                  report.all_match ? "Every adapter reconciles"
                  : report.partial ? "Some adapters differ (partial figures: the demo was stopped)"
                                   : "Some adapters differ",
                  daemon_exit);
  const std::string db = (data_dir / "crm.db").string();
  out += fmt::format(
      "\nThe CRM store is {}. Look inside:\n"
      "  sqlite3 {} \"SELECT source, status, COUNT(*) FROM orders GROUP BY 1, 2\"\n"
      "  sqlite3 {} \"SELECT kind, COUNT(*) FROM journal GROUP BY kind\"\n"
      "  sqlite3 {} \"SELECT external_id, fields FROM leads LIMIT 3\"\n"
      "Queue and dead letters: crmhub queue stats --data-dir {}; crmhub dlq list --data-dir {}\n",
      db, db, db, db, data_dir.string(), data_dir.string());
  return out;
}

}  // namespace crmhub::demo
