#include "adapters/simkit/fault_responder.h"

#include <vector>

namespace crmhub::simkit {

net::HttpResponse MalformedJson(std::string_view valid_json) {
  std::string body(valid_json.substr(0, valid_json.size() / 2));
  // Half of "{}" is "{", still invalid; make sure an empty answer is too.
  body += "{\"truncated";
  return net::HttpResponse::Json(200, std::move(body));
}

net::HttpResponse JsonWithHeaders(int status, std::string body,
                                  const std::vector<std::pair<std::string, std::string>>& headers) {
  net::HttpResponse r = net::HttpResponse::Json(status, std::move(body));
  for (const auto& [name, value] : headers) r.headers.Set(name, value);
  return r;
}

HeldResponses::HeldResponses(boost::asio::io_context& io)
    : io_(io), state_(std::make_shared<State>()) {}

HeldResponses::~HeldResponses() { Stop(); }

void HeldResponses::AnswerLater(net::Responder respond, net::HttpResponse response,
                                std::chrono::milliseconds delay) {
  std::unique_lock lock(state_->mu);
  if (state_->stopped) {
    lock.unlock();
    respond(net::HttpResponse::Error(503, "unavailable", "simulator stopping"));
    return;
  }
  uint64_t id = state_->next_id++;
  auto timer = std::make_shared<boost::asio::steady_timer>(io_, delay);
  state_->held.emplace(id, Held{timer, std::move(respond), std::move(response)});
  lock.unlock();
  std::weak_ptr<State> weak = state_;
  timer->async_wait([weak, id](const boost::system::error_code& ec) {
    auto state = weak.lock();
    if (!ec && state) Fire(state, id);
  });
}

void HeldResponses::Fire(const std::shared_ptr<State>& state, uint64_t id) {
  Held h;
  {
    std::lock_guard lock(state->mu);
    auto it = state->held.find(id);
    if (it == state->held.end()) return;
    h = std::move(it->second);
    state->held.erase(it);
  }
  h.respond(std::move(h.response));
}

void HeldResponses::Stop() {
  std::map<uint64_t, Held> held;
  {
    std::lock_guard lock(state_->mu);
    state_->stopped = true;
    held.swap(state_->held);
  }
  for (auto& [id, h] : held) {
    h.timer->cancel();
    h.respond(net::HttpResponse::Error(503, "unavailable", "simulator stopping"));
  }
}

size_t HeldResponses::held() const {
  std::lock_guard lock(state_->mu);
  return state_->held.size();
}

}  // namespace crmhub::simkit
