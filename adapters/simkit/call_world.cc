#include "adapters/simkit/call_world.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <string>

#include "adapters/simkit/world.h"
#include "net/api_client.h"

namespace crmhub::simkit {

using std::chrono::seconds;

std::vector<SimCall> CreateCalls(const SimOptions& options, const Clock& clock) {
  std::vector<SimCall> calls;
  CreateOrders(options, clock, [&](int i, SystemTime created, SeededRng& rng) {
    SimCall c;
    c.index = i;
    c.incoming = rng.Chance(0.7);
    c.answered = rng.Chance(0.65);
    // A few callers call more than once: numbers from a pool of n / 2.
    c.customer = fmt::format("7916{:07d}", rng.Int(0, std::max(1, options.orders / 2)));
    c.line = fmt::format("7495{:07d}", 1000000 + rng.Int(0, 2));
    c.extension = std::to_string(101 + rng.Int(0, 4));
    c.start = std::chrono::time_point_cast<seconds>(created);
    c.answer = c.answered ? c.start + seconds(rng.Int(2, 15)) : c.start;
    c.end = (c.answered ? c.answer : c.start) + seconds(rng.Int(5, 120));
    calls.push_back(std::move(c));
  });
  return calls;
}

std::optional<std::map<std::string, std::string>> DecodeForm(std::string_view body) {
  auto decode = [](std::string_view in) -> std::optional<std::string> {
    std::string out;
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] == '+') {
        out += ' ';
      } else if (in[i] != '%') {
        out += in[i];
      } else if (i + 2 < in.size() + 0 && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
                 std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
        auto hex = [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10;
        };
        out += static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2]));
        i += 2;
      } else {
        return std::nullopt;
      }
    }
    return out;
  };
  std::map<std::string, std::string> fields;
  while (!body.empty()) {
    const size_t amp = std::min(body.find('&'), body.size());
    const std::string_view pair = body.substr(0, amp);
    body.remove_prefix(std::min(amp + 1, body.size()));
    if (pair.empty()) continue;
    const size_t eq = std::min(pair.find('='), pair.size());
    auto name = decode(pair.substr(0, eq));
    auto value = decode(pair.substr(std::min(eq + 1, pair.size())));
    if (!name || !value) return std::nullopt;
    fields.emplace(std::move(*name), std::move(*value));
  }
  return fields;
}

std::string EncodeForm(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += net::UrlEncode(name) + "=" + net::UrlEncode(value);
  }
  return out;
}

CredentialPair ReadCredentialPair(const SimOptions& options, std::string_view default_key,
                                  std::string_view default_secret) {
  if (options.credentials.empty()) return {std::string(default_key), std::string(default_secret)};
  const std::string& given = options.credentials[0];
  const size_t colon = given.find(':');
  if (colon == std::string::npos) return {given, ""};
  return {given.substr(0, colon), given.substr(colon + 1)};
}

Status CheckCredentialPair(const SimOptions& options, std::string_view system,
                           std::string_view form) {
  const CredentialPair pair = ReadCredentialPair(options, "k", "s");
  if (!pair.key.empty() && !pair.secret.empty()) return Status::Ok();
  return Status::InvalidArgument(fmt::format("{} simulator: --tokens takes {}", system, form));
}

CallPusher::CallPusher(std::string target, std::vector<Push> pushes, Policy policy, uint64_t seed,
                       Clock& clock)
    : target_(std::move(target)),
      policy_(policy),
      clock_(clock),
      rng_(seed),
      guard_(io_.get_executor()) {
  std::stable_sort(pushes.begin(), pushes.end(),
                   [](const Push& a, const Push& b) { return a.at < b.at; });
  for (Push& p : pushes) {
    const SystemTime due = p.at;
    pending_.push_back({std::move(p), due, 0});
  }
  net::HttpClientOptions options;
  options.request_timeout = policy_.timeout;
  options.connect_timeout = policy_.timeout;
  client_ = std::make_unique<net::HttpClient>(io_, options);
  io_thread_ = std::thread([this] { io_.run(); });
}

CallPusher::~CallPusher() {
  Stop();
  guard_.reset();
  client_.reset();
  io_.stop();
  io_thread_.join();
}

void CallPusher::Start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
}

void CallPusher::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

bool CallPusher::Done() const {
  std::lock_guard lock(mu_);
  return pending_.empty() && in_flight_ == 0;
}

PushStats CallPusher::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool CallPusher::Send(const Push& p) {
  net::OutboundRequest request;
  request.method = "POST";
  request.url = target_ + p.path;
  request.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  for (const auto& [name, value] : p.headers) request.headers.Set(name, value);
  request.body = p.body;
  net::OutboundResult answer = client_->SendBlocking(std::move(request));
  return answer.ok() && answer->status == 200;
}

void CallPusher::Run() {
  while (!stop_) {
    std::optional<Pending> next;
    {
      std::lock_guard lock(mu_);
      auto due = std::min_element(pending_.begin(), pending_.end(),
                                  [](const Pending& a, const Pending& b) { return a.due < b.due; });
      if (due != pending_.end() && due->due <= clock_.Now()) {
        // Out of order: another push already due goes first.
        auto other = std::find_if(pending_.begin(), pending_.end(), [&](const Pending& p) {
          return &p != &*due && p.due <= clock_.Now();
        });
        if (other != pending_.end() && rng_.Chance(policy_.reorder_share)) {
          due = other;
          ++stats_.reordered;
        }
        next = std::move(*due);
        pending_.erase(due);
        ++in_flight_;
      }
    }
    if (!next) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    const bool ok = Send(next->push);
    bool duplicate = false;
    {
      std::lock_guard lock(mu_);
      --in_flight_;
      ++stats_.sent;
      if (next->attempts > 0) ++stats_.retried;
      ++next->attempts;
      if (ok) {
        ++stats_.delivered;
        duplicate = rng_.Chance(policy_.duplicate_share);
        if (duplicate) {
          ++stats_.duplicated;
          ++stats_.sent;
        }
      } else if (next->attempts >= policy_.max_attempts) {
        ++stats_.abandoned;
      } else {
        const int64_t backoff =
            std::min<int64_t>(30, int64_t{1} << std::min(next->attempts - 1, 5));
        next->due = clock_.Now() + seconds(backoff);
        pending_.push_back(std::move(*next));
        continue;
      }
    }
    if (duplicate) Send(next->push);  // delivered already: the answer does not matter
  }
}

CallSimulator::CallSimulator(const SimOptions& options, Clock& clock, uint64_t salt)
    : PipelineSimulator(options.io_threads),
      target_([&] {
        auto it = options.extra.find("target");
        std::string t = it == options.extra.end() ? std::string() : it->second;
        while (!t.empty() && t.back() == '/') t.pop_back();
        return t;
      }()),
      faults_(options.faults),
      seed_(options.seed ^ salt),
      clock_(clock),
      calls_(CreateCalls(options, clock)) {}

CallSimulator::~CallSimulator() {
  if (pusher_) pusher_->Stop();
}

Status CallSimulator::Start(const std::string& listen) {
  if (Status st = PipelineSimulator::Start(listen); !st.ok()) return st;
  if (!target_.empty() && !pusher_) {
    pusher_ = std::make_unique<CallPusher>(
        target_, Pushes(),
        CallPusher::Policy{.duplicate_share = faults_.dup,
                           .reorder_share = faults_.empty() ? 0.0 : 0.2},
        seed_, clock_);
    pusher_->Start();
  }
  return Status::Ok();
}

void CallSimulator::Stop() {
  if (pusher_) pusher_->Stop();
  PipelineSimulator::Stop();
}

SystemTime CallSimulator::AllFinalAt() const {
  SystemTime last{};
  for (const SimCall& c : calls_) last = std::max(last, c.end + LastWordAfterEnd());
  return last;
}

bool CallSimulator::PushesDone() const { return !pusher_ || pusher_->Done(); }

PushStats CallSimulator::Stats() const { return pusher_ ? pusher_->Stats() : PushStats{}; }

std::map<std::string, std::string> CallSimulator::OrderStatuses(bool final_only) const {
  std::map<std::string, std::string> out;
  const SystemTime now = clock_.Now();
  for (const SimCall& c : calls_) {
    if (!final_only && c.end + LastWordAfterEnd() > now) continue;
    out[CallId(c)] = c.answered ? "answered" : "missed";
  }
  return out;
}

std::string CallSimulator::StateJson() const {
  const PushStats s = Stats();
  return nlohmann::json{{"calls", calls_.size()},
                        {"pushes",
                         {{"sent", s.sent},
                          {"delivered", s.delivered},
                          {"retried", s.retried},
                          {"duplicated", s.duplicated},
                          {"reordered", s.reordered},
                          {"abandoned", s.abandoned}}}}
      .dump();
}

}  // namespace crmhub::simkit
