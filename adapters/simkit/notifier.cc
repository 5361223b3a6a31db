#include "adapters/simkit/notifier.h"

#include <utility>

namespace crmhub::simkit {

Notifier::Notifier(std::chrono::milliseconds timeout) : guard_(io_.get_executor()) {
  net::HttpClientOptions options;
  options.request_timeout = timeout;
  options.connect_timeout = timeout;
  client_ = std::make_unique<net::HttpClient>(io_, options);
  thread_ = std::thread([this] { io_.run(); });
}

Notifier::~Notifier() {
  guard_.reset();
  client_.reset();
  io_.stop();
  thread_.join();
}

Result<int> Notifier::Post(const std::string& url, std::string json_body) {
  net::OutboundRequest request;
  request.method = "POST";
  request.url = url;
  request.headers.Set("Content-Type", "application/json");
  request.body = std::move(json_body);
  net::OutboundResult answer = client_->SendBlocking(std::move(request));
  if (!answer.ok()) return answer.status();
  return answer->status;
}

net::OutboundResult Notifier::Send(net::OutboundRequest request) {
  return client_->SendBlocking(std::move(request));
}

}  // namespace crmhub::simkit
