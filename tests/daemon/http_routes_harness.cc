#include "tests/daemon/http_routes_harness.h"

#include <stdlib.h>

#include <future>
#include <sstream>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace crmhub::daemon::testing {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

constexpr auto kDeadline = std::chrono::seconds(20);

void FaultQueue::Hold() {
  std::lock_guard lock(mu_);
  hold_ = true;
}

void FaultQueue::Release() {
  std::vector<std::pair<std::vector<queue::NewMessage>, EnqueueCallback>> parked;
  {
    std::lock_guard lock(mu_);
    hold_ = false;
    parked.swap(parked_);
  }
  for (auto& [messages, done] : parked) inner().EnqueueAsync(std::move(messages), std::move(done));
}

bool FaultQueue::WaitParked(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return parked_.size() >= n; });
}

void FaultQueue::EnqueueAsync(std::vector<queue::NewMessage> messages, EnqueueCallback done) {
  {
    std::lock_guard lock(mu_);
    if (hold_) {
      parked_.emplace_back(std::move(messages), std::move(done));
      cv_.notify_all();
      return;
    }
  }
  inner().EnqueueAsync(std::move(messages), std::move(done));
}

Answer Fetch(uint16_t port, const std::string& method, const std::string& target,
             const std::string& body,
             const std::vector<std::pair<std::string, std::string>>& headers) {
  Answer answer;
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(kDeadline);
    stream.connect(tcp::endpoint(boost::asio::ip::address_v4::loopback(), port));
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::connection, "close");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    beast::error_code ec;
    http::write(stream, req, ec);  // the server may answer 413 before reading it all
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(stream, buffer, parser);
    auto& res = parser.get();
    answer.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      answer.headers[name] = std::string(f.value());
    }
    answer.body = res.body();
  } catch (const std::exception&) {
    answer.status = 0;
  }
  return answer;
}

Harness::Harness(const std::string& vfs_name,
                 const std::function<void(queue::SqliteQueueOptions&)>& adjust) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "crmhub-http-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  queue::SqliteQueueOptions qo;
  qo.data_dir = dir_;
  qo.rng_seed = 1;
  qo.vfs_name = vfs_name;
  if (adjust) adjust(qo);
  auto q = queue::SqliteQueue::Open(clock, qo);
  if (!q.ok()) throw std::runtime_error("queue: " + q.status().ToString());
  sqlite = std::move(q).value();
  queue = std::make_unique<FaultQueue>(*sqlite);
  options.idempotency_db = dir_ / "idempotency.db";
  options.admin_access = AdminAccess({{"admin", Secret("admin-token-123"), {Scope::kAdmin}}});
  options.audit_db = dir_ / "audit.db";
  deps.queue = queue.get();
  deps.metrics = &metrics;
  deps.clock = &clock;
  deps.find_adapter = [this](std::string_view id) -> std::shared_ptr<adapters::Adapter> {
    std::lock_guard lock(adapters_mu_);
    auto it = adapters_.find(id);
    return it == adapters_.end() ? nullptr : it->second;
  };
}

Harness::~Harness() {
  if (server_) server_->Stop();
  io_.stop();
  for (auto& t : threads_) t.join();
  server_.reset();
  if (queue) queue->Release();
  sqlite.reset();  // answers pending enqueues before the router goes
  routes.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void Harness::AddAdapter(std::shared_ptr<adapters::Adapter> adapter) {
  std::lock_guard lock(adapters_mu_);
  const std::string id = adapter->id();
  adapters_[id] = std::move(adapter);
}

void Harness::Start(bool serve) {
  auto r = HttpRoutes::Create(deps, options);
  if (!r.ok()) throw std::runtime_error("routes: " + r.status().ToString());
  routes = std::move(r).value();
  if (!serve) return;
  net::HttpServerOptions so;
  so.body_limit_for = routes->BodyLimitFunction();
  so.screen_headers = routes->ScreenFunction(listener);
  server_ = std::make_unique<net::HttpServer>(io_, so, routes->Handler(listener));
  Status s = server_->Listen("127.0.0.1:0");
  if (!s.ok()) throw std::runtime_error("listen: " + s.ToString());
  port = server_->port();
  for (int i = 0; i < 2; ++i) {
    threads_.emplace_back([this] {
      auto guard = boost::asio::make_work_guard(io_);
      io_.run();
    });
  }
}

Answer Harness::Call(net::HttpRequest request) {
  auto promise = std::make_shared<std::promise<net::HttpResponse>>();
  auto future = promise->get_future();
  routes->Handle(std::move(request),
                 [promise](net::HttpResponse r) { promise->set_value(std::move(r)); });
  Answer a;
  if (future.wait_for(kDeadline) != std::future_status::ready) return a;
  net::HttpResponse r = future.get();
  a.status = r.status;
  for (const auto& [k, v] : r.headers.entries()) {
    std::string name = k;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    a.headers[name] = v;
  }
  a.body = r.body;
  return a;
}

Answer Harness::Http(const std::string& method, const std::string& target, const std::string& body,
                     const std::vector<std::pair<std::string, std::string>>& headers) {
  return Fetch(port, method, target, body, headers);
}

int FillPendingBound(queue::Queue& q, const std::string& lane, int max_calls) {
  // A refusal can also come while the writer is merely busy for a moment
  // (it has not yet taken what waits): the bound counts as full once ten
  // tries 20 ms apart are all refused.
  int taken = 0;
  int refused_in_a_row = 0;
  for (int i = 0; i < max_calls && refused_in_a_row < 10; ++i) {
    queue::NewMessage m;
    m.lane = lane;
    m.source = "fill";
    m.idempotency_key = "fill-" + std::to_string(i);
    m.payload = "{}";
    // A refusal is answered before EnqueueAsync returns (queue.h); the
    // others are answered later, on the engine's thread.
    auto refused = std::make_shared<std::atomic<bool>>(false);
    q.EnqueueAsync({std::move(m)}, [refused](Result<std::vector<queue::EnqueueOutcome>> r) {
      if (!r.ok() && r.status().code() == StatusCode::kResourceExhausted) refused->store(true);
    });
    if (refused->load()) {
      ++refused_in_a_row;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } else {
      refused_in_a_row = 0;
      ++taken;
    }
  }
  return refused_in_a_row >= 10 ? taken : -1;
}

std::vector<queue::Message> Harness::Drain(const std::string& lane) {
  std::vector<queue::Message> out;
  for (;;) {
    auto leased = sqlite->Lease(lane, 1000, std::chrono::minutes(10));
    if (!leased.ok()) throw std::runtime_error("lease: " + leased.status().ToString());
    if (leased->empty()) break;
    for (auto& l : *leased) out.push_back(std::move(l.message));
  }
  return out;
}

double Harness::MetricValue(const std::string& series) {
  std::istringstream in(metrics.RenderPrometheus());
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return 0;
}

}  // namespace crmhub::daemon::testing
