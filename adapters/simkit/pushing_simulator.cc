#include "adapters/simkit/pushing_simulator.h"

#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

namespace crmhub::simkit {

using std::chrono::seconds;

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
  return answer.ok() && answer->status == 200 &&
         (p.expect_body.empty() || answer->body == p.expect_body);
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

PushingSimulator::PushingSimulator(const SimOptions& options, Clock& clock, uint64_t salt)
    : PipelineSimulator(options.io_threads),
      target_([&] {
        auto it = options.extra.find("target");
        std::string t = it == options.extra.end() ? std::string() : it->second;
        while (!t.empty() && t.back() == '/') t.pop_back();
        return t;
      }()),
      faults_(options.faults),
      seed_(options.seed ^ salt),
      clock_(clock) {}

PushingSimulator::~PushingSimulator() {
  if (pusher_) pusher_->Stop();
}

Status PushingSimulator::Start(const std::string& listen) {
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

void PushingSimulator::Stop() {
  if (pusher_) pusher_->Stop();
  PipelineSimulator::Stop();
}

bool PushingSimulator::PushesDone() const { return !pusher_ || pusher_->Done(); }

PushStats PushingSimulator::Stats() const { return pusher_ ? pusher_->Stats() : PushStats{}; }

std::string PushingSimulator::PushStateJson(std::string_view what, size_t count) const {
  const PushStats s = Stats();
  return nlohmann::json{{what, count},
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
