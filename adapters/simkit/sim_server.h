#pragma once
// SimServer: the HTTP side every marketplace simulator shares: a Beast
// server on its own io_context and threads, and the held (slow, timed-out)
// answers of the fault knobs. A simulator owns one and gives it the handler
// that speaks its marketplace's API.
//
// Thread-safety: Start/Stop from the owning thread; held() from the handler.

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "adapters/simkit/fault_responder.h"
#include "base/status.h"
#include "net/http_server.h"

namespace crmhub::simkit {

class SimServer {
 public:
  SimServer() : held_(std::make_unique<HeldResponses>(io_)) {}
  ~SimServer() { Stop(); }
  SimServer(const SimServer&) = delete;
  SimServer& operator=(const SimServer&) = delete;

  // Listens on `listen` ("127.0.0.1:0" for any port) and answers with
  // `handler` on `io_threads` threads. `server_header` names the simulator.
  Status Start(const std::string& listen, const std::string& server_header, int io_threads,
               net::HttpHandler handler);
  // Answers what is still held with 503, stops the server and joins;
  // idempotent.
  void Stop();

  uint16_t port() const { return server_ ? server_->port() : 0; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }
  // Held answers wait on the server's io_context: before Start (a handler
  // called without a socket) they wait for Stop, which answers them 503.
  HeldResponses& held() { return *held_; }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<net::HttpServer> server_;
  std::unique_ptr<HeldResponses> held_;
  std::vector<std::thread> threads_;
  bool started_ = false;
};

}  // namespace crmhub::simkit
