#pragma once
// An HttpClient with its own io_context on a background thread, for tests
// that drive an adapter's blocking calls against a simulator.

#include <chrono>
#include <memory>
#include <string_view>
#include <thread>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "net/http_client.h"
#include "net/upstream.h"

namespace crmhub::testing {

class ClientThread {
 public:
  explicit ClientThread(std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : guard_(io_.get_executor()) {
    net::HttpClientOptions options;
    options.request_timeout = timeout;
    options.connect_timeout = std::chrono::seconds(5);
    client_ = std::make_unique<net::HttpClient>(io_, options);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ClientThread() {
    guard_.reset();
    client_.reset();
    io_.stop();
    thread_.join();
  }
  // A transport that sends each request with the client, blocking.
  net::Transport transport() {
    return [c = client_.get()](std::string_view, net::OutboundRequest r) {
      return c->SendBlocking(std::move(r));
    };
  }
  net::HttpClient& client() { return *client_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::unique_ptr<net::HttpClient> client_;
  std::thread thread_;
};

}  // namespace crmhub::testing
